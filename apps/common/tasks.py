from celery import shared_task
from celery.signals import task_prerun, worker_ready


@shared_task
def ping() -> str:
    """Round trip through the broker and a worker; used by health checks and the worker tests."""
    return "pong"


@worker_ready.connect
def start_worker_heartbeat(**_) -> None:
    """/readyz wants a worker seen recently: every worker process refreshes a key in the cache."""
    from apps.common.health import worker_heartbeat_start

    worker_heartbeat_start()


@task_prerun.connect
def start_with_empty_log_context(**_) -> None:
    """A worker thread runs one task after another: no run's or request's fields carry over."""
    from apps.common import logs

    logs.clear()
