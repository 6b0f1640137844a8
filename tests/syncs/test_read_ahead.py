"""`read_ahead`: a rerun's first pass reads the warehouse's next batches in a thread while it plans."""

from __future__ import annotations

import threading
import time

import pytest

from apps.connections.sources.errors import QueryInterrupted
from apps.syncs.runs.planning import read_ahead


def test_batches_come_in_order_while_the_next_ones_are_read():
    read_at: dict[int, float] = {}

    def warehouse():
        for n in range(6):
            read_at[n] = time.monotonic()
            yield [n]

    got = []
    for batch in read_ahead(warehouse(), depth=2):
        time.sleep(0.05)  # planning this batch
        got.append((batch, time.monotonic()))
    assert [batch for batch, _ in got] == [[n] for n in range(6)]
    # Batch 1 was read before batch 0 had been planned: the read ran ahead.
    assert read_at[1] < got[0][1]


def test_the_reads_error_is_raised_in_the_callers_thread():
    def warehouse():
        yield [1]
        raise QueryInterrupted()

    batches = read_ahead(warehouse())
    assert next(batches) == [1]
    with pytest.raises(QueryInterrupted):
        next(batches)


def test_a_caller_that_stops_early_stops_the_read_and_closes_it():
    closed = threading.Event()

    def warehouse():
        try:
            n = 0
            while True:
                yield [n]
                n += 1
        finally:
            closed.set()  # the cursor is closed

    batches = read_ahead(warehouse(), depth=2)
    assert next(batches) == [0]
    batches.close()
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]
