"""The alert emails: a subject that says what happened, then the first error, the counts and a link."""

from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone

from apps.alerts.links import absolute_url, run_url
from apps.alerts.models import AlertKind
from apps.alerts.selectors import alert_recipients, sync_alert_settings
from apps.alerts.services import RECOVERED
from apps.common.time_zones import zone_or_utc
from apps.syncs.engine.outcomes import LABELS, RunCounts, Tally
from apps.syncs.models import RunStatus, SyncRun
from apps.syncs.templatetags.sync_tags import duration as format_duration

SUBJECT_ERROR_CHARS = 90


def _short(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= SUBJECT_ERROR_CHARS else line[: SUBJECT_ERROR_CHARS - 1].rstrip() + "…"


def _rejected_phrase(counts: RunCounts) -> str:
    if counts.still_rejected:
        return (
            f"{counts.newly_rejected:,} of {counts.attempted:,} records newly rejected "
            f"({counts.still_rejected:,} more still refused)"
        )
    return f"{counts.rejected:,} of {counts.attempted:,} records rejected"


def _percent(part: int, whole: int, threshold: int) -> str:
    """82%, or 75.2% where a whole number would not read as above a 75% threshold."""
    share = part * 100 / whole
    return f"{share:.0f}%" if round(share) > threshold else f"{share:.1f}%"


def _headline(run: SyncRun, kind: str, threshold: int, limit_minutes: int | None) -> str:
    """The subject without its prefix: what happened, in one line."""
    name = f"Sync “{run.sync.name}”"
    counts = RunCounts.from_json(run.counts)
    if kind == AlertKind.FAILED:
        if counts.newly_rejected and not counts.accepted:  # Intercom refused every record it was sent
            return f"{name} failed: {_rejected_phrase(counts)}"
        if counts.invalid and counts.invalid == counts.total and not run.first_error:
            return f"{name} failed: every one of its {counts.invalid:,} records is invalid"
        return f"{name} failed: {_short(run.first_error)}" if run.first_error else f"{name} failed"
    if kind == AlertKind.REJECTED_SHARE:
        share = _percent(counts.newly_rejected, counts.attempted, threshold)
        return f"{name}: {_rejected_phrase(counts)} ({share}, above the {threshold}% threshold)"
    if kind == AlertKind.TOO_LONG:
        limit = f"the limit is {limit_minutes} min"
        if run.finished_at is None:
            elapsed = timezone.now() - run.started_at
            return f"{name} has been running for {format_duration(elapsed)} ({limit})"
        return f"{name} took {format_duration(run.duration)} ({limit})"
    if kind == RECOVERED:
        if run.status == RunStatus.PARTIALLY_FAILED:
            return f"{name} recovered: run {run.pk} finished with {_rejected_phrase(counts)}"
        if run.status == RunStatus.SUCCEEDED_WITH_WARNINGS:
            return f"{name} recovered: run {run.pk} succeeded with warnings"
        return f"{name} recovered: run {run.pk} succeeded"
    raise ValueError(f"unknown alert kind {kind!r}")


WHAT_NEXT = {
    AlertKind.FAILED: "You will not get another email about this sync failing until a run succeeds again.",
    AlertKind.REJECTED_SHARE: (
        "You will not get another email about rejected records until a run stays under the threshold "
        "and passes it again."
    ),
    AlertKind.TOO_LONG: (
        "You will not get another email about run time until a run finishes within the limit and a later "
        "one passes it again."
    ),
    RECOVERED: "The sync's failure alert is re-armed: you will hear again if a run fails.",
}


def alert_message(run: SyncRun, kind: str, recipient: str) -> EmailMultiAlternatives:
    own = sync_alert_settings(workspace=run.workspace, sync=run.sync)
    headline = _headline(run, kind, own.rejected_threshold, own.max_duration_minutes)
    slug = run.workspace.slug
    counts = RunCounts.from_json(run.counts)
    context = {
        "headline": headline,
        "kind": kind,
        "run": run,
        "sync": run.sync,
        "workspace": run.workspace,
        "counts": [
            (label, f"{counts[key]:,}")
            for key, label in LABELS.items()
            if key == Tally.SOURCE_ROWS or counts[key]
        ],
        "duration": format_duration(run.duration) if run.duration else None,
        "run_url": run_url(run),
        "settings_url": absolute_url("sync_alerts", slug, run.sync_id),
        "what_next": WHAT_NEXT[kind],
    }
    with timezone.override(zone_or_utc(run.workspace.time_zone)):  # times as the workspace's pages show them
        message = EmailMultiAlternatives(
            subject=f"[Syncline] {headline}",
            body=render_to_string("alerts/emails/alert.txt", context),
            to=[recipient],
        )
        message.attach_alternative(render_to_string("alerts/emails/alert.html", context), "text/html")
    return message


def alert_email_send(*, run_id: int, kind: str) -> int:
    """Send one alert about a run to each recipient of its sync (one message each, so addresses outside
    the workspace are not shown to one another). Returns how many were sent; none when alerts are off."""
    run = SyncRun.objects.across_all_workspaces_unsafe().select_related("sync", "workspace").get(pk=run_id)
    if not sync_alert_settings(workspace=run.workspace, sync=run.sync).enabled:
        return 0
    recipients = alert_recipients(workspace=run.workspace, sync=run.sync)
    messages = [alert_message(run, kind, recipient) for recipient in recipients]
    return get_connection().send_messages(messages) if messages else 0
