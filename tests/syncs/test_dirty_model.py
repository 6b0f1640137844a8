"""A deliberately dirty model synced twice, end to end over HTTP: no request of either run is one Intercom's
spec refuses (the autouse `intercom_requests` fixture validates every exchange), every row Syncline finds
invalid costs no call in either run, and the second run calls Intercom only for what changed."""

import datetime as dt
import math

import pytest

from apps.syncs.models import RecordOutcome, RecordResult, RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db

COLUMNS = (
    "user_id INTEGER, email VARCHAR, name VARCHAR, phone VARCHAR, seats DOUBLE, mrr DOUBLE, "
    "signed_up TIMESTAMP, last_seen BIGINT, plan VARCHAR"
)
NAMES = ["user_id", "email", "name", "phone", "seats", "mrr", "signed_up", "last_seen", "plan"]
LONG = "ß" * 5000
# (row, valid?) — each invalid row is refused by Syncline for the reason in its comment.
ROWS = [
    ((1, "ada@example.com", "Ada", None, 3, 99.5, dt.datetime(2024, 1, 2), 1_700_000_000, "=1+1"), True),
    ((2, " Grace@Example.com\t", "Grace ⚡", "+44 20", None, None, None, None, "<b>pro</b>"), True),
    (
        (3, "nulls@example.com", None, None, None, None, None, None, None),
        True,
    ),  # NULLs keep Intercom's values
    (
        (
            4,
            "never@example.com",
            "Never",
            None,
            1,
            1,
            dt.datetime(9999, 12, 31, 23, 59, 59),
            253402300799,
            LONG,
        ),
        True,
    ),
    ((5, None, "No email", None, 1, 1, None, None, None), False),  # empty key
    ((6, "not-an-email", "Bad", None, 1, 1, None, None, None), False),  # invalid email
    ((7, "twice@example.com", "One", None, 1, 1, None, None, None), False),  # key in two rows
    ((8, "TWICE@example.com ", "Two", None, 1, 1, None, None, None), False),
    ((9, "nan@example.com", "NaN", None, math.nan, 1, None, None, None), False),  # NaN is not a number
    ((10, "inf@example.com", "Inf", None, 1, math.inf, None, None, None), False),  # infinity
    ((11, "huge@example.com", "Huge", None, 1e308, 1, None, None, None), False),  # beyond 64-bit
    ((12, "frac@example.com", "Frac", None, 2.5, 1, None, None, None), False),  # seats must be whole
]
INVALID_EMAILS = {"not-an-email", "twice@example.com", "TWICE@example.com ", "nan@example.com",
                  "inf@example.com", "huge@example.com", "frac@example.com"}  # fmt: skip


def run(workspace, sync):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    return sync_run_execute(run_id=started.pk)


def dirty_sync(workspace, warehouse, destination, rows):
    warehouse.table("people", COLUMNS, rows)
    model = warehouse.model("SELECT * FROM people", "user_id", NAMES)
    mappings = [
        m("name", "string", "name"),
        m("phone", "string", "phone"),
        m("signed_up_at", "date", "signed_up"),
        m("last_seen_at", "date", "last_seen"),
        m("seats", "integer", "seats", custom=True),
        m("mrr", "float", "mrr", custom=True),
        m("plan", "string", "plan", custom=True),
    ]
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=mappings,
    )


def sent_bodies(intercom_requests, since: int = 0) -> list[str]:
    return [e.request_body.decode() for e in intercom_requests.exchanges[since:] if e.request_body]


def test_a_dirty_model_synced_twice_sends_only_valid_requests_and_nothing_for_invalid_rows(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, intercom_requests
):
    sync = dirty_sync(workspace, warehouse, destination, [r for r, _ in ROWS])
    first = run(workspace, sync)
    valid = sum(ok for _, ok in ROWS)
    assert first.status == RunStatus.SUCCEEDED_WITH_WARNINGS, first.first_error  # invalid rows, none rejected
    assert (first.counts["created"], first.counts["invalid"], first.counts["rejected"]) == (valid, 8, 0)
    assert intercom_emulator.request_count(status=400) == intercom_emulator.request_count(status=422) == 0
    for body in sent_bodies(intercom_requests):  # an invalid row costs no call: its email is in no request
        assert not any(f'"{email.strip()}"' in body for email in INVALID_EMAILS), body
    assert intercom_requests.violations() == []

    results = RecordResult.objects.for_workspace(workspace).filter(run=first, outcome=RecordOutcome.INVALID)
    reasons = {key: message for key, message in results.values_list("key", "message") if key}
    keyless = sorted(message for key, message in results.values_list("key", "message") if not key)
    assert keyless[0].startswith("row 5: email: the sync key is empty")
    assert keyless[1].startswith("row 6: email: “not-an-email” is not"), keyless
    assert "appears in 2 rows" in reasons["twice@example.com"]
    for key in ("nan@example.com", "inf@example.com", "huge@example.com", "frac@example.com"):
        assert reasons[key].startswith((f"{key}: seats: ", f"{key}: mrr: ")), reasons[key]
        assert "Decimal(" not in reasons[key] and "nan)" not in reasons[key]

    held = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert set(held) == {"ada@example.com", "Grace@Example.com", "nulls@example.com", "never@example.com"}
    assert held["never@example.com"]["signed_up_at"] == 253402300799  # year 9999 stays year 9999
    assert held["never@example.com"]["last_seen_at"] == 253402300799
    assert held["ada@example.com"]["custom_attributes"]["plan"] == "=1+1"

    exchanges = len(intercom_requests.exchanges)
    second = run(workspace, sync)
    assert second.counts["api_calls"] == 0  # nothing changed, nothing Intercom refused: no call
    assert (second.counts["unchanged"], second.counts["invalid"]) == (valid, 8)
    assert len(intercom_requests.exchanges) == exchanges

    changed = [(r if r[0] != 1 else (*r[:2], "Ada L.", *r[3:])) for r, _ in ROWS]
    warehouse.table("people", COLUMNS, changed)
    third = run(workspace, sync)
    assert (third.counts["updated"], third.counts["api_calls"]) == (1, 1)
    assert intercom_requests.violations() == []
