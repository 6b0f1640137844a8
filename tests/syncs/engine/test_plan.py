"""The planner, behavior by behavior, on small hand-written models."""

from __future__ import annotations

from dataclasses import replace

import pytest

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
from apps.syncs.engine.payload import payload_hash
from apps.syncs.engine.plan import Operation, plan, summarize

COLUMNS = ["email", "name", "seats", "org"]
USERS = SyncConfig(
    "user",
    Behavior.UPSERT,
    SyncKey("email", "email"),
    mappings=(
        mapping("name", FieldType.STRING, "name"),
        mapping("seats", FieldType.INTEGER, "seats", custom=True),
    ),
    company_id_column="org",
)


def run(config, rows, ledger=None, **options):
    return list(plan([rows], COLUMNS, config, ledger or InMemoryLedger(), **options))


def accepted(record, intercom_id="ic-1"):
    return LedgerEntry(record.payload_hash, intercom_id, None, record.payload, record.company_id)


def test_upsert_creates_new_keys_with_the_contact_payload():
    (record,) = run(USERS, [("ada@example.com", "Ada", "3", "acme")])
    assert record.operation is Operation.CREATE
    assert record.payload == {
        "email": "ada@example.com",
        "role": "user",
        "name": "Ada",
        "custom_attributes": {"seats": 3},
    }
    assert record.company_id == "acme"
    assert record.destination_id is None and record.changes is None
    assert record.payload_hash == payload_hash(record.payload, "acme")


def test_upsert_unchanged_costs_nothing_and_changes_show_old_and_new_values():
    (first,) = run(USERS, [("ada@example.com", "Ada", 3, "acme")])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})

    (same,) = run(USERS, [("ada@example.com", "Ada", "3", "acme")], ledger)
    assert same.operation is Operation.UNCHANGED and not same.operation.calls_intercom

    (changed,) = run(USERS, [("ada@example.com", "Ada L.", 4, "globex")], ledger)
    assert changed.operation is Operation.UPDATE
    assert changed.destination_id == "ic-1"
    assert changed.changes == {
        "company": ("acme", "globex"),
        "custom_attributes.seats": (3, 4),
        "name": ("Ada", "Ada L."),
    }


def test_update_without_a_kept_payload_has_no_field_changes():
    ledger = InMemoryLedger({"ada@example.com": LedgerEntry("an old hash", "ic-1")})
    (record,) = run(USERS, [("ada@example.com", "Ada", 3, None)], ledger)
    assert record.operation is Operation.UPDATE and record.changes is None


def test_full_resync_updates_unchanged_records():
    (first,) = run(USERS, [("ada@example.com", "Ada", 3, None)])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})
    (record,) = run(USERS, [("ada@example.com", "Ada", 3, None)], ledger, full_resync=True)
    assert record.operation is Operation.UPDATE and record.changes == {}


def test_a_record_only_ever_rejected_is_created_again():
    ledger = InMemoryLedger({"ada@example.com": LedgerEntry(None, None, "data_invalid: bad email")})
    (record,) = run(USERS, [("ada@example.com", "Ada", 3, None)], ledger)
    assert record.operation is Operation.CREATE


def test_invalid_records_carry_their_reasons_and_every_row_of_a_repeated_key_is_invalid():
    records = run(
        USERS,
        [
            ("ada@example.com", "Ada", 1, None),
            (None, "Nobody", 1, None),
            ("   ", "Blank", 1, None),
            ("ada@example.com", "Ada again", 2, None),
            ("bob@example.com", "Bob", "lots", None),
            ("cy@example.com", ["a", "list"], 1, None),
        ],
    )
    assert [r.operation for r in records] == [Operation.INVALID] * 6
    reasons = [r.reason for r in records]
    repeated = "email: the key “ada@example.com” appears in 2 rows; a sync key must be unique, so none of them is synced"
    assert reasons[0] == reasons[3] == repeated
    assert reasons[1] == reasons[2] == "email: the sync key is empty"
    assert reasons[4] == "seats: “lots” is not a whole number"
    assert reasons[5].startswith("name: ")
    assert [r.row_number for r in records] == [1, 2, 3, 4, 5, 6]


def test_email_keys_are_trimmed_and_matched_without_regard_to_case():
    records = run(
        USERS,
        [
            (" Ada@Example.com\t", "Ada", 1, None),
            ("ada@example.COM", "Ada again", 2, None),
            ("Bob@Example.com ", "Bob", 1, None),
        ],
    )
    assert [r.operation for r in records] == [Operation.INVALID, Operation.INVALID, Operation.CREATE]
    assert "appears in 2 rows" in records[0].reason
    assert records[2].key == "bob@example.com"  # the ledger's form
    assert records[2].payload["email"] == "Bob@Example.com"  # as written, trimmed


def test_the_outcome_of_a_key_does_not_depend_on_the_order_of_the_rows():
    rows = [
        ("ada@example.com", "Ada", 1, None),
        ("bob@example.com", "Bob", 1, None),
        ("ada@example.com", "Ada 2", 2, None),
        (None, "Nobody", 1, None),
    ]
    forward = {r.key: (r.operation, r.reason) for r in run(USERS, rows) if r.key}
    backward = {r.key: (r.operation, r.reason) for r in run(USERS, rows[::-1]) if r.key}
    assert forward == backward
    assert forward["ada@example.com"][0] is Operation.INVALID


def test_duplicates_are_found_across_batches():
    rows = [
        [("ada@example.com", "Ada", 1, None), ("cy@example.com", "Cy", 1, None)],
        [("bob@example.com", "B", 1, None), ("ada@example.com", "A", 1, None)],
    ]
    ledger = InMemoryLedger()
    records = list(plan(rows, COLUMNS, USERS, ledger))
    assert [r.operation for r in records] == [
        Operation.INVALID,
        Operation.CREATE,
        Operation.CREATE,
        Operation.INVALID,
    ]
    assert ledger.lookups == 2  # one ledger query per batch


def test_a_null_under_keep_is_no_change_and_the_last_values_are_kept():
    (first,) = run(USERS, [("ada@example.com", "Ada", 3, "acme")])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})

    (nulls,) = run(USERS, [("ada@example.com", None, None, None)], ledger)
    assert nulls.operation is Operation.UNCHANGED and not nulls.operation.calls_intercom
    assert nulls.payload == first.payload  # still what Intercom holds (the ledger keeps it)
    assert nulls.payload_hash == first.payload_hash
    assert nulls.company_id == "acme"  # a NULL company never detaches the contact

    (one_change,) = run(USERS, [("ada@example.com", None, 5, None)], ledger)
    assert one_change.operation is Operation.UPDATE
    assert one_change.payload == {
        "email": "ada@example.com",
        "role": "user",
        "name": "Ada",
        "custom_attributes": {"seats": 5},
    }
    assert one_change.changes == {"custom_attributes.seats": (3, 5)}

    (fresh,) = run(USERS, [("bob@example.com", None, None, None)])
    assert fresh.payload == {"email": "bob@example.com", "role": "user"}


def test_a_null_under_keep_without_the_last_payload_sends_the_body_without_the_field():
    (first,) = run(USERS, [("ada@example.com", "Ada", 3, None)])
    ledger = InMemoryLedger({"ada@example.com": LedgerEntry(first.payload_hash, "ic-1")})  # payload not read
    (record,) = run(USERS, [("ada@example.com", None, 3, None)], ledger)
    assert record.operation is Operation.UPDATE
    assert record.payload == {"email": "ada@example.com", "role": "user", "custom_attributes": {"seats": 3}}


def test_a_null_under_clear_is_sent_as_null_and_is_a_change():
    config = replace(USERS, mappings=tuple(replace(m, on_null=NullPolicy.CLEAR) for m in USERS.mappings))
    (first,) = run(config, [("ada@example.com", "Ada", 3, "acme")])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})

    (record,) = run(config, [("ada@example.com", None, None, "acme")], ledger)
    assert record.operation is Operation.UPDATE
    assert record.payload == {
        "email": "ada@example.com",
        "role": "user",
        "name": None,
        "custom_attributes": {"seats": None},
    }
    assert record.changes == {"custom_attributes.seats": (3, None), "name": ("Ada", None)}
    ledger = InMemoryLedger({"ada@example.com": accepted(record)})
    (again,) = run(config, [("ada@example.com", None, None, "acme")], ledger)
    assert again.operation is Operation.UNCHANGED


def test_policies_apply_per_field():
    name_clears = replace(
        USERS, mappings=(replace(USERS.mappings[0], on_null=NullPolicy.CLEAR), USERS.mappings[1])
    )
    (first,) = run(name_clears, [("ada@example.com", "Ada", 3, None)])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})
    (record,) = run(name_clears, [("ada@example.com", None, None, None)], ledger)
    assert record.operation is Operation.UPDATE
    assert record.payload == {
        "email": "ada@example.com",
        "role": "user",
        "name": None,
        "custom_attributes": {"seats": 3},
    }
    assert record.changes == {"name": ("Ada", None)}


def test_a_field_intercom_cannot_clear_is_kept_even_if_clear_was_asked():
    """validate() refuses it; should such a configuration reach the planner, no null goes out anyway."""
    config = SyncConfig(
        "company",
        Behavior.UPSERT,
        SyncKey("email", "company_id"),
        mappings=(
            mapping("website", FieldType.STRING, "name", on_null=NullPolicy.CLEAR),
            mapping("tier", FieldType.STRING, "org", custom=True, on_null=NullPolicy.CLEAR),
        ),
    )
    (first,) = run(config, [("c1", "https://acme.test", None, "gold")])
    ledger = InMemoryLedger({"c1": accepted(first)})
    (record,) = run(config, [("c1", None, None, None)], ledger)
    assert record.operation is Operation.UNCHANGED
    assert record.payload == {
        "company_id": "c1",
        "website": "https://acme.test",
        "custom_attributes": {"tier": "gold"},
    }


def test_values_of_fields_no_longer_mapped_are_not_sent_again():
    """Removing a mapping stops its updates: the last payload's value is not carried into new bodies."""
    with_plan = replace(
        USERS, mappings=(*USERS.mappings, mapping("plan", FieldType.STRING, "org", custom=True))
    )
    (first,) = run(with_plan, [("ada@example.com", "Ada", 3, "pro")])
    ledger = InMemoryLedger({"ada@example.com": accepted(first)})
    (record,) = run(USERS, [("ada@example.com", None, 4, None)], ledger)
    assert record.payload == {
        "email": "ada@example.com",
        "role": "user",
        "name": "Ada",
        "custom_attributes": {"seats": 4},
    }


def test_companies_upsert_on_company_id():
    config = SyncConfig(
        "company",
        Behavior.UPSERT,
        SyncKey("email", "company_id"),  # the key column's name does not matter
        mappings=(mapping("name", FieldType.STRING, "name"), mapping("size", FieldType.INTEGER, "seats")),
    )
    (record,) = run(config, [(42, "Acme", 12.0, None)])
    assert record.operation is Operation.CREATE
    assert record.key == "42"
    assert record.payload == {"company_id": "42", "name": "Acme", "size": 12}


def test_keyed_by_intercom_id_nothing_can_be_created():
    config = replace(USERS, sync_key=SyncKey("email", "id"))
    (record,) = run(config, [("6762f0dd1bb69f9f2193bb83", "Ada", 1, None)])
    assert record.operation is Operation.UPDATE_IF_FOUND
    assert record.destination_id == "6762f0dd1bb69f9f2193bb83"
    assert "id" not in record.payload and "email" not in record.payload


def test_update_only_uses_the_known_id_or_asks_for_one_lookup():
    config = replace(USERS, behavior=Behavior.UPDATE_ONLY)
    (known,) = run(config, [("ada@example.com", "Ada", 1, None)])
    ledger = InMemoryLedger({"ada@example.com": accepted(known, "ic-7")})
    records = run(
        config, [("ada@example.com", "Ada L.", 1, None), ("new@example.com", "New", 1, None)], ledger
    )
    assert [(r.operation, r.destination_id) for r in records] == [
        (Operation.UPDATE, "ic-7"),
        (Operation.UPDATE_IF_FOUND, None),
    ]
    (same,) = run(config, [("ada@example.com", "Ada", 1, None)], ledger)
    assert same.operation is Operation.UNCHANGED


@pytest.mark.parametrize(
    ("object_key", "identifier", "permanent", "operation"),
    [
        ("user", "email", False, Operation.ARCHIVE),
        ("lead", "email", False, Operation.ARCHIVE),
        ("contact", "external_id", False, Operation.ARCHIVE),
        ("user", "email", True, Operation.DELETE),
        ("company", "company_id", False, Operation.DELETE),
    ],
)
def test_delete_archives_contacts_and_deletes_companies(object_key, identifier, permanent, operation):
    config = SyncConfig(object_key, Behavior.DELETE, SyncKey("email", identifier), permanent_delete=permanent)
    key = "k1@example.com" if identifier == "email" else "k1"
    (record,) = run(config, [(key, "ignored", "not a number", None)])
    assert record.operation is operation
    assert record.payload == {identifier: key}
    ledger = InMemoryLedger({key: accepted(record, "ic-3")})
    (again,) = run(config, [(key, None, None, None)], ledger)
    assert again.operation is Operation.UNCHANGED
    (resync,) = run(config, [(key, None, None, None)], ledger, full_resync=True)
    assert (resync.operation, resync.destination_id) == (operation, "ic-3")


def test_archived_then_permanently_deleted_is_planned_again():
    archive = SyncConfig("user", Behavior.DELETE, SyncKey("email", "email"))
    (archived,) = run(archive, [("k1@example.com", None, None, None)])
    ledger = InMemoryLedger({"k1@example.com": accepted(archived)})
    (record,) = run(replace(archive, permanent_delete=True), [("k1@example.com", None, None, None)], ledger)
    assert record.operation is Operation.DELETE


def test_leads_are_never_matched_by_or_sent_an_external_id():
    config = SyncConfig("lead", Behavior.UPSERT, SyncKey("email", "external_id"))
    # Intercom replaces a lead's External ID with a UUID of its own: nothing could find the lead by ours.
    assert "Lead records cannot be matched on “external_id” (Email, Intercom ID)." in [
        problem.message for problem in config.validate(["email"])
    ]
    (record,) = run(config, [("u-1", None, None, None)])
    assert record.payload == {"role": "lead"}


EVENTS_COLUMNS = ["id", "who", "at", "plan", "amount"]
EVENTS = SyncConfig(
    "event",
    Behavior.SEND,
    SyncKey("id", "event_id"),
    event=EventOptions(
        contact_column="who",
        contact_key=EventContactKey.EMAIL,
        created_at_column="at",
        event_name="upgraded-plan",
        metadata_columns=("plan", "amount"),
    ),
)


def run_events(config, rows, ledger, **options):
    return list(plan([rows], EVENTS_COLUMNS, config, ledger, **options))


def test_send_plans_new_event_ids_once():
    ledger = InMemoryLedger(sent={"e1"})
    records = run_events(
        EVENTS,
        [
            ("e1", "ada@example.com", 1_700_000_000, "pro", 10),
            ("e2", "ada@example.com", "2026-11-28T10:00:00Z", None, 12.5),
            ("e3", None, 1_700_000_000, "pro", 1),
            ("e4", "bob@example.com", "yesterday", "pro", 1),
            ("e5", "ada@example.com", 1_700_000_001, "pro", 1),
            ("e5", "bob@example.com", 1_700_000_002, "pro", 1),
        ],
        ledger,
    )
    assert [r.operation for r in records] == [
        Operation.UNCHANGED,
        Operation.SEND,
        Operation.INVALID,
        Operation.INVALID,
        Operation.INVALID,
        Operation.INVALID,
    ]
    assert (
        records[4].reason
        == records[5].reason
        == ("id: the key “e5” appears in 2 rows; a sync key must be unique, so none of them is synced")
    )
    assert records[1].payload == {
        "event_name": "upgraded-plan",
        "created_at": 1_795_860_000,  # 2026-11-28T10:00:00Z
        "email": "ada@example.com",
        "metadata": {"amount": 12.5},
    }
    assert records[2].reason == "who: the event has no contact"
    assert records[3].reason.startswith("at: “yesterday” is not a date or timestamp")
    resync = run_events(
        EVENTS, [("e1", "ada@example.com", 1_700_000_000, "pro", 10)], ledger, full_resync=True
    )
    assert resync[0].operation is Operation.UNCHANGED  # a full resync never sends an event twice


def test_event_name_from_a_column():
    config = replace(
        EVENTS,
        event=replace(EVENTS.event, event_name=None, event_name_column="plan", metadata_columns=("amount",)),
    )
    records = run_events(
        config,
        [("e1", "a@example.com", 1, "signed-up", None), ("e2", "a@example.com", 1, None, None)],
        InMemoryLedger(),
    )
    assert records[0].payload["event_name"] == "signed-up" and "metadata" not in records[0].payload
    assert records[1].reason == "plan: the event name is empty"


@pytest.mark.parametrize("first_run", [True, False])
def test_skip_rows_that_exist_today_only_on_the_first_run(first_run):
    config = replace(EVENTS, event=replace(EVENTS.event, first_run=FirstRunMode.SKIP_EXISTING))
    ledger = InMemoryLedger(sent={"e0"})
    records = run_events(
        config,
        [("e0", "a@example.com", 1, None, None), ("e1", "a@example.com", 1, None, None)],
        ledger,
        first_run=first_run,
    )
    expected = Operation.SKIP if first_run else Operation.SEND
    assert [r.operation for r in records] == [Operation.UNCHANGED, expected]
    assert not Operation.SKIP.calls_intercom


def test_send_all_on_the_first_run():
    records = run_events(EVENTS, [("e1", "a@example.com", 1, None, None)], InMemoryLedger(), first_run=True)
    assert records[0].operation is Operation.SEND


def test_summarize_counts_and_samples_as_the_plan_streams():
    def records():
        yield from run(
            USERS, [("a@x.com", "A", 1, None), ("b@x.com", "B", "x", None), ("a@x.com", "A", 1, None)]
        )
        yield from run(USERS, [("c@x.com", "C", 1, None)])

    summary = summarize(records(), sample_size=1)
    assert summary.counts == {Operation.CREATE: 1, Operation.INVALID: 3}
    assert summary.total == 4 and summary.calls == 1
    assert [r.key for r in summary.samples[Operation.INVALID]] == ["a@x.com"]
    assert [r.key for r in summary.samples[Operation.CREATE]] == ["c@x.com"]


def test_delete_keyed_by_intercom_id_needs_no_lookup():
    config = SyncConfig("user", Behavior.DELETE, SyncKey("email", "id"))
    (record,) = run(config, [("6762f0dd", None, None, None)])
    assert (record.operation, record.destination_id, record.payload) == (Operation.ARCHIVE, "6762f0dd", {})
