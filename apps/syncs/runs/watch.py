"""The watch beside a running run: its heartbeat, its Cancel and its worker's shutdown."""

from __future__ import annotations

import logging
import threading
import time
from contextvars import copy_context
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError
from django.db import connection as db_connection

from apps.connections.sources.base import SourceAdapter
from apps.syncs.models import SyncRun
from apps.syncs.runs import services as run_services

logger = logging.getLogger(__name__)

CANCEL_CHECK_SECONDS = 1.0  # how soon a running run hears of its Cancel


class Stop(StrEnum):
    """Why `run_load` returned."""

    DONE = "done"  # every record planned and settled
    CANCELLED = "cancelled"  # a user asked to stop
    SLICE_ENDED = "slice_ended"  # the slice's time is up: the run goes on in a new task
    SHUTDOWN = "shutdown"  # the worker is shutting down: the run goes on in a new task, on another worker


# The runs executing in this process, for a warm shutdown to stop them (`runs_stop_for_shutdown`).
_watches: set[RunWatch] = set()
_watches_lock = threading.Lock()


class RunWatch(threading.Thread):
    """Runs beside a running run, on a thread (and a database connection) of its own:
    - tells the database every few seconds that the run's worker is alive, whatever the run is doing (a
      long warehouse query included), so that a run whose worker died can be told apart and ended;
    - asks every second whether a user cancelled the run;
    - once the run is to stop (cancelled, or its worker shutting down), interrupts the run's warehouse
      query, and again every second until the run is over: an interrupt that lands between two
      statements stops nothing, and the next statement must not run its course either.
    The Intercom loop reads `stop` before each record."""

    def __init__(self, run: SyncRun):
        super().__init__(name=f"watch-{run.pk}", daemon=True)
        self.sync_run = run
        self.adapter: SourceAdapter | None = None  # set once the run has built it
        self.cancelled, self.shutting_down = threading.Event(), threading.Event()
        self.lost = threading.Event()  # the run was ended by the reaper while this worker ran it
        self._over, self._wake = threading.Event(), threading.Event()
        self._context = copy_context()  # the run's log fields, for the lines this thread writes

    @property
    def stop(self) -> Stop | None:
        """Why the run is to stop, if it is; a user's cancel wins over a shutdown."""
        if self.cancelled.is_set():
            return Stop.CANCELLED
        if self.shutting_down.is_set():
            return Stop.SHUTDOWN
        return None

    def run(self) -> None:
        self._context.run(self._watch)

    def _watch(self) -> None:
        beat_every = settings.SYNC_RUN_HEARTBEAT_SECONDS
        next_beat = time.monotonic() + beat_every
        try:
            while True:
                self._wake.wait(min(CANCEL_CHECK_SECONDS, beat_every))
                self._wake.clear()
                if self._over.is_set():
                    return
                try:
                    if time.monotonic() >= next_beat:
                        if not run_services.run_heartbeat(run=self.sync_run):
                            # Reaped (this worker looked dead): stop sending, the recovery run goes on.
                            self.lost.set()
                            self.cancelled.set()
                        next_beat = time.monotonic() + beat_every
                    if not self.cancelled.is_set() and run_services.run_cancel_requested(run=self.sync_run):
                        self.cancelled.set()
                except DatabaseError:  # a blip must not end the heartbeat: the run would be reaped
                    logger.warning("Run %s: could not reach the database", self.sync_run.pk, exc_info=True)
                    db_connection.close()
                if self.stop is not None and self.adapter is not None:
                    self.adapter.interrupt()
        finally:
            db_connection.close()  # this thread's own database connection

    def __enter__(self) -> RunWatch:
        with _watches_lock:
            _watches.add(self)
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with _watches_lock:
            _watches.discard(self)
        self._over.set()
        self._wake.set()
        self.join(timeout=10)

    def shut_down(self) -> None:
        self.shutting_down.set()
        self._wake.set()


def runs_stop_for_shutdown() -> int:
    """This worker process is shutting down (warm): stop its running runs within seconds instead of
    waiting for their warehouse queries (up to the extraction limit, an hour). Each one settles the
    records in flight and is queued again, as at the end of a slice, for another worker to go on with;
    none of them is marked cancelled. Returns how many. Safe to call from a signal handler: it only
    wakes the runs' watch threads, which do the interrupting."""
    with _watches_lock:
        watches = list(_watches)
    for watch in watches:
        watch.shut_down()
    return len(watches)
