from celery import shared_task
from celery.signals import worker_ready


@shared_task
def ping() -> str:
    """Round trip through the broker and a worker; used by health checks and the worker tests."""
    return "pong"


@worker_ready.connect
def start_worker_heartbeat(**_) -> None:
    """/readyz wants a worker seen recently: every worker process refreshes a key in the cache."""
    from apps.common.health import worker_heartbeat_start

    worker_heartbeat_start()
