"""Hostile rows, every object of the catalog and every behavior: whatever the model holds, every body the
planner would send is one Intercom's official OpenAPI file accepts (validated here with openapi-core
against the spec itself, not with Syncline's own checks), every row it refuses has a reason a user can
read, the counts add up, and the outcome of each key does not depend on the order of the rows."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.connections.intercom.catalog import OBJECTS, Behavior, FieldType
from apps.syncs.engine.config import EventContactKey, EventOptions, SyncConfig, SyncKey, mapping
from apps.syncs.engine.ledger import InMemoryLedger
from apps.syncs.engine.plan import BODY_SENT, Operation, plan
from tests.fixtures.intercom_requests import SPEC_HOST, relaxed_openapi

COLUMNS = ["key", "email", "text", "number", "whole", "when", "flag"]
HEADERS = {"Authorization": "Bearer x", "Intercom-Version": "2.16", "Accept": "application/json"}

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "Ada",
        "=1+1",
        "+A",
        "@SUM(A1)",
        "-2",
        "<script>alert(1)</script>",
        "Zoë 🚀 名前",
        "x" * 5000,
        "user",
        "lead",
        "NULL",
        "NaN",
        "1e400",
        "2024-12-31",
        "12/31/2024",
    ]
)
HOSTILE_EMAILS = st.sampled_from(
    [
        "ada@example.com",
        " Ada@Example.com\t",
        "ADA@EXAMPLE.COM",
        "not-an-email",
        "a@b",
        "two@@signs.com",
        "in side@example.com",
        "zoë@exämple.com",
        "",
        "   ",
    ]
)
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**309]),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 5e-324, 99.5, 1.5e11]),
    st.sampled_from(
        [Decimal("99.5"), Decimal("1e400"), Decimal("NaN"), Decimal("-0"), Decimal("12345678901234567890")]
    ),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
HOSTILE_DATES = st.one_of(
    st.sampled_from([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59), dt.date(1970, 1, 1)]),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(),
    st.sampled_from([253402300799, 253402300800000, 1_700_000_000_000, -1, "2024-02-30", "yesterday"]),
)
ANY_VALUE = st.one_of(st.none(), HOSTILE_TEXT, HOSTILE_EMAILS, HOSTILE_NUMBERS, HOSTILE_DATES, st.booleans())


def row(keys):
    """Each column mostly hostile values of its own type (so that many rows reach Intercom's schema), and
    sometimes anything at all."""
    return st.tuples(
        keys,
        st.one_of(st.none(), HOSTILE_EMAILS, ANY_VALUE),  # email
        st.one_of(st.none(), HOSTILE_TEXT, ANY_VALUE),  # text
        st.one_of(st.none(), HOSTILE_NUMBERS, ANY_VALUE),  # number
        st.one_of(st.none(), st.integers(), HOSTILE_NUMBERS),  # whole
        st.one_of(st.none(), HOSTILE_DATES),  # when
        st.one_of(st.none(), st.booleans(), ANY_VALUE),  # flag
    )


def config_for(object_key: str, behavior: Behavior, identifier: str) -> SyncConfig:
    obj = OBJECTS[object_key]
    key = SyncKey("key", identifier)
    if object_key == "event":
        event = EventOptions(
            contact_column="email",
            contact_key=EventContactKey.EMAIL,
            created_at_column="when",
            event_name="signed-up",
            metadata_columns=("text", "number", "whole", "flag"),
        )
        return SyncConfig("event", behavior, key, event=event)
    if behavior is Behavior.DELETE:
        return SyncConfig(object_key, behavior, key)
    columns = {FieldType.STRING: "text", FieldType.INTEGER: "whole", FieldType.FLOAT: "number",
               FieldType.BOOLEAN: "flag", FieldType.DATE: "when", FieldType.DATETIME: "when"}  # fmt: skip
    mappings = [
        mapping(f.name, f.type, "email" if f.name == "email" else columns[f.type])
        for f in obj.fields
        if f.name != identifier
    ]
    mappings += [
        mapping("plan", FieldType.STRING, "text", custom=True),
        mapping("seats", FieldType.INTEGER, "whole", custom=True),
        mapping("mrr", FieldType.FLOAT, "number", custom=True),
        mapping("since", FieldType.DATE, "when", custom=True),
    ]
    return SyncConfig(object_key, behavior, key, mappings=tuple(mappings))


CASES = [
    (obj.key, behavior, identifier.key)
    for obj in OBJECTS.values()
    for behavior in obj.behaviors
    for identifier in obj.identifiers
]


def request_of(config: SyncConfig, record) -> tuple[str, str]:
    if config.object_key == "event":
        return "post", "/events"
    if config.object_key == "company":
        return "post", "/companies"
    if record.operation is Operation.CREATE or (
        record.operation is Operation.UPDATE and not record.destination_id
    ):
        return "post", "/contacts"
    return "put", f"/contacts/{quote(record.destination_id or 'abc123', safe='')}"  # as the client escapes it


def spec_problems(config: SyncConfig, record) -> str | None:
    from openapi_core.exceptions import OpenAPIError
    from openapi_core.testing import MockRequest

    method, path = request_of(config, record)
    body = json.dumps(record.payload, allow_nan=False).encode()  # NaN/infinity can never reach the wire
    request = MockRequest(
        SPEC_HOST, method, path, headers=HEADERS, data=body, content_type="application/json"
    )
    try:
        relaxed_openapi().validate_request(request)
    except OpenAPIError as exc:
        return f"{method.upper()} {path} {record.payload!r}: {exc!r} {getattr(exc, '__cause__', '')!r}"
    for name in INT32_FIELDS.get(config.object_key, ()):  # API_NOTES §2: what the spec file does not say
        if name in record.payload and not -(2**31) <= record.payload[name] < 2**31:
            return f"{name} = {record.payload[name]} is outside Intercom's 32-bit range"
    return None


INT32_FIELDS = {"company": ("size", "monthly_spend")}


def outcome_by_key(records) -> Counter:
    """(key, operation, reason) of every record; a row without a key by its reason alone."""
    return Counter((r.key, str(r.operation), r.reason) for r in records)


@pytest.mark.parametrize(("object_key", "behavior", "identifier"), CASES)
@given(data=st.data())
def test_hostile_rows_plan_only_bodies_the_spec_accepts_and_explain_every_refusal(
    object_key, behavior, identifier, data
):
    config = config_for(object_key, behavior, identifier)
    keys = HOSTILE_EMAILS if identifier == "email" else st.one_of(st.none(), HOSTILE_TEXT, st.integers(0, 3))
    rows = data.draw(st.lists(row(keys), max_size=8))

    records = list(plan([rows], COLUMNS, config, InMemoryLedger()))

    assert sum(r.rows for r in records) == len(rows)  # the counts add up: one outcome a row
    for record in records:
        if record.operation is Operation.INVALID:
            assert record.reason and record.payload is None
            assert not any(python in record.reason for python in ("Decimal(", "datetime.", "UUID(", "nan)"))
        elif record.operation in BODY_SENT:
            assert spec_problems(config, record) is None
    shuffled = data.draw(st.permutations(rows))
    assert outcome_by_key(plan([shuffled], COLUMNS, config, InMemoryLedger())) == outcome_by_key(records)
