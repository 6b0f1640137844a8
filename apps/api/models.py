import hashlib
import secrets

from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel
from apps.tenancy.models import Role
from apps.tenancy.scoping import WorkspaceOwnedModel

# What a key may do, in the members' words: a viewer key reads, an editor key also creates, changes, deletes
# and triggers. (No owner keys: nothing in the API needs an owner.)
KEY_ROLES = [
    (Role.VIEWER.value, "Viewer: read only"),
    (Role.EDITOR.value, "Editor: read, change and trigger"),
]

# Recognisable in logs and by secret scanners; the rest is 256 bits of randomness.
SECRET_PREFIX = "sl_"  # noqa: S105 (a public marker, not a secret)
VISIBLE_CHARS = len(SECRET_PREFIX) + 8


def hash_secret(secret: str) -> str:
    """A plain SHA-256 is enough: the secret is random and long, so there is nothing to guess or salt."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class ApiKey(WorkspaceOwnedModel, TimeStampedModel):
    """A workspace's key to the REST API. Only the hash of the secret is stored; the secret is shown once,
    when the key is created. The first characters (`prefix`) are kept so people can tell keys apart."""

    name = models.CharField(max_length=100)
    # Keys made before roles existed could trigger runs: they are editor keys.
    role = models.CharField(max_length=10, choices=KEY_ROLES, default=Role.EDITOR)
    prefix = models.CharField(max_length=VISIBLE_CHARS)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(revoked_at=None),
                name="api_key_active_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def can(self, role: Role) -> bool:
        return Role(self.role).at_least(role)
