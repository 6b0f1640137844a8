"""The Celery app. Tasks subclass DjangoTask so `task.delay_on_commit()` enqueues only after the
transaction that created the work has committed (a rollback enqueues nothing)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("syncline", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
