"""Property-based tests of the planner: any previous ledger, any current model.

Each test checks the plan against a small reference model written here from the rules (not from the
planner's code), applies the plan to a fake Intercom (tests/syncs/engine/simulator.py), checks that
Intercom then holds what the model says, and that planning again makes no call.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.connections.intercom.catalog import Behavior, FieldType
from apps.syncs.engine.config import (
    EventContactKey,
    EventOptions,
    FirstRunMode,
    NullPolicy,
    SyncConfig,
    SyncKey,
    mapping,
)
from apps.syncs.engine.ledger import InMemoryLedger, LedgerEntry
from apps.syncs.engine.plan import Operation, plan
from tests.syncs.engine.simulator import FakeIntercom, apply

COLUMNS = ["key", "name", "size", "score", "org"]
BAD = object()  # the reference's "cannot be coerced"

# Keys: a few texts and ints (1 and "1" are the same key), NULL and blanks.
keys = st.one_of(st.sampled_from(["k0", "k1", "k2", "k3", "k4", "1", None, "", "  "]), st.integers(0, 2))
names = st.one_of(st.none(), st.sampled_from(["Ada", "Bob", "", "Zoë"]), st.just(["a", "list"]))
sizes = st.one_of(
    st.none(), st.integers(-1000, 1000), st.sampled_from(["12", " 7 "]), st.sampled_from(["x", 1.5, True])
)
scores = st.one_of(
    st.none(), st.integers(-5, 5), st.sampled_from([0.5, 2.0, "3.25"]), st.sampled_from(["abc", float("nan")])
)
orgs = st.one_of(st.none(), st.sampled_from(["o1", "o2"]))
rows = st.lists(st.tuples(keys, names, sizes, scores, orgs), max_size=12)
perturbations = st.sampled_from(["keep", "keep", "drop", "stale", "no_payload", "rejected"])


def config_for(object_key: str, behavior: Behavior, *, on_null: NullPolicy = NullPolicy.KEEP) -> SyncConfig:
    """Every mapping with the same null policy (under CLEAR, no company field can be cleared: the catalog)."""
    if object_key == "company":
        return SyncConfig(
            "company",
            behavior,
            SyncKey("key", "company_id"),
            mappings=(
                mapping("name", FieldType.STRING, "name", on_null=on_null),
                mapping("size", FieldType.INTEGER, "size", on_null=on_null),
                mapping("plan", FieldType.STRING, constant="pro", on_null=on_null),
                mapping("score", FieldType.FLOAT, "score", custom=True, on_null=on_null),
            ),
        )
    return SyncConfig(
        object_key,
        behavior,
        SyncKey(
            "key", "external_id"
        ),  # as written: email keys are normalised (tests/syncs/engine/test_plan.py)
        mappings=(
            mapping("name", FieldType.STRING, "name", on_null=on_null),
            mapping("size", FieldType.INTEGER, "size", custom=True, on_null=on_null),
            mapping("score", FieldType.FLOAT, "score", custom=True, on_null=on_null),
        ),
        company_id_column="org" if behavior is not Behavior.DELETE else None,
    )


# --- the reference model -------------------------------------------------------------------------------


def ref_key(value):
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def ref_integer(value):
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return BAD


def ref_float(value):
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    if value == 0.5 or value == "3.25":
        return float(value)
    if value == 2.0:
        return 2  # whole numbers are sent as integers
    return BAD


def ref_string(value):
    return value if value is None or isinstance(value, str) else BAD


def ref_payload(config: SyncConfig, key: str, row) -> dict | None:
    """The full body the model asks for (NULLs included), or None when a value cannot be coerced."""
    _, name, size, score, _ = row
    name, size, score = ref_string(name), ref_integer(size), ref_float(score)
    if BAD in (name, size, score):
        return None
    if config.object_key == "company":
        return {
            "company_id": key,
            "name": name,
            "size": size,
            "plan": "pro",
            "custom_attributes": {"score": score},
        }
    return {
        "external_id": key,
        "role": "user",
        "name": name,
        "custom_attributes": {"size": size, "score": score},
    }


def without_nulls(payload: dict) -> dict:
    out = {k: v for k, v in payload.items() if v is not None and k != "custom_attributes"}
    custom = {k: v for k, v in payload.get("custom_attributes", {}).items() if v is not None}
    if custom:
        out["custom_attributes"] = custom
    return out


def nulls_clear(config: SyncConfig) -> bool:
    """The reference's rule: a NULL is sent (and clears) only under CLEAR on a contact's name and custom
    attributes; company fields and company custom attributes cannot be cleared."""
    return config.mappings[0].on_null is NullPolicy.CLEAR and config.object_key != "company"


def sent(config: SyncConfig, full: dict) -> dict:
    """The body the model's row asks for: NULLs that keep Intercom's value left out."""
    return full if nulls_clear(config) else without_nulls(full)


def merged(old: dict, new: dict) -> dict:
    out = dict(old) | new
    if "custom_attributes" in old or "custom_attributes" in new:
        out["custom_attributes"] = old.get("custom_attributes", {}) | new.get("custom_attributes", {})
    return out


def first_occurrences(config: SyncConfig, model) -> tuple[dict[int, tuple[str, dict]], set[int]]:
    """Row index → (key, full payload) of the valid rows; and the indexes of invalid rows. A key that
    several rows have makes all of them invalid."""
    valid, invalid = {}, set()
    rows_of = Counter(ref_key(row[0]) for row in model)
    for index, row in enumerate(model):
        key = ref_key(row[0])
        if key is None or rows_of[key] > 1:
            invalid.add(index)
            continue
        payload = ref_payload(config, key, row)
        if payload is None:
            invalid.add(index)
        else:
            valid[index] = (key, payload)
    return valid, invalid


# --- the previous world ---------------------------------------------------------------------------------


def previous_world(config: SyncConfig, previous_model, perturb: dict[str, str], foreign: dict[str, dict]):
    """Intercom and the ledger after a run of `previous_model`, then damaged: entries dropped, stale hashes,
    payloads not kept, rejections; plus records Intercom has that the ledger never saw (`foreign`)."""
    intercom, ledger = FakeIntercom(), InMemoryLedger()
    for key, state in foreign.items():
        intercom.add(key, state)
    apply(plan([previous_model], COLUMNS, config, ledger, first_run=True), intercom, ledger)
    truth = {}
    for key, entry in list(ledger.entries.items()):
        how = perturb.get(key, "keep")
        truth[key] = (entry.payload, entry.company_id)
        if how == "drop":
            del ledger.entries[key]
        elif how == "stale":
            ledger.entries[key] = LedgerEntry(
                "0" * 64, entry.destination_id, None, entry.payload, entry.company_id
            )
        elif how == "no_payload":
            ledger.entries[key] = LedgerEntry(entry.payload_hash, entry.destination_id, None, None, None)
        elif how == "rejected":
            ledger.entries[key] = LedgerEntry(None, None, "data_invalid: nope")
    return intercom, ledger, truth


@st.composite
def current_models(draw, previous):
    """The previous model with some rows kept, some changed (one value each) and some removed, plus new rows."""
    current = []
    for row in previous:
        action = draw(st.sampled_from(["keep", "change", "change", "remove"]))
        if action == "keep":
            current.append(row)
        elif action == "change":
            column = draw(st.integers(1, 4))
            value = draw(st.one_of(st.none(), [names, sizes, scores, orgs][column - 1]))  # NULLs are common
            current.append(row[:column] + (value,) + row[column + 1 :])
    current += draw(st.lists(st.tuples(keys, names, sizes, scores, orgs), max_size=4))
    return draw(st.permutations(current))


@st.composite
def worlds(draw):
    previous = draw(rows)
    return {
        "previous": previous,
        "current": draw(st.one_of(current_models(previous), current_models(previous), rows)),
        "perturb": draw(st.dictionaries(st.sampled_from(["k0", "k1", "k2", "1", "0"]), perturbations)),
        "foreign": draw(
            st.dictionaries(
                st.sampled_from(["k3", "k4", "2"]),
                st.fixed_dictionaries({"name": st.just("Foreign"), "industry": st.just("x")}),
            )
        ),
        "full_resync": draw(st.booleans()),
    }


@pytest.mark.parametrize("on_null", list(NullPolicy), ids=["nulls-kept", "nulls-cleared"])
@pytest.mark.parametrize("object_key", ["company", "user"])
@given(world=worlds())
def test_update_or_create_plans_the_right_set_and_converges(object_key, on_null, world):
    config = config_for(object_key, Behavior.UPSERT, on_null=on_null)
    intercom, ledger, truth = previous_world(config, world["previous"], world["perturb"], world["foreign"])
    before = {key: dict(state) for key, state in intercom.records.items()}
    entries_before = dict(ledger.entries)
    model = world["current"]

    records = list(plan([model], COLUMNS, config, ledger, full_resync=world["full_resync"]))

    # The plan is exactly the reference's.
    assert [r.row_number for r in records] == list(range(1, len(model) + 1))
    valid, invalid = first_occurrences(config, model)
    for index, record in enumerate(records):
        if index in invalid:
            assert record.operation is Operation.INVALID and record.reason
            continue
        key, full = valid[index]
        org = model[index][4] if config.company_id_column else None
        entry = entries_before.get(key)
        accepted = entry is not None and entry.payload_hash is not None
        if entry is not None and entry.payload is not None:
            # The last payload holds only fields of this configuration: every kept one is still mapped.
            expected_payload = (
                sent(config, full) if nulls_clear(config) else merged(entry.payload, sent(config, full))
            )
        else:
            expected_payload = sent(config, full)
        # A NULL company keeps the one attached (Syncline never detaches).
        expected_company = org if org is not None else (entry.company_id if entry is not None else None)
        same = (
            accepted
            and world["perturb"].get(key) != "stale"
            and (expected_payload, expected_company) == truth.get(key)
        )
        if same and not world["full_resync"]:
            expected = Operation.UNCHANGED
        else:
            expected = Operation.UPDATE if accepted else Operation.CREATE
        assert (record.key, record.operation) == (key, expected)
        assert record.payload == expected_payload
        assert record.company_id == expected_company
        assert record.destination_id == (entry.destination_id if entry else None)
        if expected is Operation.UPDATE and entry.payload is not None:
            old, new = _flat(entry.payload, entry.company_id), _flat(expected_payload, expected_company)
            assert _apply_changes(old, new, record.changes) == new

    apply(records, intercom, ledger)

    # Intercom now holds what the model says; the records the model does not name are untouched.
    named = set()
    for index, (key, full) in valid.items():
        named.add(key)
        org = model[index][4] if config.company_id_column else None
        expected_state = merged(before.get(key, {}), sent(config, full))
        company = org if org is not None else before.get(key, {}).get("_company")
        if company is not None:
            expected_state["_company"] = company
        assert intercom.records[key] == expected_state
    for key, state in before.items():
        if key not in named:
            assert intercom.records[key] == state

    # A second plan of the same model makes no call.
    again = Counter(r.operation for r in plan([model], COLUMNS, config, ledger))
    assert set(again) <= {Operation.UNCHANGED, Operation.INVALID}
    assert again[Operation.INVALID] == len(invalid)


def _apply_changes(old: dict, new: dict, changes: dict) -> dict:
    result = dict(old)
    for name, (before, after) in changes.items():
        assert before == old.get(name)
        if name in new:
            result[name] = after
        else:
            result.pop(name)
    return result


def _flat(payload: dict, company: str | None) -> dict:
    flat = {k: v for k, v in payload.items() if k != "custom_attributes"}
    flat |= {f"custom_attributes.{k}": v for k, v in payload.get("custom_attributes", {}).items()}
    if company is not None:
        flat["company"] = company
    return flat


@given(
    model=rows,
    known=st.dictionaries(st.sampled_from(["k0", "k1", "1"]), st.just("known")),
    unknown=st.sets(st.sampled_from(["k2", "k3", "0"])),
)
def test_update_only_updates_what_exists_and_creates_nothing(model, known, unknown):
    config = config_for("user", Behavior.UPDATE_ONLY)
    intercom, ledger = FakeIntercom(), InMemoryLedger()
    for key in known:
        intercom_id = intercom.add(key, {"email": key, "name": "Old"})
        ledger.record_accepted(key, payload_hash="old", destination_id=intercom_id, payload={"email": key})
    for key in unknown:
        intercom.add(key, {"email": key, "name": "Unknown to the ledger"})
    before = {key: dict(state) for key, state in intercom.records.items()}

    records = list(plan([model], COLUMNS, config, ledger))
    valid, invalid = first_occurrences(config, model)
    for index, record in enumerate(records):
        if index in invalid:
            assert record.operation is Operation.INVALID
            continue
        key = valid[index][0]
        if key in known:
            assert record.operation is Operation.UPDATE
            assert record.destination_id == intercom.ids[key]
        else:
            assert record.operation is Operation.UPDATE_IF_FOUND and record.destination_id is None

    apply(records, intercom, ledger)

    assert set(intercom.records) == set(before)  # nothing created, nothing removed
    named = {}
    for index, (key, full) in valid.items():
        named[key] = index
        expected_state = merged(before[key], sent(config, full)) if key in before else None
        if expected_state is not None and model[index][4] is not None:
            expected_state["_company"] = model[index][4]
        assert intercom.records.get(key) == expected_state
    for key, state in before.items():
        if key not in named:
            assert intercom.records[key] == state

    # Found records are now known and unchanged; records Intercom lacks are looked up again, never created.
    for record in plan([model], COLUMNS, config, ledger):
        if record.operation is Operation.INVALID:
            continue
        expected = Operation.UNCHANGED if record.key in before else Operation.UPDATE_IF_FOUND
        assert record.operation is expected


@given(
    model=rows,
    existing=st.sets(st.sampled_from(["k0", "k1", "k2", "1", "0", "k9"])),
    object_key=st.sampled_from(["company", "user", "lead"]),
    permanent=st.booleans(),
    runs=st.integers(1, 3),
)
def test_delete_removes_exactly_the_model_records(model, existing, object_key, permanent, runs):
    if object_key != "company":
        config = SyncConfig(
            object_key, Behavior.DELETE, SyncKey("key", "external_id"), permanent_delete=permanent
        )
    else:
        config = SyncConfig("company", Behavior.DELETE, SyncKey("key", "company_id"))
    intercom, ledger = FakeIntercom(), InMemoryLedger()
    for key in existing:
        intercom.add(key, {"name": key})
    expected_op = Operation.ARCHIVE if object_key != "company" and not permanent else Operation.DELETE

    records = list(plan([model], COLUMNS, config, ledger))
    in_model = set()
    for record in records:
        if record.operation is not Operation.INVALID:
            assert record.operation is expected_op
            in_model.add(record.key)
    rows_of = Counter(ref_key(row[0]) for row in model)
    valid_keys = {k for k, n in rows_of.items() if k is not None and n == 1}
    assert in_model == valid_keys
    assert Counter(r.operation for r in records)[Operation.INVALID] == len(model) - len(valid_keys)
    apply(records, intercom, ledger)
    assert set(intercom.records) == existing - in_model
    assert set(intercom.removed) == existing & in_model

    for _ in range(runs):  # later runs of the same model: nothing left to do
        again = {r.operation for r in plan([model], COLUMNS, config, ledger)}
        assert again <= {Operation.UNCHANGED, Operation.INVALID}


# --- Send ------------------------------------------------------------------------------------------------

EVENT_COLUMNS = ["event_id", "who", "at", "plan"]
EVENT = SyncConfig(
    "event",
    Behavior.SEND,
    SyncKey("event_id", "event_id"),
    event=EventOptions(
        contact_column="who",
        contact_key=EventContactKey.USER_ID,
        created_at_column="at",
        event_name="upgraded-plan",
        metadata_columns=("plan",),
    ),
)
event_rows = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["e1", "e2", "e3", "e4", "e5", "e6", None, ""]), st.integers(7, 9)),
        st.sampled_from(["u1", "u2", None]),
        st.sampled_from(
            [1_700_000_000, dt.datetime(2026, 1, 2, 3, 4, 5), "2026-11-28T10:00:00Z", "soon", None]
        ),
        st.sampled_from(["pro", None, 3]),
    ),
    max_size=10,
)


def event_first_valid(model) -> set[str]:
    valid = set()
    rows_of = Counter(ref_key(row[0]) for row in model)
    for event_id, who, at, _ in model:
        key = ref_key(event_id)
        if key is None or rows_of[key] > 1:
            continue
        if who is not None and at is not None and at != "soon":
            valid.add(key)
    return valid


@given(
    runs=st.lists(st.tuples(event_rows, st.booleans()), min_size=1, max_size=4),
    first_run=st.sampled_from(list(FirstRunMode)),
)
def test_send_sends_each_event_exactly_once_over_many_runs(runs, first_run):
    config = replace(EVENT, event=replace(EVENT.event, first_run=first_run))
    intercom, ledger = FakeIntercom(), InMemoryLedger()
    sent, skipped, eligible = Counter(), set(), set()
    for number, (model, full_resync) in enumerate(runs):
        records = list(
            plan([model], EVENT_COLUMNS, config, ledger, full_resync=full_resync, first_run=number == 0)
        )
        valid = event_first_valid(model)
        assert {r.key for r in records if r.operation is not Operation.INVALID} == valid
        for record in records:
            if record.operation is Operation.SEND:
                sent[record.key] += 1
            elif record.operation is Operation.SKIP:
                assert number == 0 and first_run is FirstRunMode.SKIP_EXISTING
                skipped.add(record.key)
        skipped_now = valid if number == 0 and first_run is FirstRunMode.SKIP_EXISTING else set()
        eligible |= valid - skipped_now
        apply(records, intercom, ledger)

    assert set(sent.values()) <= {1}
    assert set(sent) == eligible - skipped
    assert len(intercom.events) == sum(sent.values())
    for payload in intercom.events:
        assert payload["event_name"] == "upgraded-plan" and isinstance(payload["created_at"], int)
        assert payload["user_id"] in ("u1", "u2")
    last_model = runs[-1][0]
    again = {r.operation for r in plan([last_model], EVENT_COLUMNS, config, ledger, full_resync=True)}
    assert again <= {Operation.UNCHANGED, Operation.INVALID}


@given(world=worlds(), cuts=st.lists(st.integers(0, 16), max_size=5), full_resync=st.booleans())
def test_the_plan_does_not_depend_on_batch_boundaries(world, cuts, full_resync):
    config = config_for("user", Behavior.UPSERT)
    _, ledger, _ = previous_world(config, world["previous"], world["perturb"], world["foreign"])
    model = world["current"]
    bounds = [0, *sorted(c for c in cuts if c <= len(model)), len(model)]
    batches = [model[a:b] for a, b in itertools.pairwise(bounds)]

    whole = list(plan([model], COLUMNS, config, ledger, full_resync=full_resync))
    split = list(plan(batches, COLUMNS, config, ledger, full_resync=full_resync))

    assert split == whole
