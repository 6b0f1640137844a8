"""Alerts by email (who hears about a sync, and which alerts are raised now) and lifecycle webhooks
(endpoints, and every delivery with its attempts)."""

from django.conf import settings
from django.db import models

from apps.common.fields import EncryptedJSONField
from apps.common.models import TimeStampedModel
from apps.tenancy.scoping import WorkspaceOwnedModel

DEFAULT_REJECTED_THRESHOLD = 75


class WorkspaceAlertSettings(WorkspaceOwnedModel, TimeStampedModel):
    """Settings → Alerts: who gets a sync's alerts unless the sync names its own recipients. Until it is
    saved once, the workspace's owners do."""

    member_ids = models.JSONField(default=list, blank=True)  # users; only current members receive
    extra_emails = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="workspace_alert_settings_unique")]


class SyncAlertSettings(WorkspaceOwnedModel, TimeStampedModel):
    """A sync's alerts. A sync without this row has alerts on, the workspace's recipients, the default
    threshold and no duration limit."""

    sync = models.OneToOneField("syncs.Sync", on_delete=models.CASCADE, related_name="alert_settings")
    enabled = models.BooleanField(default=True)
    use_workspace_recipients = models.BooleanField(default=True)
    member_ids = models.JSONField(default=list, blank=True)
    extra_emails = models.JSONField(default=list, blank=True)
    rejected_threshold = models.PositiveSmallIntegerField(default=DEFAULT_REJECTED_THRESHOLD)  # percent
    max_duration_minutes = models.PositiveIntegerField(null=True, blank=True)


class AlertKind(models.TextChoices):
    FAILED = "failed", "Run failed"
    REJECTED_SHARE = "rejected_share", "Rejected records above the threshold"
    TOO_LONG = "too_long", "Run took longer than the limit"


class AlertState(WorkspaceOwnedModel):
    """A raised alert: one row per sync and kind while the condition holds. The email goes out when the
    row is created, never while it exists; deleting the row re-arms the alert."""

    sync = models.ForeignKey("syncs.Sync", on_delete=models.CASCADE, related_name="raised_alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    run = models.ForeignKey("syncs.SyncRun", null=True, on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "kind"], name="alert_state_unique")]


class WebhookEvent(models.TextChoices):
    RUN_STARTED = "run.started", "run.started: a run began"
    RUN_SUCCEEDED = "run.succeeded", "run.succeeded: a run ended with its records in Intercom"
    RUN_FAILED = "run.failed", "run.failed: a run failed, or ended with some records rejected"


TEST_EVENT = "webhook.test"


class WebhookEndpoint(WorkspaceOwnedModel, TimeStampedModel):
    """A URL of the workspace that receives signed run events. The signing secret is generated here,
    stored encrypted (`{"secret": "whsec_…"}`) and shown once."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    signing = EncryptedJSONField()
    secret_hint = models.CharField(max_length=8)  # the secret's last characters, to recognise it
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(WorkspaceOwnedModel):
    """One event for one endpoint. `message_id` is the `webhook-id` header, the same on every attempt, so
    receivers can drop repeats."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    body = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-created_at"])]


class WebhookAttempt(WorkspaceOwnedModel):
    """One POST of a delivery: what the endpoint answered (or why nothing came back) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]
