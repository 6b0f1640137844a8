from celery import shared_task
from django.conf import settings


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def execute_sync_run_task(self, run_id: int) -> None:
    from apps.syncs.execution import sync_run_execute
    from apps.syncs.services import WorkspaceBusy

    try:
        sync_run_execute(run_id=run_id, max_running=settings.SYNC_MAX_RUNNING_PER_WORKSPACE)
    except WorkspaceBusy:
        # Back of the queue: the threads go to other workspaces' runs meanwhile.
        raise self.retry(countdown=settings.SYNC_BUSY_WORKSPACE_RETRY_SECONDS) from None


@shared_task
def reap_stale_runs_task() -> int:
    from apps.syncs.services import runs_reap_stale

    return runs_reap_stale()


@shared_task
def run_due_schedules_task() -> int:
    from apps.syncs.scheduling import schedules_run_due

    return len(schedules_run_due())
