"""What other apps hear about runs (alerts, webhooks, schedules that follow a sync). Sent with
`send_robust` from the run services once the change is stored: a failing receiver is logged and never
changes the run."""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Both are sent with `run=<SyncRun>` (sender=SyncRun).
run_started = Signal()  # queued → running
run_finished = Signal()  # → any end status (statuses.run_status; reaped and cancelled runs too)


def announce(signal: Signal, run) -> None:
    for receiver, result in signal.send_robust(sender=type(run), run=run):
        if isinstance(result, Exception):
            logger.error("%s receiver %r failed for run %s", signal, receiver, run.pk, exc_info=result)
