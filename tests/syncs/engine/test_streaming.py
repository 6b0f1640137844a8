"""The planner streams: it reads the model batch by batch and keeps only the keys it has seen."""

from __future__ import annotations

import tracemalloc

from apps.connections.intercom.catalog import Behavior, FieldType
from apps.syncs.engine.config import SyncConfig, SyncKey, mapping
from apps.syncs.engine.ledger import InMemoryLedger
from apps.syncs.engine.plan import Operation, duplicate_keys, plan, summarize

ROWS = 200_000
BATCH = 5_000
COLUMNS = ["email", "name", "seats", "signed_up"]
CONFIG = SyncConfig(
    "user",
    Behavior.UPSERT,
    SyncKey("email", "email"),
    mappings=(
        mapping("name", FieldType.STRING, "name"),
        mapping("signed_up_at", FieldType.DATE, "signed_up"),
        mapping("seats", FieldType.INTEGER, "seats", custom=True),
    ),
)


class Model:
    """A model produced batch by batch, counting how far the reader has gone."""

    def __init__(self, rows: int, batch: int):
        self.rows, self.batch, self.produced = rows, batch, 0

    def batches(self):
        for start in range(0, self.rows, self.batch):
            batch = [
                (f"user{i}@example.com", f"User number {i}", str(i % 50), "2026-01-01T00:00:00Z")
                for i in range(start, start + self.batch)
            ]
            if start == self.batch:
                batch[0] = ("user0@example.com", "a duplicate of the first row", "1", None)
            self.produced += len(batch)
            yield batch


def test_planner_reads_200k_rows_one_batch_at_a_time():
    model = Model(ROWS, BATCH)
    ledger = InMemoryLedger()
    consumed = 0
    read_ahead = 0

    def watched(records):
        nonlocal consumed, read_ahead
        for record in records:
            consumed += 1
            read_ahead = max(read_ahead, model.produced - consumed)
            yield record

    duplicates = duplicate_keys(([row[0] for row in batch] for batch in Model(ROWS, BATCH).batches()), CONFIG)
    summary = summarize(watched(plan(model.batches(), COLUMNS, CONFIG, ledger, duplicates=duplicates)))

    assert summary.counts == {Operation.CREATE: ROWS - 2, Operation.INVALID: 2}
    assert model.produced == consumed == ROWS
    assert read_ahead < BATCH  # never more than the current batch read ahead of what was yielded
    assert ledger.lookups == ROWS // BATCH  # one ledger query per batch


def test_planner_memory_is_the_seen_keys_plus_one_batch():
    """tracemalloc slows Python down several times, so this one plans a smaller model."""
    rows, batch = 40_000, 1_000

    def peak_of(rows):
        tracemalloc.start()
        try:
            model = Model(rows, batch)
            duplicates = duplicate_keys(([row[0] for row in b] for b in model.batches()), CONFIG)
            summarize(plan(model.batches(), COLUMNS, CONFIG, InMemoryLedger(), duplicates=duplicates))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_of(rows // 4), peak_of(rows)
    # 30,000 more rows cost only their keys in the "seen" set (~120 bytes each); holding their rows or
    # planned records would cost ten times that.
    assert large - small < 30_000 * 200, f"{(large - small) / 30_000:.0f} bytes per extra row"
    assert large < 8 * 2**20, f"peak {large / 2**20:.1f} MiB"
