from celery import shared_task


@shared_task
def ping() -> str:
    """Round trip through the broker and a worker; used by health checks and the worker tests."""
    return "pong"
