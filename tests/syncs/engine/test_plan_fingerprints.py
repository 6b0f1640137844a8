"""Planning by fingerprint gives the plan that reading every row gives.

The warehouse is played by a list of rows and a fingerprint function (any function of the fingerprinted
columns and a salt will do: the planner only compares them). The ledger comes from a run of a previous
model, damaged as in test_plan_properties; the current model has rows changed, added, removed,
duplicated and without keys.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.connections.intercom.catalog import Behavior
from apps.connections.sources.base import PairBatch
from apps.syncs.engine.config import NullPolicy
from apps.syncs.engine.ledger import InMemoryLedger, LedgerEntry
from apps.syncs.engine.plan import Operation, fingerprint_columns, plan, plan_by_fingerprint
from tests.syncs.engine.simulator import FakeIntercom, apply
from tests.syncs.engine.test_plan_properties import COLUMNS, config_for, worlds


def with_fingerprints(model, config, salt: str) -> list[tuple]:
    positions = [COLUMNS.index(column) for column in fingerprint_columns(config)]
    return [(*row, fingerprint(salt + repr([row[i] for i in positions]))) for row in model]


def fingerprint(text: str) -> str:
    """A 64-bit integer in decimal, as a warehouse writes a fingerprint."""
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return str(int.from_bytes(digest[:8], "big", signed=True))


class Warehouse:
    """Both passes of a fingerprinted read over a list of rows; counts what the second pass reads."""

    def __init__(self, rows: list[tuple], *, second_read: list[tuple] | None = None):
        self.rows, self.second_read = rows, second_read if second_read is not None else rows
        self.rows_read = 0

    def keys(self):
        return [PairBatch.of([(row[0], row[-1]) for row in self.rows])]

    def rows_of(self, only):
        fingerprints = None if only is None else {fingerprint for _, fingerprint in only}
        chosen = [row for row in self.second_read if only is None or row[-1] in fingerprints]
        self.rows_read += len(chosen)
        return [chosen]


def previous_run(config, model, salt: str, perturb: dict[str, str]) -> InMemoryLedger:
    intercom, ledger = FakeIntercom(), InMemoryLedger()
    rows = with_fingerprints(model, config, salt)
    apply(plan([rows], COLUMNS, config, ledger, first_run=True, fingerprinted=True), intercom, ledger)
    for key, how in perturb.items():
        entry = ledger.entries.get(key)
        if entry is None or how == "keep":
            continue
        if how == "drop":
            del ledger.entries[key]
        elif how == "stale":  # Intercom accepted something else since: the hash and fingerprint differ
            ledger.entries[key] = LedgerEntry(
                "0" * 64, entry.destination_id, None, entry.payload, None, "f" * 32
            )
        elif how == "no_payload":
            ledger.entries[key] = LedgerEntry(
                entry.payload_hash, entry.destination_id, row_hash=entry.row_hash
            )
        elif how == "rejected":
            ledger.entries[key] = LedgerEntry(None, None, "data_invalid: nope", row_hash=entry.row_hash)
    return ledger


def outcome(records, *, with_row_hash: bool = True) -> Counter:
    """The plan as a multiset: the number of unchanged rows; every other record with everything it
    carries (with the same rows on both sides, the same records and count mean the same unchanged keys)."""
    out = Counter()
    for r in records:
        if r.operation is Operation.UNCHANGED and not r.row_hash_stale:
            out["unchanged rows"] += r.rows
        else:
            row_hash = r.row_hash if with_row_hash else None
            out[
                (
                    r.key,
                    r.operation,
                    repr(r.payload),
                    r.payload_hash,
                    r.destination_id,
                    r.company_id,
                    repr(r.changes),
                    row_hash,
                    r.row_hash_stale,
                    r.reason,
                )
            ] += 1
    return out


@pytest.mark.parametrize("on_null", list(NullPolicy), ids=["nulls-kept", "nulls-cleared"])
@pytest.mark.parametrize("behavior", [Behavior.UPSERT, Behavior.UPDATE_ONLY])
@pytest.mark.parametrize("object_key", ["company", "user"])
@given(
    world=worlds(),
    config_changed=st.booleans(),
    reread_limit=st.sampled_from([0, 1, 1000]),  # 0: every row is read again; 1000: by fingerprint
)
def test_planning_by_fingerprint_equals_reading_every_row(
    object_key, behavior, on_null, world, config_changed, reread_limit
):
    config = config_for(object_key, behavior, on_null=on_null)
    ledger = previous_run(config, world["previous"], "before", world["perturb"])
    current = with_fingerprints(world["current"], config, "after" if config_changed else "before")
    warehouse = Warehouse(current)

    every_row = list(plan([current], COLUMNS, config, ledger, fingerprinted=True))
    by_fingerprint = list(
        plan_by_fingerprint(
            warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger, reread_limit=reread_limit
        )
    )

    assert outcome(by_fingerprint) == outcome(every_row)
    unchanged_by_fingerprint = sum(
        r.operation is Operation.UNCHANGED and r.payload is None for r in by_fingerprint
    )
    if reread_limit == 1000:  # read by fingerprint: only the rows of keys not unchanged by fingerprint
        assert warehouse.rows_read <= len(current) - unchanged_by_fingerprint


@given(world=worlds())
def test_a_query_whose_values_change_between_reads_still_plans_every_key(world):
    """random() or a clock in the model: the second read has other fingerprints; rows are found by key."""
    config = config_for("user", Behavior.UPSERT)
    ledger = previous_run(config, world["previous"], "before", {})
    first = with_fingerprints(world["current"], config, "first read")
    warehouse = Warehouse(first, second_read=with_fingerprints(world["current"], config, "second read"))

    every_row = list(plan([warehouse.second_read], COLUMNS, config, ledger, fingerprinted=True))
    by_fingerprint = list(plan_by_fingerprint(warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger))

    def plain(records):
        return Counter((r.key, r.operation, repr(r.payload), r.reason) for r in records)

    assert plain(by_fingerprint) == plain(every_row)


def test_a_configuration_change_reads_every_row_once_then_none():
    """Mappings reordered: the salt changes every fingerprint, no payload changes; the run stores the new
    fingerprints (row_hash_stale), so the next plan reads no row at all."""
    config = config_for("user", Behavior.UPSERT)
    model = [("k0", "Ada", 1, 0.5, "o1"), ("k1", "Bob", 2, None, None), ("k2", None, None, None, "o2")]
    ledger = previous_run(config, model, "before", {})
    warehouse = Warehouse(with_fingerprints(model, config, "after"))

    records = list(plan_by_fingerprint(warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger))
    assert {(r.key, r.operation, r.row_hash_stale) for r in records} == {
        (key, Operation.UNCHANGED, True) for key in ("k0", "k1", "k2")
    }
    assert warehouse.rows_read == 3
    for record in records:
        ledger.record_row_hash(record.key, record.row_hash)  # what the run does for stale fingerprints

    warehouse = Warehouse(with_fingerprints(model, config, "after"))
    records = list(plan_by_fingerprint(warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger))
    assert [(r.key, r.operation, r.rows) for r in records] == [(None, Operation.UNCHANGED, 3)]
    assert warehouse.rows_read == 0


def test_invalid_keys_are_reported_on_every_rerun_without_reading_their_rows():
    config = config_for("user", Behavior.UPSERT)
    model = [("k0", "Ada", 1, 0.5, "o1"), (None, "Nobody", 1, None, None), ("k0", "Again", 2, None, None)]
    ledger = previous_run(config, model, "salt", {})
    warehouse = Warehouse(with_fingerprints(model, config, "salt"))

    records = list(plan_by_fingerprint(warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger))

    # The row without a key at once; the duplicate key's rows once every key has been seen.
    assert [(r.key, r.operation, r.row_number) for r in records] == [
        (None, Operation.INVALID, 2),
        ("k0", Operation.INVALID, 0),
        ("k0", Operation.INVALID, 0),
    ]
    assert "empty" in records[0].reason
    assert "appears in 2 rows" in records[1].reason and records[1].reason == records[2].reason
    assert warehouse.rows_read == 0


def test_a_key_in_several_rows_is_invalid_in_all_of_them_however_many_were_unchanged():
    """The first pass never reads the key of a row the ledger holds: two such rows of one key share a
    fingerprint, and a key both unchanged and changed is found where its ledger entry is read."""
    config = config_for("user", Behavior.UPSERT)
    previous = [("k0", "Ada", 1, None, None), ("k1", "Bob", 1, None, None), ("k2", "Cy", 1, None, None),
                ("k3", "Dee", 1, None, None)]  # fmt: skip
    ledger = previous_run(config, previous, "salt", {})
    current = [
        ("k1", "Bobby", 1, None, None),  # changed, before its unchanged row
        *previous,
        ("k0", "Ada", 1, None, None),  # the same row twice
        ("k2", "C1", 1, None, None),  # and twice changed
        ("k2", "C2", 1, None, None),
    ]
    warehouse = Warehouse(with_fingerprints(current, config, "salt"))

    records = list(plan_by_fingerprint(warehouse.keys(), warehouse.rows_of, COLUMNS, config, ledger))

    invalid = Counter((r.key, r.reason) for r in records if r.operation is Operation.INVALID)
    assert {(key, count) for (key, _), count in invalid.items()} == {("k0", 2), ("k1", 2), ("k2", 3)}
    for (key, reason), count in invalid.items():
        assert f"“{key}” appears in {count} rows" in reason
    assert [r.rows for r in records if r.operation is Operation.UNCHANGED] == [1]  # k3
    assert len(records) == 2 + 2 + 3 + 1


def test_numpy_is_loaded_only_when_a_rerun_reads_fingerprints():
    """numpy costs every process 15 MB: web processes and runs that never reach a first pass skip it."""
    code = (
        "import sys, django; django.setup(); "
        "import apps.syncs.tasks, apps.syncs.views, apps.syncs.runs.planning, apps.connections.services; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'numpy')[:1])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
