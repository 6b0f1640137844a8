"""Schedules: saving a sync's schedule, the beat's pass over due syncs, and sequences (a sync that runs
after another succeeds). The next-run computation itself is pure (schedules/compute.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.common.problems import Invalid, Problem
from apps.syncs.models import RunTrigger, Sync, SyncRun
from apps.syncs.runs.services import SyncAlreadyRunning, sync_run_start
from apps.syncs.runs.statuses import SUCCEEDED
from apps.syncs.schedules.compute import Schedule, ScheduleKind
from apps.tenancy.models import Workspace

logger = logging.getLogger(__name__)


def _sequence_problem(*, workspace: Workspace, sync: Sync, after: Sync | None) -> str | None:
    if after is None:
        return "Choose the sync this one runs after."
    if after.workspace_id != workspace.pk:
        return "There is no such sync in this workspace."
    if after.pk == sync.pk:
        return "A sync cannot run after itself: choose another sync."
    chain, current = [after], after
    while current.schedule_kind == ScheduleKind.AFTER_SYNC and current.schedule_after_id:
        current = Sync.objects.for_workspace(workspace).get(pk=current.schedule_after_id)
        if current.pk == sync.pk:
            loop = " → ".join(f"“{s.name}”" for s in [sync, *reversed(chain)])
            return f"That would make a loop ({loop} → “{sync.name}”): none of them would ever start."
        if current in chain:  # an older loop further up; do not walk it forever
            break
        chain.append(current)
    return None


def schedule_problems(
    *, workspace: Workspace, sync: Sync, schedule: Schedule, after: Sync | None
) -> dict[str, str]:
    """Field name → what is wrong; empty when the schedule can be saved."""
    problems = schedule.problems()
    if schedule.kind == ScheduleKind.AFTER_SYNC and (
        problem := _sequence_problem(workspace=workspace, sync=sync, after=after)
    ):
        problems["after"] = problem
    return problems


@transaction.atomic
def sync_schedule_set(
    *,
    workspace: Workspace,
    sync: Sync,
    schedule: Schedule,
    after: Sync | None = None,
    now: datetime | None = None,
) -> Sync:
    """Store a sync's schedule and its next run time; raises Invalid with the problems, each about the
    form field it concerns."""
    if problems := schedule_problems(workspace=workspace, sync=sync, schedule=schedule, after=after):
        raise Invalid(Problem(field, "invalid_schedule", message) for field, message in problems.items())
    from apps.syncs.services import sync_audit, sync_audited

    before = sync_audited(sync)
    kind = schedule.kind
    fields = {
        "schedule_kind": kind,
        "schedule_timezone": schedule.timezone if schedule.uses_time_zone else sync.schedule_timezone,
        "schedule_every_minutes": schedule.every_minutes if kind == ScheduleKind.INTERVAL else None,
        "schedule_minute": schedule.minute if kind == ScheduleKind.HOURLY else None,
        "schedule_at": schedule.at if kind in (ScheduleKind.DAILY, ScheduleKind.WEEKLY) else None,
        "schedule_weekday": schedule.weekday if kind == ScheduleKind.WEEKLY else None,
        "schedule_cron": schedule.cron_expression() if kind == ScheduleKind.CRON else "",
        "schedule_after": after if kind == ScheduleKind.AFTER_SYNC else None,
    }
    for field, value in fields.items():
        setattr(sync, field, value)
    sync.next_run_at = sync.schedule.next_run(now or timezone.now())
    sync.save(update_fields=[*fields, "next_run_at", "updated_at"])
    sync_audit(sync, before)
    return sync


# --- the beat's pass --------------------------------------------------------------------------------


def schedules_run_due(*, now: datetime | None = None) -> list[SyncRun]:
    """Queue a run of every sync whose next run time has come, and move its next run time past `now`.

    A paused sync, or one whose previous run is still active, is not run but its next time still
    advances. Advancing from `now` (not from the missed time) means a beat that was down for an hour
    runs a due sync once, not once per missed slot.
    """
    now = now or timezone.now()
    due = Sync.objects.across_all_workspaces_unsafe().filter(next_run_at__lte=now)
    runs = []
    for sync_id in due.order_by("next_run_at").values_list("pk", flat=True):
        run = _run_due(sync_id, now)
        if run is not None:
            runs.append(run)
    return runs


@transaction.atomic
def _run_due(sync_id: int, now: datetime) -> SyncRun | None:
    # Locked and checked again: another beat pass (or a schedule edit) may have moved it meanwhile.
    sync = (
        Sync.objects.across_all_workspaces_unsafe()
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("workspace")
        .filter(pk=sync_id, next_run_at__lte=now)
        .first()
    )
    if sync is None:
        return None
    run = None
    if not sync.paused:
        try:
            run = sync_run_start(workspace=sync.workspace, sync=sync, trigger=RunTrigger.SCHEDULE)
        except SyncAlreadyRunning as running:
            logger.info("Scheduled run of sync %s skipped: run %s is still active", sync.pk, running.run.pk)
    sync.next_run_at = sync.schedule.next_run(now)
    sync.save(update_fields=["next_run_at"])
    return run


# --- sequences --------------------------------------------------------------------------------------


def sequence_run_finished(*, run: SyncRun) -> None:
    """Listener of a run's end (`apps.syncs.lifecycle`): a run that succeeded starts its followers."""
    if run.status in SUCCEEDED:
        sequence_followers_start(run=run)


def sequence_followers_start(*, run: SyncRun) -> list[SyncRun]:
    """Queue a run of each unpaused sync scheduled "after" the run's sync; one that is still running is
    skipped (its own run already covers the new data)."""
    followers = (
        Sync.objects.for_workspace(run.workspace_id)
        .select_related("workspace")
        .filter(schedule_kind=ScheduleKind.AFTER_SYNC, schedule_after_id=run.sync_id, paused=False)
    )
    runs = []
    for follower in followers:
        try:
            runs.append(
                sync_run_start(workspace=follower.workspace, sync=follower, trigger=RunTrigger.SCHEDULE)
            )
        except SyncAlreadyRunning as running:
            logger.info(
                "Sequence run of sync %s skipped: run %s is still active", follower.pk, running.run.pk
            )
    return runs


# --- reads ------------------------------------------------------------------------------------------


def upcoming_runs(*, workspace: Workspace, limit: int = 5) -> list[Sync]:
    """For the home page: the unpaused syncs with a next run time, soonest first."""
    syncs = Sync.objects.for_workspace(workspace).filter(paused=False, next_run_at__isnull=False)
    return list(syncs.order_by("next_run_at", "name")[:limit])
