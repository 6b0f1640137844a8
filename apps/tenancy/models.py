import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.common.models import TimeStampedModel
from apps.common.time_zones import validate_time_zone
from apps.tenancy.scoping import WorkspaceOwnedModel


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return [Role.VIEWER, Role.EDITOR, Role.OWNER].index(self)

    def at_least(self, other: "Role") -> bool:
        return self.rank >= Role(other).rank


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person. Email is the login; there is no username."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    last_workspace = models.ForeignKey(
        "tenancy.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name or self.email.split("@")[0]


RESERVED_SLUGS = {"new", "admin", "api", "static", "accounts", "settings", "w", "invitations", "healthz"}

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


class Workspace(TimeStampedModel):
    """The tenant: connections, models, syncs and runs all belong to one workspace."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    # The zone the dashboard shows times and days in, and new schedules start in (an IANA name).
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    def __str__(self) -> str:
        return self.name


class Membership(WorkspaceOwnedModel, TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def can(self, role: Role) -> bool:
        return Role(self.role).at_least(role)


INVITATION_LIFETIME = timedelta(days=7)


def _hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


class Invitation(WorkspaceOwnedModel, TimeStampedModel):
    """An email invitation. Only the hash of its token is stored; the link in the email carries the token."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    @staticmethod
    def new_token() -> tuple[str, str]:
        raw = secrets.token_urlsafe(32)
        return raw, _hash_token(raw)

    @staticmethod
    def hash_token(raw_token: str) -> str:
        return _hash_token(raw_token)

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"


class AuditVia(models.TextChoices):
    DASHBOARD = "dashboard", "the dashboard"
    API = "api", "the API"
    APPLY = "apply", "syncline apply"
    SYSTEM = "system", "Syncline"


class AuditAction(models.TextChoices):
    CREATED = "created", "created"
    CHANGED = "changed", "changed"
    DELETED = "deleted", "deleted"


class AuditEvent(WorkspaceOwnedModel):
    """One change to a workspace's object, by whom and through what (apps/tenancy/audit.py records them).
    `changes` maps a field to [old, new]; a secret is only ever recorded as changed, never with a value.
    The object is named by kind and id (and its name then), not by a foreign key: a deleted object's
    history stays."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)  # the user's email or the API key's name
    via = models.CharField(max_length=10, choices=AuditVia.choices)
    object_kind = models.CharField(max_length=20)  # connection | model | sync | workspace
    object_id = models.BigIntegerField()
    object_name = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["workspace", "object_kind", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.object_kind} {self.object_name} {self.action} by {self.actor_label} via {self.via}"
