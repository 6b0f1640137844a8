# Load the Celery app whenever Django starts, so tasks use it and on_commit enqueueing works.
from config.celery import app as celery_app

__all__ = ["celery_app"]
