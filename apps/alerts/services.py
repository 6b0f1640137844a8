"""Alert settings and the alert state machine: per sync and kind, an alert is raised (one email) and
stays raised, silently, until a run shows the condition has cleared. A cleared failure sends a recovery
email; the other kinds clear silently and are re-armed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.alerts.models import AlertKind, AlertState, SyncAlertSettings, WorkspaceAlertSettings
from apps.alerts.selectors import sync_alert_settings
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus, Sync, SyncRun
from apps.tenancy.audit import audit_record, diff
from apps.tenancy.models import AuditAction, Workspace

RECOVERED = "recovered"  # the email kind sent when a raised failure clears


def workspace_alert_settings_save(*, workspace: Workspace, member_ids: list[int], extra_emails: list[str]):
    old = WorkspaceAlertSettings.objects.for_workspace(workspace).first()
    before = {"alerts.member_ids": old.member_ids, "alerts.extra_emails": old.extra_emails} if old else {}
    row, _ = WorkspaceAlertSettings.objects.for_workspace(workspace).update_or_create(
        workspace=workspace, defaults={"member_ids": member_ids, "extra_emails": extra_emails}
    )
    after = {"alerts.member_ids": row.member_ids, "alerts.extra_emails": row.extra_emails}
    audit_record(
        workspace=workspace,
        kind="workspace",
        object_id=workspace.pk,
        name=workspace.name,
        action=AuditAction.CHANGED,
        changes=diff(before, after),
    )
    return row


def sync_alert_settings_save(*, workspace: Workspace, sync: Sync, **values) -> SyncAlertSettings:
    """values: enabled, use_workspace_recipients, member_ids, extra_emails, rejected_threshold,
    max_duration_minutes."""
    old = sync_alert_settings(workspace=workspace, sync=sync)
    before = {f"alerts.{field}": getattr(old, field) for field in values}
    row, _ = SyncAlertSettings.objects.for_workspace(workspace).update_or_create(
        workspace=workspace, sync=sync, defaults=values
    )
    after = {f"alerts.{field}": getattr(row, field) for field in values}
    audit_record(
        workspace=workspace,
        kind="sync",
        object_id=sync.pk,
        name=sync.name,
        action=AuditAction.CHANGED,
        changes=diff(before, after),
    )
    return row


def above_threshold(counts: RunCounts, threshold_percent: int) -> bool:
    """Intercom newly refused more than `threshold_percent` of the records it was sent (records still
    refused, for the same reason as before, are no new refusal)."""
    return counts.attempted > 0 and counts.newly_rejected * 100 > threshold_percent * counts.attempted


def _limit(own: SyncAlertSettings) -> timedelta | None:
    return timedelta(minutes=own.max_duration_minutes) if own.max_duration_minutes else None


def _raise(run: SyncRun, kind: str) -> bool:
    """Raise the alert; True (and the email is queued) only when it was not raised already."""
    _, created = AlertState.objects.for_workspace(run.workspace_id).get_or_create(
        workspace_id=run.workspace_id, sync_id=run.sync_id, kind=kind, defaults={"run": run}
    )
    if created:
        _queue_email(run, kind)
    return created


def _clear(run: SyncRun, kind: str) -> bool:
    deleted, _ = (
        AlertState.objects.for_workspace(run.workspace_id).filter(sync_id=run.sync_id, kind=kind).delete()
    )
    return deleted > 0


def _queue_email(run: SyncRun, kind: str) -> None:
    from apps.alerts.tasks import send_alert_email_task

    send_alert_email_task.delay_on_commit(run.pk, kind)


@transaction.atomic
def alerts_run_finished(*, run: SyncRun) -> None:
    """Bring the sync's alerts up to date with a run that ended: an email on a real change of state only.
    A cancelled run says nothing about the sync's health. A failed run raises only the failure: its email
    already carries the counts. Any other end (succeeded, with warnings or not, or partially failed) clears
    a raised failure, but for a run with records still refused (refused before, for the same reason): the
    failure they raised stands, and so does a raised share of rejected records, until a run gets them
    through (or a user stops retrying them). So retrying the same refused records every run alerts once."""
    if run.status == RunStatus.CANCELLED:
        return
    own = sync_alert_settings(workspace=run.workspace, sync=run.sync)
    counts = RunCounts.from_json(run.counts)
    if run.status == RunStatus.FAILED:
        _raise(run, AlertKind.FAILED)
    elif counts.still_rejected:
        if above_threshold(counts, own.rejected_threshold):
            _raise(run, AlertKind.REJECTED_SHARE)
    else:
        if _clear(run, AlertKind.FAILED):
            _queue_email(run, RECOVERED)
        if above_threshold(counts, own.rejected_threshold):
            _raise(run, AlertKind.REJECTED_SHARE)
        else:
            _clear(run, AlertKind.REJECTED_SHARE)
    limit = _limit(own)
    if limit and run.duration and run.duration > limit:
        _raise(run, AlertKind.TOO_LONG)
    else:
        _clear(run, AlertKind.TOO_LONG)


def alerts_check_long_runs(*, now=None) -> int:
    """For beat, every minute: raise "took longer than" for runs still running past their sync's limit.
    System work across workspaces; returns how many alerts were raised."""
    now = now or timezone.now()
    running = (
        SyncRun.objects.across_all_workspaces_unsafe()
        .filter(status=RunStatus.RUNNING, started_at__isnull=False)
        .filter(sync__alert_settings__max_duration_minutes__isnull=False)
        .select_related("sync__alert_settings")
    )
    raised = 0
    for run in running:
        limit = _limit(run.sync.alert_settings)
        if now - run.started_at > limit:
            with transaction.atomic():
                raised += _raise(run, AlertKind.TOO_LONG)
    return raised
