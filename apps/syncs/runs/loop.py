"""The Intercom loop of a run: planned records sent through a bounded thread pool under the shared rate
limiter, until done, cancelled, shut down or out of slice time."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from queue import Empty, SimpleQueue

from django.conf import settings

from apps.connections.sources.errors import QueryInterrupted
from apps.syncs.engine.load import IntercomLoader
from apps.syncs.engine.plan import PlannedRecord
from apps.syncs.models import SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.runs.recorder import RunRecorder
from apps.syncs.runs.watch import RunWatch, Stop

PROGRESS_EVERY_SECONDS = 2.0


def _planned(
    records: Iterator[PlannedRecord],
    recorder: RunRecorder,
    watch: RunWatch | None,
    size: int,
    slice_ends: float,
) -> tuple[list[PlannedRecord], Stop | None]:
    """The next `size` records, counted: those to send, and why to stop after them (None: go on).
    A record read once the run is to stop is not counted: a later slice plans it again. A slice ends
    only past the rows earlier slices got through: each one makes progress."""
    to_send: list[PlannedRecord] = []
    for _ in range(size):
        if time.monotonic() >= slice_ends and recorder.position > recorder.replayed_rows:
            return to_send, Stop.SLICE_ENDED
        try:
            record = next(records)
        except StopIteration:
            return to_send, Stop.DONE
        except QueryInterrupted:
            if watch is None or watch.stop is None:
                raise
            return to_send, watch.stop
        if watch is not None and watch.stop is not None:
            return to_send, watch.stop
        if recorder.planned(record):
            to_send.append(record)
    return to_send, None


def run_load(
    *,
    records: Iterable[PlannedRecord],
    loader: IntercomLoader,
    recorder: RunRecorder,
    run: SyncRun,
    watch: RunWatch | None = None,
) -> Stop:
    """Send every record that needs a call through a bounded pool. Stops taking records when the run is
    to stop (`watch`: a cancel, the worker's shutdown; the warehouse query it interrupts ends the records
    early) or the slice's time (SYNC_RUN_SLICE_SECONDS) is up; the records in flight are settled first.

    Records are planned a few at a time (as many as the pool has threads), so that the events among them
    are noted in flight in one statement before any of them is sent. Up to four times as many records as
    threads wait in the pool's queue: while the planner plans its next batch of rows (a second or so for
    5,000), the threads still have calls to make."""
    workers = settings.SYNC_CONCURRENCY
    in_flight: dict[Future, PlannedRecord] = {}
    now = time.monotonic()
    next_progress, slice_ends = now + PROGRESS_EVERY_SECONDS, now + settings.SYNC_RUN_SLICE_SECONDS
    records = iter(records)

    # Each call, once answered, queues itself here: waiting for one of a hundred futures with
    # `concurrent.futures.wait` would hook into every one of them each time.
    answered: SimpleQueue[Future] = SimpleQueue()

    def settle(future: Future) -> None:
        """Record this answer and any others already in, in the order they came."""
        while True:
            recorder.loaded(in_flight.pop(future), future.result())  # AuthFailure propagates from here
            try:
                future = answered.get(block=False)
            except Empty:
                return

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run-{run.pk}") as pool:
        try:
            while True:
                to_send, stop = _planned(records, recorder, watch, workers, slice_ends)
                recorder.note_events()
                for record in to_send:
                    # In a copy of the run's context: the record's log lines carry the run's fields.
                    future = pool.submit(copy_context().run, loader.apply, record)
                    in_flight[future] = record
                    future.add_done_callback(answered.put)
                    if len(in_flight) >= workers * 4:
                        settle(answered.get())
                if stop is not None:
                    break
                now = time.monotonic()
                if now >= next_progress:
                    recorder.take_client_stats(loader.client)
                    if run_services.run_save_progress(run=run, counts=recorder.counts):
                        stop = Stop.CANCELLED
                        break
                    next_progress = now + PROGRESS_EVERY_SECONDS
            while in_flight:
                settle(answered.get())
        finally:
            for future in in_flight:
                future.cancel()
    return stop if stop is not None else Stop.DONE
