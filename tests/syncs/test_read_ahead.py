"""`ReadAhead`: a rerun's first pass reads the warehouse's next batches in a thread while it plans."""

from __future__ import annotations

import threading
import time

import pytest

from apps.connections.sources.errors import QueryInterrupted
from apps.syncs.runs.planning import ReadAhead


def test_batches_come_in_order_while_the_next_ones_are_read():
    read_at: dict[int, float] = {}

    def warehouse():
        for n in range(6):
            read_at[n] = time.monotonic()
            yield [n]

    got = []
    for batch in ReadAhead(warehouse(), depth=2):
        time.sleep(0.05)  # planning this batch
        got.append((batch, time.monotonic()))
    assert [batch for batch, _ in got] == [[n] for n in range(6)]
    # Batch 1 was read before batch 0 had been planned: the read ran ahead.
    assert read_at[1] < got[0][1]


def test_the_reads_error_is_raised_in_the_callers_thread():
    def warehouse():
        yield [1]
        raise QueryInterrupted()

    batches = ReadAhead(warehouse())
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

    batches = ReadAhead(warehouse(), depth=2)
    assert next(batches) == [0]
    batches.close()
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_the_read_starts_before_the_first_batch_is_asked_for():
    """The ledger's fingerprints are read meanwhile: the warehouse must not wait for them."""
    started = threading.Event()

    def warehouse():
        started.set()
        yield [0]

    with ReadAhead(warehouse()) as batches:
        assert started.wait(timeout=5)
        assert list(batches) == [[0]]
