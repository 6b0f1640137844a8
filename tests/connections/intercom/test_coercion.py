"""Warehouse values → Intercom types, in one place (apps/connections/intercom/coercion.py)."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

import pytest

from apps.connections.intercom.catalog import OBJECTS, Behavior, catalog_rows
from apps.connections.intercom.coercion import CoercionError, coerce

JAN_2 = 1704164645  # 2024-01-02T03:04:05Z


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 3, 4, 5),  # no zone: taken as UTC
        dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "2024-01-02T03:04:05Z",
        "2024-01-02 03:04:05+00:00",
        JAN_2,
        JAN_2 * 1000,  # epoch milliseconds are recognised
        str(JAN_2),
        Decimal(JAN_2),
        float(JAN_2),
    ],
)
def test_dates_and_timestamps_become_unix_seconds(value):
    assert coerce(value, "date", column="signed_up_at") == JAN_2


def test_a_date_is_midnight_utc():
    assert coerce(dt.date(2024, 1, 2), "datetime", column="d") == 1704153600


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("yes", True), ("F", False), (0, False), ("1", True)]
)
def test_booleans(value, expected):
    assert coerce(value, "boolean", column="paid") is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), ("12", 12), (Decimal("3.0"), 3), (4.0, 4), ("1,200", 1200)]
)
def test_integers(value, expected):
    assert coerce(value, "integer", column="seats") == expected


@pytest.mark.parametrize(("value", "expected"), [(Decimal("99.50"), 99.5), ("1.25", 1.25), (3, 3)])
def test_floats(value, expected):
    assert coerce(value, "float", column="mrr") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, "42"), (True, "true"), (Decimal("1.5"), "1.5"), (dt.date(2024, 1, 2), "2024-01-02"),
     (UUID(int=1), "00000000-0000-0000-0000-000000000001")],
)  # fmt: skip
def test_strings(value, expected):
    assert coerce(value, "string", column="plan") == expected


def test_none_stays_none():
    assert coerce(None, "integer", column="seats") is None


@pytest.mark.parametrize(
    ("value", "field_type", "message"),
    [
        (
            "next tuesday",
            "date",
            "seats: “next tuesday” is not a date or timestamp (use ISO 8601 or epoch seconds)",
        ),
        ("maybe", "boolean", "seats: “maybe” is not a boolean (use true/false, yes/no or 1/0)"),
        ("2.5", "integer", "seats: “2.5” is not a whole number (it has a fractional part)"),
        ("lots", "integer", "seats: “lots” is not a whole number"),
        (float("nan"), "float", "seats: nan is not a number"),
        (
            [1, 2],
            "string",
            "seats: [1, 2] is not text (lists and objects cannot be sent as one Intercom value)",
        ),
        (True, "date", "seats: True is not a date or timestamp"),
    ],
)
def test_values_that_cannot_be_coerced_say_column_value_and_type(value, field_type, message):
    with pytest.raises(CoercionError) as error:
        coerce(value, field_type, column="seats")
    assert str(error.value) == message


def test_the_catalog_is_the_promised_table():
    assert catalog_rows() == [
        ("Company", "Company ID", "Update or Create, Delete"),
        (
            "Contact (Lead or User)",
            "Email, Intercom ID, External ID",
            "Update or Create, Update Only, Delete",
        ),
        ("Lead", "Email, Intercom ID, External ID", "Update or Create, Update Only, Delete"),
        ("User", "Email, Intercom ID, External ID", "Update or Create, Update Only, Delete"),
        ("Event", "Event ID", "Send"),
    ]
    assert Behavior.SEND in OBJECTS["event"].behaviors
