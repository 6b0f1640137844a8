"""Runs: starting one, the status machine a worker drives it through, cancelling, restoring, the reaper of runs
whose worker died, and the purge of old record results."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from apps.common.metrics import RUNS_REAPED
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import ACTIVE_STATUSES, RecordResult, RunStatus, RunTrigger, Sync, SyncRun
from apps.syncs.runs import drift
from apps.syncs.runs.lifecycle import run_ended, run_started
from apps.syncs.tasks import execute_sync_run_task
from apps.tenancy.models import User, Workspace

if TYPE_CHECKING:
    from apps.api.models import ApiKey


class SyncAlreadyRunning(Exception):
    def __init__(self, run: SyncRun):
        super().__init__(f"{run.sync} is already running (run {run.pk}).")
        self.run = run


def sync_run_start(
    *,
    workspace: Workspace,
    sync: Sync,
    trigger: RunTrigger = RunTrigger.MANUAL,
    user: User | None = None,
    api_key: ApiKey | None = None,
    full_resync: bool = False,
    enqueue: bool = True,
    restores: SyncRun | None = None,
) -> SyncRun:
    """Queue a run. At most one active run per sync: the sync row is locked while checking. A run whose
    worker died is ended (and continued) first, in a transaction of its own, so a refused trigger keeps that."""
    syncs = Sync.objects.for_workspace(workspace).select_for_update().filter(pk=sync.pk)
    runs = SyncRun.objects.for_workspace(workspace).filter(sync=sync)
    with transaction.atomic():
        syncs.first()
        _reap(runs)
    with transaction.atomic():
        syncs.first()
        active = runs.filter(status__in=ACTIVE_STATUSES).first()
        if active is not None:
            raise SyncAlreadyRunning(active)
        run = SyncRun.objects.create(
            workspace=workspace,
            sync=sync,
            trigger=trigger,
            full_resync=full_resync,
            triggered_by=user,
            api_key=api_key,
            restores=restores,
        )
        if enqueue:
            execute_sync_run_task.apply_async_on_commit(args=[run.pk])
    return run


class WorkspaceBusy(Exception):
    """The workspace already runs its share of syncs; the run stays queued and its task tries again later."""


def run_mark_running(*, run: SyncRun, max_running: int | None = None) -> bool:
    """queued → running; False when the run is no longer queued (cancelled, or taken by another worker).
    A run's later slices keep the time its first slice started. A queued run with a cancel requested
    (asked between two slices, or a message delivered again) is ended Cancelled instead: a cancel is final.

    Raises WorkspaceBusy when the workspace already has ``max_running`` runs running (workers pass
    SYNC_MAX_RUNNING_PER_WORKSPACE), so that one workspace's big syncs never hold every worker thread while
    other workspaces' runs wait.
    """
    runs = SyncRun.objects.for_workspace(run.workspace_id)
    if _end_cancelled_queued(runs.filter(pk=run.pk)):
        run.refresh_from_db()
        return False
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=run.workspace_id).first()  # one start at a time
        running = runs.filter(status=RunStatus.RUNNING).count()
        if (
            max_running is not None
            and running >= max_running
            and runs.filter(pk=run.pk, status=RunStatus.QUEUED, cancel_requested=False).exists()
        ):
            raise WorkspaceBusy(f"{running} runs of this workspace are running")
        now = timezone.now()
        updated = runs.filter(pk=run.pk, status=RunStatus.QUEUED, cancel_requested=False).update(
            status=RunStatus.RUNNING,
            started_at=Coalesce("started_at", Value(now)),
            heartbeat_at=now,
            slices=F("slices") + 1,
            updated_at=now,
        )
    run.refresh_from_db()
    if updated and run.slices == 1:
        run_started(run)
    return bool(updated)


@transaction.atomic
def run_requeue_slice(*, run: SyncRun, counts: RunCounts, resume_after_rows: int) -> bool:
    """End a slice of a long run: running → queued with what it did so far; the next slice is enqueued
    (on commit) and continues after `resume_after_rows` source rows. False when the run was not running,
    or a cancel was requested (no next slice then: the caller ends the run Cancelled)."""
    updated = (
        SyncRun.objects.for_workspace(run.workspace_id)
        .filter(pk=run.pk, status=RunStatus.RUNNING, cancel_requested=False)
        .update(
            status=RunStatus.QUEUED,
            counts=counts.to_json(),
            resume_after_rows=resume_after_rows,
            updated_at=timezone.now(),
        )
    )
    if updated:
        execute_sync_run_task.apply_async_on_commit(args=[run.pk])
    run.refresh_from_db()
    return bool(updated)


def run_heartbeat(*, run: SyncRun) -> bool:
    """False when the run was ended meanwhile: the reaper took it for dead (another run continues it)."""
    runs = SyncRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk)
    if runs.filter(status=RunStatus.RUNNING).update(heartbeat_at=timezone.now()):
        return True
    return not runs.exists()  # a row this connection cannot see (a test's transaction) was not ended


STALE_RUN_MESSAGE = (
    "The worker running this sync stopped answering (no heartbeat for {seconds} s), so the run was ended "
    "and run {next} continues it. Records Intercom had accepted are kept in the ledger and are not sent again."
)


STALE_RUN_PAUSED_MESSAGE = (
    "The worker running this sync stopped answering (no heartbeat for {seconds} s), so the run was ended. "
    "The sync is paused, so no run continues it; the next run starts where the ledger stands."
)


STALE_RUN_CANCELLED_MESSAGE = (
    " The worker running it stopped answering before it could stop, so the run was ended here; no run "
    "continues it. Records Intercom had accepted are kept in the ledger."
)


def _reap(runs: QuerySet[SyncRun]) -> list[SyncRun]:
    """End running runs whose heartbeat stopped (their worker was killed or its machine lost) and start a
    run that continues each one from the ledger (unless its sync is paused, or a cancel was requested:
    that run ends Cancelled, and nothing continues it). Returns the new runs.
    The caller holds the sync rows' locks (see `runs_reap_stale`), so no trigger races the new run."""
    seconds = settings.SYNC_RUN_LEASE_SECONDS
    stale = runs.filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=timezone.now() - timedelta(seconds=seconds)
    ).select_related("sync")
    continued = []
    for run in stale.filter(cancel_requested=True):
        ended = runs.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.CANCELLED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            first_error=Concat(
                F("first_error"), Value(STALE_RUN_CANCELLED_MESSAGE), output_field=TextField()
            ),
        )
        if ended:
            run.refresh_from_db()
            run_ended(run)
            transaction.on_commit(RUNS_REAPED.inc)
    for run in stale.filter(cancel_requested=False):
        sync = run.sync
        follower = None
        if not sync.paused:
            follower = SyncRun.objects.create(
                workspace_id=run.workspace_id,
                sync=sync,
                trigger=RunTrigger.RECOVERY,
                full_resync=run.full_resync,
                continues=run,
                restores_id=run.restores_id,
            )
            execute_sync_run_task.apply_async_on_commit(args=[follower.pk])
            continued.append(follower)
        message = (
            STALE_RUN_MESSAGE.format(seconds=seconds, next=follower.pk)
            if follower
            else (STALE_RUN_PAUSED_MESSAGE.format(seconds=seconds))
        )
        ended = runs.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            first_error=message,
        )
        if ended:
            run.refresh_from_db()
            run_ended(run)
            transaction.on_commit(RUNS_REAPED.inc)
    return continued


def runs_reap_stale() -> int:
    """For the periodic task, in every workspace: end and continue runs whose worker died, and enqueue
    again queued runs whose message was lost (Redis flushed or restarted); a duplicate message is harmless,
    since only one worker can move a run from queued to running. Returns how many runs it acted on."""
    seconds = settings.SYNC_RUN_LEASE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=seconds)
    runs = SyncRun.objects.across_all_workspaces_unsafe()
    acted = 0
    for sync_id in (
        runs.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)
        .values_list("sync_id", flat=True)
        .distinct()
    ):
        with transaction.atomic():
            Sync.objects.across_all_workspaces_unsafe().select_for_update().filter(pk=sync_id).first()
            acted += len(_reap(runs.filter(sync_id=sync_id)))
    requeue_cutoff = timezone.now() - timedelta(seconds=settings.SYNC_RUN_REQUEUE_SECONDS)
    acted += _end_cancelled_queued(runs.filter(status=RunStatus.QUEUED, updated_at__lt=requeue_cutoff))
    for run in runs.filter(status=RunStatus.QUEUED, cancel_requested=False, updated_at__lt=requeue_cutoff):
        with transaction.atomic():
            runs.filter(pk=run.pk, status=RunStatus.QUEUED).update(updated_at=timezone.now())
            execute_sync_run_task.apply_async_on_commit(args=[run.pk])
        acted += 1
    return acted


def run_save_progress(*, run: SyncRun, counts: RunCounts) -> bool:
    """Store the counts so far; returns True when a cancel was requested."""
    SyncRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk).update(
        counts=counts.to_json(), updated_at=timezone.now()
    )
    return run_cancel_requested(run=run)


def run_cancel_requested(*, run: SyncRun) -> bool:
    return SyncRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk, cancel_requested=True).exists()


def _end_cancelled_queued(runs: QuerySet[SyncRun]) -> int:
    """End Cancelled the queued runs among `runs` that have a cancel requested (one queued again between
    two slices, whose next task must not start it). Returns how many."""
    ended = 0
    for run in runs.filter(status=RunStatus.QUEUED, cancel_requested=True):
        if runs.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
        ):
            ended += 1
            run_ended(run)
    return ended


def run_finish_cancelled(*, run: SyncRun, counts: RunCounts) -> SyncRun:
    """End a running run that stopped on its Cancel, with the counts of what it did and the message the
    cancel left (who asked)."""
    run.refresh_from_db(fields=["first_error"])
    return run_finish(run=run, status=RunStatus.CANCELLED, counts=counts, first_error=cancel_message(None))


def run_finish(*, run: SyncRun, status: RunStatus, counts: RunCounts, first_error: str = "") -> SyncRun:
    """End a run with its status (`statuses.run_status` decides it from the counts) and its counts."""
    run.status, run.counts, run.finished_at = status, counts.to_json(), timezone.now()
    run.first_error = run.first_error or first_error
    run.save(update_fields=["status", "counts", "finished_at", "first_error", "updated_at"])
    run_ended(run)
    return run


def cancel_message(user: User | None) -> str:
    return f"Cancelled by {user.email}." if user is not None and user.email else "Cancelled."


def sync_run_cancel(*, workspace: Workspace, run: SyncRun, user: User | None = None) -> SyncRun:
    """A queued run is cancelled at once; a running one stops within seconds: its warehouse query is
    interrupted and the records in flight are settled (see `runs.watch.RunWatch`). A cancel is final: the
    run is never continued, requeued or recovered. One whose worker died is ended here and now. The
    run's message says who cancelled it (the first to ask)."""
    runs = SyncRun.objects.for_workspace(workspace)
    message = cancel_message(user)
    if runs.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
        cancel_requested=True,
        first_error=message,
    ):
        run_ended(run)
    runs.filter(pk=run.pk, status=RunStatus.RUNNING, cancel_requested=False).update(
        cancel_requested=True, first_error=message, updated_at=timezone.now()
    )
    with transaction.atomic():
        Sync.objects.for_workspace(workspace).select_for_update().filter(pk=run.sync_id).first()
        # Ends it only when its worker is dead (no heartbeat): nobody else would stop it then.
        _reap(runs.filter(pk=run.pk))
    run.refresh_from_db()
    return run


class NothingToRestore(Exception):
    pass


def sync_run_restore(*, workspace: Workspace, run: SyncRun, user: User | None = None) -> SyncRun:
    """ "Restore missing records" after a run found drift (records of the ledger missing from Intercom):
    queue a full resync of its sync that restores them (see `apps.syncs.drift`). Raises NothingToRestore
    when the run found none missing, or its sync cannot create records; SyncAlreadyRunning as a trigger."""
    if not RunCounts.from_json(run.counts).drift_missing:
        raise NothingToRestore(f"Run {run.pk} found no record missing from Intercom.")
    if not drift.restorable(run.sync):
        raise NothingToRestore(
            f"“{run.sync.name}” cannot create records in Intercom ({run.sync.get_behavior_display()}), so it "
            "cannot restore them. A full resync updates every record Intercom still has and skips the missing ones."
        )
    return sync_run_start(
        workspace=workspace,
        sync=run.sync,
        trigger=RunTrigger.MANUAL,
        user=user,
        full_resync=True,
        restores=run,
    )


def record_results_purge(*, now: datetime | None = None) -> int:
    """Delete the per-record results older than SYNC_RECORD_RESULTS_DAYS, in every workspace (system work);
    returns how many were deleted. Run counts stay: only the per-record detail expires."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SYNC_RECORD_RESULTS_DAYS)
    deleted, _ = RecordResult.objects.across_all_workspaces_unsafe().filter(created_at__lt=cutoff).delete()
    return deleted
