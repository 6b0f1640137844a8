"""What hears of a run's start and end, told explicitly and durably.

Every change of a run to an end status (succeeded, with warnings, partially failed, failed, cancelled —
a queued run too —, and runs the reaper ended) goes through `run_ended`, which enqueues `run_finished_task`
once the change commits; a run's first start goes through `run_started`. The task tells each listener
below in turn, each in its own transaction with the mark that it was told (`SyncRun.announced`): one that
fails does not keep the others from hearing, and the task is retried with backoff for it alone; one that
was told is never told again (no second email or webhook when the task runs twice).

The listeners are named by their dotted paths: alerts and webhooks live in `apps.alerts`, which depends
on syncs and not the other way round."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.module_loading import import_string

from apps.syncs.models import SyncRun
from apps.syncs.tasks import ListenersFailed, run_finished_task, run_started_task

logger = logging.getLogger(__name__)

# Called with `run=<SyncRun>`, in this order.
LISTENERS: dict[str, dict[str, str]] = {
    "started": {"webhooks": "apps.alerts.webhooks.webhooks_run_started"},
    "finished": {
        "metrics": "apps.syncs.runs.metrics.count_finished_run",
        "followers": "apps.syncs.schedules.services.sequence_run_finished",
        "alerts": "apps.alerts.services.alerts_run_finished",
        "webhooks": "apps.alerts.webhooks.webhooks_run_finished",
    },
}


def run_ended(run: SyncRun) -> None:
    """The one way a run's end is announced: call it in the transaction that stored the end status."""
    run_finished_task.apply_async_on_commit(args=[run.pk])


def run_started(run: SyncRun) -> None:
    run_started_task.apply_async_on_commit(args=[run.pk])


def run_announce(*, run_id: int, event: str) -> list[str]:
    """Tell the listeners of `event` that have not heard of the run yet; returns their names. Raises
    ListenersFailed (after telling every other one) when some failed."""
    told, failed = [], []
    for name, path in LISTENERS[event].items():
        mark = f"{event}:{name}"
        try:
            with transaction.atomic():
                # The task only has an id (system work); the lock keeps a second delivery from telling twice.
                runs = SyncRun.objects.across_all_workspaces_unsafe().filter(pk=run_id)
                run = runs.select_for_update(of=("self",)).select_related("sync", "workspace").first()
                if run is None or mark in run.announced:
                    continue
                import_string(path)(run=run)
                runs.update(announced=[*run.announced, mark])
            told.append(name)
        except Exception:
            logger.exception("Telling %s that run %s %s failed; it will be retried", name, run_id, event)
            failed.append(name)
    if failed:
        raise ListenersFailed(f"run {run_id} {event}: {', '.join(failed)} failed")
    return told
