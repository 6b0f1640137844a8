from django.conf import settings
from django.db import models

from apps.common.fields import EncryptedJSONField
from apps.common.models import TimeStampedModel
from apps.connections.sources.base import ConnectionWarning
from apps.tenancy.scoping import WorkspaceOwnedModel


class ConnectionKind(models.TextChoices):
    SOURCE = "source", "Source"
    DESTINATION = "destination", "Destination"


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    CONNECTED = "connected", "Connected"
    FAILING = "failing", "Failing"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"


class Connection(WorkspaceOwnedModel, TimeStampedModel):
    """A warehouse (source) or a SaaS account (destination) of one workspace.

    `config` holds what may be shown (host, database, region); `credentials` holds the secrets (passwords,
    tokens), encrypted, and is never rendered back into a page.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=ConnectionKind.choices)
    type = models.CharField(max_length=20)
    config = models.JSONField(default=dict, blank=True)
    credentials = EncryptedJSONField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.UNTESTED
    )
    status_message = models.TextField(blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    # What the last successful test warned about (`sources.base.ConnectionWarning`s, as dicts): kept
    # with the status, so the connections page shows them until a test finds them gone.
    test_warnings = models.JSONField(default=list, blank=True)
    # Destinations: the custom data attributes read from Intercom (see intercom/attributes.py).
    attributes_cache = models.JSONField(default=dict, blank=True)
    attributes_fetched_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="connection_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def warnings(self) -> list[ConnectionWarning]:
        fields = ("code", "message", "advice")
        return [
            ConnectionWarning(**{name: str(item.get(name, "")) for name in fields})
            for item in self.test_warnings or []
            if isinstance(item, dict)
        ]

    @property
    def warning_advice(self) -> list[str]:
        """What to grant instead, each piece of advice once (several warnings often share one)."""
        return list(dict.fromkeys(warning.advice for warning in self.warnings if warning.advice))


class IntercomRegion(models.TextChoices):
    US = "US", "United States (US)"
    EU = "EU", "Europe (EU)"
    AU = "AU", "Australia (AU)"


class OAuthState(WorkspaceOwnedModel, TimeStampedModel):
    """One "Connect with Intercom" attempt: the `state` sent to Intercom, bound to a user, a workspace, a
    region and an expiry; single use. `connection` is set when the attempt reconnects an existing one."""

    state = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=2, choices=IntercomRegion.choices)
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
