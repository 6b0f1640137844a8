import sys

from celery import shared_task
from celery.signals import worker_shutting_down
from django.conf import settings


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def execute_sync_run_task(self, run_id: int) -> None:
    from apps.syncs.runs.execute import sync_run_execute
    from apps.syncs.runs.services import WorkspaceBusy

    try:
        sync_run_execute(run_id=run_id, max_running=settings.SYNC_MAX_RUNNING_PER_WORKSPACE)
    except WorkspaceBusy:
        # Back of the queue: the threads go to other workspaces' runs meanwhile.
        raise self.retry(countdown=settings.SYNC_BUSY_WORKSPACE_RETRY_SECONDS) from None


class ListenersFailed(Exception):
    """Some listeners of a run's start or end failed (see `apps.syncs.runs.lifecycle`); the task is retried."""


_ANNOUNCE_RETRY = {
    "autoretry_for": (ListenersFailed,),
    "retry_backoff": settings.SYNC_ANNOUNCE_BACKOFF_SECONDS,
    "retry_backoff_max": 10 * 60,
    "max_retries": settings.SYNC_ANNOUNCE_MAX_RETRIES,
}


@shared_task(acks_late=True, **_ANNOUNCE_RETRY)
def run_finished_task(run_id: int) -> list[str]:
    """Tell alerts, webhooks, metrics and sequence followers that a run ended (each once)."""
    from apps.syncs.runs.lifecycle import run_announce

    return run_announce(run_id=run_id, event="finished")


@shared_task(acks_late=True, **_ANNOUNCE_RETRY)
def run_started_task(run_id: int) -> list[str]:
    from apps.syncs.runs.lifecycle import run_announce

    return run_announce(run_id=run_id, event="started")


@shared_task
def reap_stale_runs_task() -> int:
    from apps.syncs.runs.services import runs_reap_stale

    return runs_reap_stale()


@shared_task
def run_due_schedules_task() -> int:
    from apps.syncs.schedules.services import schedules_run_due

    return len(schedules_run_due())


@shared_task
def purge_record_results_task() -> int:
    from apps.syncs.runs.services import record_results_purge

    return record_results_purge()


@shared_task(acks_late=True)
def preview_sync_task(preview_id: int) -> str | None:
    """Plan a preview (a dry run: nothing sent, no ledger row changed); see apps.syncs.runs.preview_runs."""
    from apps.syncs.runs.preview_runs import preview_execute

    preview = preview_execute(preview_id=preview_id)
    return preview.status if preview else None


@shared_task
def purge_previews_task() -> int:
    from apps.syncs.runs.preview_runs import previews_purge

    return previews_purge()


@worker_shutting_down.connect
def stop_running_runs_on_shutdown(**_) -> None:
    """A warm shutdown (SIGTERM) would wait for every run's warehouse query, up to the extraction limit:
    instead, the runs stop their queries, settle what is in flight and are queued again, for another
    worker (or this one, restarted) to go on with. Only the threads pool runs tasks in this process,
    as the Procfile starts workers; a prefork child keeps its runs to their end."""
    # Not imported here from a signal handler (a task thread may hold the import lock): no run ever
    # started in this process when the module is not loaded yet.
    watch = sys.modules.get("apps.syncs.runs.watch")
    if watch is not None:
        watch.runs_stop_for_shutdown()
    previews = sys.modules.get("apps.syncs.runs.preview_runs")
    if previews is not None:
        previews.previews_stop_for_shutdown()
