from django.shortcuts import get_object_or_404

from apps.alerts.models import (
    AlertState,
    SyncAlertSettings,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WorkspaceAlertSettings,
)
from apps.syncs.models import Sync
from apps.tenancy.models import Membership, Role, Workspace


def workspace_alert_settings(*, workspace: Workspace) -> WorkspaceAlertSettings | None:
    """The saved Settings → Alerts row, or None while it was never saved (then owners receive)."""
    return WorkspaceAlertSettings.objects.for_workspace(workspace).first()


def sync_alert_settings(*, workspace: Workspace, sync: Sync) -> SyncAlertSettings:
    """The sync's alert settings; an unsaved row with the defaults when it has none."""
    found = SyncAlertSettings.objects.for_workspace(workspace).filter(sync=sync).first()
    return found or SyncAlertSettings(workspace=workspace, sync=sync)


def _member_emails(workspace: Workspace, member_ids) -> list[str]:
    members = Membership.objects.for_workspace(workspace).filter(user_id__in=list(member_ids or ()))
    return list(members.values_list("user__email", flat=True))


def _unique(emails) -> list[str]:
    return sorted({e.strip().lower() for e in emails if e and e.strip()})


def workspace_default_recipients(*, workspace: Workspace) -> list[str]:
    saved = workspace_alert_settings(workspace=workspace)
    if saved is None:
        owners = Membership.objects.for_workspace(workspace).filter(role=Role.OWNER)
        return _unique(owners.values_list("user__email", flat=True))
    return _unique(_member_emails(workspace, saved.member_ids) + list(saved.extra_emails))


def alert_recipients(*, workspace: Workspace, sync: Sync) -> list[str]:
    """Who gets this sync's alerts now. Chosen members who left the workspace receive nothing."""
    own = sync_alert_settings(workspace=workspace, sync=sync)
    if own.use_workspace_recipients:
        return workspace_default_recipients(workspace=workspace)
    return _unique(_member_emails(workspace, own.member_ids) + list(own.extra_emails))


def raised_alerts(*, workspace: Workspace, sync: Sync) -> list[AlertState]:
    return list(AlertState.objects.for_workspace(workspace).filter(sync=sync).order_by("raised_at"))


def sync_alert_overview(*, workspace: Workspace) -> list[dict]:
    """Settings → Alerts: every sync with its alert settings and raised alerts (three queries)."""
    syncs = list(Sync.objects.for_workspace(workspace).order_by("name"))
    own = {s.sync_id: s for s in SyncAlertSettings.objects.for_workspace(workspace)}
    raised: dict[int, list[AlertState]] = {}
    for state in AlertState.objects.for_workspace(workspace).order_by("raised_at"):
        raised.setdefault(state.sync_id, []).append(state)
    return [
        {"sync": s, "settings": own.get(s.pk) or SyncAlertSettings(sync=s), "raised": raised.get(s.pk, [])}
        for s in syncs
    ]


def webhook_list(*, workspace: Workspace) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.for_workspace(workspace))


def webhook_get(*, workspace: Workspace, webhook_id: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.for_workspace(workspace), pk=webhook_id)


def webhook_recent_deliveries(*, workspace: Workspace, endpoint: WebhookEndpoint, limit: int = 25):
    """The last deliveries with their attempts (two queries)."""
    deliveries = list(WebhookDelivery.objects.for_workspace(workspace).filter(endpoint=endpoint)[:limit])
    attempts: dict[int, list[WebhookAttempt]] = {}
    for attempt in WebhookAttempt.objects.for_workspace(workspace).filter(delivery__in=deliveries):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    for delivery in deliveries:
        delivery.attempt_list = attempts.get(delivery.pk, [])
    return deliveries
