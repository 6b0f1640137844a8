"""Properties of the coercion over any warehouse value: what is sent fits Intercom, what is refused says why.

For every value of many types and every Intercom type (and epoch unit): either the coerced value is
JSON without NaN, an integer within 64 bits, a date within the years 1 to 9999, a trimmed valid email;
or the refusal is a `CoercionError` naming the column and showing no Python repr.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from apps.connections.intercom.catalog import FieldType
from apps.connections.intercom.coercion import (
    FIRST_SECOND,
    INT64_MAX,
    INT64_MIN,
    LAST_SECOND,
    CoercionError,
    EpochUnit,
    coerce,
    email_key,
    shown,
    to_email,
    to_unix_seconds,
)

COLUMN = "Signed Up (λ)"
REPRS = ("Decimal(", "datetime.", "UUID(", "date(", "time(", "timedelta(", "bytearray(", "b'", "<object")

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
numbers_as_text = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1,200", " 7 ", "1e400", "-1E-400", "NaN", "Infinity", "-inf", "0x1F", "1_000"]),
)
dates_as_text = st.one_of(
    st.datetimes(timezones=st.none() | offsets).map(lambda d: d.isoformat(sep=st_choice(d))),
    st.dates().map(str),
    st.sampled_from(
        [
            "2024-01-02T03:04:05Z",
            "12/31/2024",
            "31-12-2024",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00+01:00",
        ]
    ),
)
emails_as_text = st.one_of(
    st.emails(),
    st.tuples(
        st.sampled_from([" ", "\t", "\n", "\u00a0", ""]), st.emails(), st.sampled_from([" ", "\r\n", ""])
    ).map("".join),
    st.sampled_from(["not-an-email", "a@b", "two@@signs.com", "ada lovelace@example.com", "Ada <a@x.com>"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
    st.decimals(),
    st.sampled_from([Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999"), Decimal("1E-999999")]),
    st.datetimes(timezones=st.none() | offsets),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.uuids(),
    st.binary(max_size=40),
    st.text(max_size=120),
    st.text(min_size=5000, max_size=5000, alphabet="=<>\"'é 𝔘"),
    numbers_as_text,
    dates_as_text,
    emails_as_text,
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
)


def st_choice(moment: dt.datetime) -> str:
    return " " if moment.microsecond % 2 else "T"  # both separators, decided by the value itself


def assert_explains_itself(error: CoercionError, value) -> None:
    message = str(error)
    assert message.startswith(f"{COLUMN}: ")
    # A text value (or a list or object of them, shown as JSON) is shown as the user typed it, whatever it
    # holds; only the rest must be free of reprs.
    checked = message.replace(shown(value), "") if isinstance(value, str | list | dict) else message
    assert not any(marker in checked for marker in REPRS), message
    assert "\n" not in message


@settings(max_examples=1500, deadline=None)
@given(value=values, field_type=st.sampled_from(list(FieldType)), unit=st.sampled_from(list(EpochUnit)))
@example(
    value=["b'"], field_type=FieldType.STRING, unit=EpochUnit.SECONDS
)  # text in a list that looks like a repr
def test_every_coerced_value_fits_intercom_and_every_refusal_explains_itself(value, field_type, unit):
    try:
        result = coerce(value, field_type, column=COLUMN, unit=unit)
    except CoercionError as error:
        event(f"{field_type} refused")
        assert_explains_itself(error, value)
        return
    event(f"{field_type} sent")
    json.dumps(result, allow_nan=False)  # raises on NaN, infinity, and anything JSON cannot carry
    if value is None:
        assert result is None
    elif field_type in (FieldType.DATE, FieldType.DATETIME):
        assert type(result) is int and FIRST_SECOND <= result <= LAST_SECOND
        assert 1 <= dt.datetime.fromtimestamp(result, dt.UTC).year <= 9999
    elif field_type is FieldType.INTEGER:
        assert type(result) is int and INT64_MIN <= result <= INT64_MAX
    elif field_type is FieldType.FLOAT:
        assert type(result) is float and math.isfinite(result) or type(result) is int and abs(result) < 2**53
    elif field_type is FieldType.BOOLEAN:
        assert type(result) is bool
    else:
        assert type(result) is str


@settings(max_examples=500, deadline=None)
@given(value=values)
def test_every_email_sent_is_trimmed_valid_and_as_written(value):
    try:
        address = to_email(value, COLUMN)
    except CoercionError as error:
        event("email refused")
        assert_explains_itself(error, value)
        return
    event("email sent")
    assert address == value.strip()
    assert address == address.strip()
    validate_email(address, check_deliverability=False)
    assert email_key(address) == email_key(value) == address.lower()


# Addresses shaped like the short way's pattern, near its edges: dots, hyphens, "--", special-use
# top-level domains, digits in the last label, long parts.
_atoms = st.text("abZ09_%+-", min_size=1, max_size=70)
_labels = st.text("aZ09-", min_size=1, max_size=66)
_tlds = st.sampled_from(["com", "io", "test", "LOCAL", "arpa", "onion", "c1", "x", "invalid"]) | _labels
near_plain = st.builds(
    lambda local, domain, tld: f"{'.'.join(local)}@{'.'.join([*domain, tld])}",
    st.lists(_atoms, min_size=1, max_size=3),
    st.lists(_labels, min_size=1, max_size=4),
    _tlds,
)


@settings(max_examples=1500, deadline=None)
@given(address=near_plain)
def test_the_short_way_for_everyday_emails_accepts_only_what_email_validator_accepts(address):
    """`to_email` skips email-validator for addresses its pattern matches: each of them must be one that
    email-validator accepts too (and the others still get its verdict and its reason)."""
    try:
        validate_email(address, check_deliverability=False)
        accepted = True
    except EmailNotValidError:
        accepted = False
    event("accepted" if accepted else "refused")
    try:
        assert to_email(address, COLUMN) == address and accepted
    except CoercionError:
        assert not accepted


@given(seconds=st.integers(FIRST_SECOND, LAST_SECOND), unit=st.sampled_from(list(EpochUnit)))
def test_epoch_numbers_are_read_in_the_chosen_unit_whatever_their_size(seconds, unit):
    number = seconds * unit.per_second
    for value in (number, str(number), Decimal(number)):
        assert to_unix_seconds(value, COLUMN, unit) == seconds


@given(moment=st.datetimes(timezones=st.none() | offsets))
def test_a_timestamp_is_the_second_it_falls_in(moment):
    offset = moment.utcoffset() or dt.timedelta(0)  # no zone: UTC
    expected = calendar.timegm(moment.timetuple()) - offset // dt.timedelta(seconds=1)  # microseconds dropped
    try:
        seconds = to_unix_seconds(moment, COLUMN)
    except CoercionError as error:
        assert not FIRST_SECOND <= expected <= LAST_SECOND
        assert str(error).endswith(
            "in UTC it is before the year 1)" if expected < 0 else "after the year 9999)"
        )
        return
    assert seconds == expected
    assert to_unix_seconds(moment.isoformat(), COLUMN) == seconds
