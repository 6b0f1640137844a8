from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def execute_sync_run_task(run_id: int) -> None:
    from apps.syncs.execution import sync_run_execute

    sync_run_execute(run_id=run_id)


@shared_task
def reap_stale_runs_task() -> int:
    from apps.syncs.services import runs_reap_stale

    return runs_reap_stale()


@shared_task
def run_due_schedules_task() -> int:
    from apps.syncs.scheduling import schedules_run_due

    return len(schedules_run_due())
