"""Warehouse values → Intercom types, in one place (apps/connections/intercom/coercion.py)."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

import pytest

from apps.connections.intercom.catalog import OBJECTS, Behavior, catalog_rows
from apps.connections.intercom.coercion import (
    FIRST_SECOND,
    INT64_MAX,
    INT64_MIN,
    LAST_SECOND,
    CoercionError,
    EpochUnit,
    coerce,
    coercer,
    email_key,
    shown,
    to_email,
    to_float,
    to_unix_seconds,
)

JAN_2 = 1704164645  # 2024-01-02T03:04:05Z
SECONDS, MILLISECONDS = EpochUnit.SECONDS, EpochUnit.MILLISECONDS
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))
ISO_HINT = "use ISO 8601 (2024-12-31) or epoch seconds/milliseconds"


def refusal(value, field_type, **kwargs) -> str:
    with pytest.raises(CoercionError) as error:
        coerce(value, field_type, column="c", **kwargs)
    return str(error.value)


# --- dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), SECONDS),
        (dt.datetime(2024, 1, 2, 3, 4, 5), SECONDS),  # no zone: taken as UTC
        (dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=PLUS_ONE), SECONDS),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=dt.UTC), SECONDS),  # fraction dropped
        ("2024-01-02T03:04:05Z", SECONDS),
        ("2024-01-02T03:04:05Z", MILLISECONDS),  # the unit is for numbers only
        ("2024-01-02 03:04:05+00:00", SECONDS),
        ("2024-01-02T04:04:05+01:00", SECONDS),
        ("2024-01-02T03:04:05", SECONDS),  # no zone: UTC
        ("2024-01-02T03:04:05.123456Z", SECONDS),
        (" \t2024-01-02T03:04:05Z\n", SECONDS),
        (JAN_2, SECONDS),
        (str(JAN_2), SECONDS),
        (f" {JAN_2}.75 ", SECONDS),
        (Decimal(JAN_2), SECONDS),
        (float(JAN_2), SECONDS),
        (JAN_2 * 1000, MILLISECONDS),
        (JAN_2 * 1000 + 999, MILLISECONDS),
        (str(JAN_2 * 1000), MILLISECONDS),
        (Decimal(JAN_2 * 1000), MILLISECONDS),
        (float(JAN_2 * 1000), MILLISECONDS),
        (str(JAN_2 * 1000), "milliseconds"),  # the mapping stores the unit as text
    ],
)
def test_dates_and_timestamps_become_unix_seconds(value, unit):
    assert coerce(value, "date", column="signed_up_at", unit=unit) == JAN_2
    assert coerce(value, "datetime", column="signed_up_at", unit=unit) == JAN_2


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        # Epoch numbers are read in the mapping's unit, whatever their size: no guessing by magnitude.
        (LAST_SECOND, SECONDS, LAST_SECOND),  # 9999-12-31T23:59:59Z in seconds, not 1978
        (100_000_000_000, SECONDS, 100_000_000_000),  # the year 5138
        (1000, MILLISECONDS, 1),
        (JAN_2, MILLISECONDS, JAN_2 // 1000),  # seconds data read as milliseconds is January 1970
        (LAST_SECOND * 1000 + 999, MILLISECONDS, LAST_SECOND),
        (FIRST_SECOND, SECONDS, FIRST_SECOND),
        (FIRST_SECOND * 1000, MILLISECONDS, FIRST_SECOND),
        (-0.5, SECONDS, -1),  # before 1970 a fraction rounds down, to the second it falls in
        (-1500, MILLISECONDS, -2),
        (dt.datetime(1969, 12, 31, 23, 59, 59, 500000), SECONDS, -1),
        (dt.date(2024, 1, 2), SECONDS, 1704153600),  # a date is midnight UTC
        ("2024-01-02", SECONDS, 1704153600),
        (dt.datetime.max, SECONDS, LAST_SECOND),
        (dt.datetime.min, SECONDS, FIRST_SECOND),
        ("9999-12-31T23:59:59Z", SECONDS, LAST_SECOND),
        ("0001-01-01 00:00:00", SECONDS, FIRST_SECOND),
        ("9999-12-31T23:59:59+01:00", SECONDS, LAST_SECOND - 3600),
        ("1e3", SECONDS, 1000),
    ],
)
def test_epoch_numbers_are_read_in_the_chosen_unit(value, unit, seconds):
    assert to_unix_seconds(value, "at", unit) == seconds


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (
            LAST_SECOND + 1,
            SECONDS,
            "c: 253402300800 is not a date or timestamp (253402300800 seconds is after the year 9999; "
            "if the column holds epoch milliseconds, choose milliseconds on the mapping)",
        ),
        (
            (LAST_SECOND + 1) * 1000,
            MILLISECONDS,
            "c: 253402300800000 is not a date or timestamp "
            "(253402300800000 milliseconds is after the year 9999)",
        ),
        (
            " 253402300800000 ",
            MILLISECONDS,
            "c: “ 253402300800000 ” is not a date or timestamp "
            "(253402300800000 milliseconds is after the year 9999)",
        ),
        (
            FIRST_SECOND - 1,
            SECONDS,
            "c: -62135596801 is not a date or timestamp (-62135596801 seconds is before the year 1; "
            "if the column holds epoch milliseconds, choose milliseconds on the mapping)",
        ),
        (
            FIRST_SECOND * 1000 - 1,
            MILLISECONDS,
            "c: -62135596800001 is not a date or timestamp "
            "(-62135596800001 milliseconds is before the year 1)",
        ),
        (
            1e308,
            SECONDS,
            "c: 1e+308 is not a date or timestamp (1e+308 seconds is after the year 9999)",
        ),
        (
            Decimal("1E+400"),
            MILLISECONDS,
            "c: 1E+400 is not a date or timestamp (1E+400 milliseconds is after the year 9999)",
        ),
        (
            "9999-12-31T23:00:00-05:00",
            SECONDS,
            "c: “9999-12-31T23:00:00-05:00” is not a date or timestamp (in UTC it is after the year 9999)",
        ),
        (
            dt.datetime(1, 1, 1, tzinfo=PLUS_ONE),
            SECONDS,
            "c: 0001-01-01T00:00:00+01:00 is not a date or timestamp (in UTC it is before the year 1)",
        ),
        ("12/31/2024", SECONDS, f"c: “12/31/2024” is not a date or timestamp ({ISO_HINT})"),
        ("31-12-2024", SECONDS, f"c: “31-12-2024” is not a date or timestamp ({ISO_HINT})"),
        ("next tuesday", SECONDS, f"c: “next tuesday” is not a date or timestamp ({ISO_HINT})"),
        ("10000-01-01", SECONDS, f"c: “10000-01-01” is not a date or timestamp ({ISO_HINT})"),
        ("", SECONDS, f"c: “” is not a date or timestamp ({ISO_HINT})"),
        ("NaN", SECONDS, f"c: “NaN” is not a date or timestamp ({ISO_HINT})"),
        (float("nan"), SECONDS, "c: NaN is not a date or timestamp"),
        (float("inf"), MILLISECONDS, "c: Infinity is not a date or timestamp"),
        (float("-inf"), SECONDS, "c: -Infinity is not a date or timestamp"),
        (Decimal("NaN"), SECONDS, "c: NaN is not a date or timestamp"),
        (Decimal("sNaN"), SECONDS, "c: sNaN is not a date or timestamp"),
        (True, SECONDS, "c: true is not a date or timestamp"),
        (dt.time(3, 4), SECONDS, "c: 03:04:00 is not a date or timestamp"),
    ],
)
def test_dates_out_of_range_or_ambiguous_are_refused_with_the_reason(value, unit, message):
    assert refusal(value, "date", unit=unit) == message


def test_the_unit_reaches_the_per_row_coercer():
    assert coercer("datetime", MILLISECONDS)(JAN_2 * 1000, "at") == JAN_2
    assert coercer("datetime")(JAN_2, "at") == JAN_2
    assert coercer("date", "milliseconds")(None, "at") is None


# --- numbers and booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7),
        ("12", 12),
        (" 7 ", 7),
        ("+5", 5),
        ("1e3", 1000),
        (Decimal("3.0"), 3),
        (Decimal("-0"), 0),
        (4.0, 4),
        ("1,200", 1200),
        (INT64_MAX, INT64_MAX),
        (INT64_MIN, INT64_MIN),
        (str(INT64_MAX), INT64_MAX),
        (Decimal(INT64_MIN), INT64_MIN),
        (9.2e18, 9200000000000000000),
    ],
)
def test_integers(value, expected):
    result = coerce(value, "integer", column="seats")
    assert result == expected and type(result) is int


RANGE = "it is outside the range Intercom stores, -9223372036854775808 to 9223372036854775807"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (INT64_MAX + 1, f"c: 9223372036854775808 is not a whole number ({RANGE})"),
        (INT64_MIN - 1, f"c: -9223372036854775809 is not a whole number ({RANGE})"),
        (1e308, f"c: 1e+308 is not a whole number ({RANGE})"),
        (-1e19, f"c: -1e+19 is not a whole number ({RANGE})"),
        (Decimal("1E+400"), f"c: 1E+400 is not a whole number ({RANGE})"),
        ("99999999999999999999", f"c: “99999999999999999999” is not a whole number ({RANGE})"),
        (Decimal("99.5"), "c: 99.5 is not a whole number (it has a fractional part)"),
        ("2.5", "c: “2.5” is not a whole number (it has a fractional part)"),
        (Decimal("1E-400"), "c: 1E-400 is not a whole number (it has a fractional part)"),
        (float("nan"), "c: NaN is not a whole number (Intercom stores finite numbers only)"),
        (float("-inf"), "c: -Infinity is not a whole number (Intercom stores finite numbers only)"),
        (Decimal("sNaN"), "c: sNaN is not a whole number (Intercom stores finite numbers only)"),
        ("lots", "c: “lots” is not a whole number"),
        ("NaN", "c: “NaN” is not a whole number"),
        (True, "c: true is not a whole number"),
        (UUID(int=1), "c: 00000000-0000-0000-0000-000000000001 is not a whole number"),
    ],
)
def test_integers_outside_64_bits_or_not_whole_are_refused(value, message):
    assert refusal(value, "integer") == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("99.50"), 99.5),
        ("1.25", 1.25),
        (3, 3),
        (2.0, 2),
        (Decimal("-7.000"), -7),
        (2**53 - 1, 2**53 - 1),
        (1e308, 1e308),
        (Decimal("1E+308"), 1e308),
        (-1.7976931348623157e308, -1.7976931348623157e308),
        (Decimal("1E-400"), 0.0),  # below a double's precision: the nearest double
    ],
)
def test_floats(value, expected):
    result = coerce(value, "float", column="mrr")
    assert result == expected
    assert type(result) is type(expected)


def test_whole_numbers_from_2_to_the_53_on_are_sent_as_floats():
    assert type(to_float(2**53, "mrr")) is float
    assert type(to_float(2**53 - 1, "mrr")) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "c: NaN is not a number (Intercom stores finite numbers only)"),
        (float("inf"), "c: Infinity is not a number (Intercom stores finite numbers only)"),
        (float("-inf"), "c: -Infinity is not a number (Intercom stores finite numbers only)"),
        (Decimal("NaN"), "c: NaN is not a number (Intercom stores finite numbers only)"),
        (Decimal("-Infinity"), "c: -Infinity is not a number (Intercom stores finite numbers only)"),
        ("NaN", "c: “NaN” is not a number"),
        ("Infinity", "c: “Infinity” is not a number"),
        ("-inf", "c: “-inf” is not a number"),
        (Decimal("1E+309"), "c: 1E+309 is not a number (it is too large for the numbers Intercom stores)"),
        ("-1e400", "c: “-1e400” is not a number (it is too large for the numbers Intercom stores)"),
        (10**400, f"c: {'1' + '0' * 79}… is not a number (it is too large for the numbers Intercom stores)"),
        ([1.5], "c: [1.5] is not a number"),
    ],
)
def test_floats_must_be_finite_doubles(value, message):
    assert refusal(value, "float") == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        ("F", False),
        (0, False),
        ("1", True),
        (Decimal("1.0"), True),
        (" off ", False),
    ],
)
def test_booleans(value, expected):
    assert coerce(value, "boolean", column="paid") is expected


@pytest.mark.parametrize("value", ["maybe", 2, Decimal("NaN"), Decimal("sNaN"), 0.5, ""])
def test_other_values_are_not_booleans(value):
    assert refusal(value, "boolean").endswith(" is not a boolean (use true/false, yes/no or 1/0)")


# --- text -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, "42"),
        (True, "true"),
        (Decimal("1.5"), "1.5"),
        (Decimal("99.50"), "99.50"),
        (1e308, "1e+308"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2024-01-02T03:04:05+00:00"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ('  =HYPERLINK("x") <b>é</b>  ', '  =HYPERLINK("x") <b>é</b>  '),  # text is sent as it is
        ("x" * 5000, "x" * 5000),
    ],
)
def test_strings(value, expected):
    assert coerce(value, "string", column="plan") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "c: [1, 2] is not text (lists and objects cannot be sent as one Intercom value)"),
        (
            {"plan": Decimal("9.5")},
            'c: {"plan": 9.5} is not text (lists and objects cannot be sent as one Intercom value)',
        ),
        (
            b"\x00\xff",
            "c: \\x00ff is not text (binary data cannot be sent as text; "
            "convert it in SQL, e.g. encode(column, 'hex'))",
        ),
    ],
)
def test_lists_objects_and_bytes_are_not_text(value, message):
    assert refusal(value, "string") == message


def test_none_stays_none():
    for field_type in ("string", "integer", "float", "boolean", "date", "datetime"):
        assert coerce(None, field_type, column="seats") is None


# --- emails -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM\t", "Ada.Lovelace@Example.COM"),  # case kept, as written
        ("\u00a0ada@example.com\r\n", "ada@example.com"),  # non-breaking space and CRLF trimmed
        ("ada+trial@mail.example.co.uk", "ada+trial@mail.example.co.uk"),
        ("用户@例子.广告", "用户@例子.广告"),
        ("josé@bücher.de", "josé@bücher.de"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_emails_are_trimmed_and_kept_as_written(value, expected):
    assert to_email(value, "email") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not-an-email", "an email address must have an @-sign"),
        ("a@b", "the part after the @-sign is not valid. It should have a period"),
        ("two@@signs.com", "the part after the @-sign contains invalid characters: '@'"),
        (
            "ada lovelace@example.com",
            "the email address contains invalid characters before the @-sign: SPACE",
        ),
        ("ada@exa\tmple.com", "the part after the @-sign contains invalid characters: TAB"),
        ("@example.com", "there must be something before the @-sign"),
        ("ada@", "there must be something after the @-sign"),
        ("ada@example..com", "an email address cannot have two periods in a row"),
        (
            "ada\nlovelace@example.com",
            "the email address contains invalid characters before the @-sign: LINE FEED",
        ),
        ("ada\u00a0lovelace@example.com", "the email address contains unsafe characters: NO-BREAK SPACE"),
        ("ada\u200b@example.com", "the email address contains unsafe characters: ZERO WIDTH SPACE"),
        (
            "Ada <ada@example.com>",
            "a display name and angle brackets around the email address are not permitted here",
        ),
        ("ada@example.com.", "an email address cannot end with a period"),
        (
            "ada@acme.test",
            "the part after the @-sign is a special-use or reserved name that cannot be used with email",
        ),
        ("a@" + "b" * 250 + ".com", "the email address is too long after the @-sign (1 character too many)"),
        ("   ", "it is blank"),
        ("", "it is blank"),
    ],
)
def test_invalid_emails_are_refused_with_the_reason_in_plain_words(value, reason):
    with pytest.raises(CoercionError) as error:
        to_email(value, "email")
    assert str(error.value) == f"email: {shown(value)} is not an email address ({reason})"


@pytest.mark.parametrize(
    ("value", "message"),
    [(42, "email: 42 is not an email address"), (None, "email: NULL is not an email address")],
)
def test_non_text_is_not_an_email(value, message):
    with pytest.raises(CoercionError, match=f"^{message}$"):
        to_email(value, "email")


def test_email_keys_match_without_regard_to_case_or_surrounding_whitespace():
    written = [" Ada@Example.com", "ada@example.COM\t", "\u00a0ADA@EXAMPLE.COM"]
    assert {email_key(to_email(address, "email")) for address in written} == {"ada@example.com"}
    assert {to_email(address, "email") for address in written} == {
        "Ada@Example.com",
        "ada@example.COM",
        "ADA@EXAMPLE.COM",
    }


# --- how values are shown ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (Decimal("99.5"), "99.5"),
        (Decimal("99.50"), "99.50"),
        (Decimal("NaN"), "NaN"),
        (1e308, "1e+308"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("-inf"), "-Infinity"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_ONE), "2024-01-02T03:04:05+01:00"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ("Ada", "“Ada”"),
        ("a\tb\nc", "“a\\tb\\nc”"),  # one line, the whitespace visible
        ("é" * 81, "“" + "é" * 80 + "…”"),
        (b"\x01\x02", "\\x0102"),
        (bytes(range(20)), "\\x000102030405060708090a0b0c0d0e0f…"),
        ([Decimal("1"), "a", {"k": dt.date(2024, 1, 1)}], '[1, "a", {"k": 2024-01-01}]'),
        (list(range(12)), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, …]"),
        (10**400, "1" + "0" * 79 + "…"),
        (object(), "a value of type object"),
    ],
)
def test_values_are_shown_as_typed_in_sql(value, text):
    assert shown(value) == text


def test_an_integer_beyond_pythons_text_limit_is_shown_and_refused():
    huge = 10**5000  # str() of it raises: Python converts at most 4,300 digits
    assert shown(huge) == "1" + "0" * 79 + "…"
    assert refusal(huge, "integer").startswith("c: 1000000000")


def test_a_deeply_nested_value_is_shown_without_recursing_through_it():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert shown(deep) == "[[[…]]]"


def test_the_catalog_is_the_promised_table():
    assert catalog_rows() == [
        ("Company", "Company ID", "Update or Create, Delete"),
        (
            "Contact (Lead or User)",
            "Email, Intercom ID, External ID",
            "Update or Create, Update Only, Delete",
        ),
        ("Lead", "Email, Intercom ID", "Update or Create, Update Only, Delete"),
        ("User", "Email, Intercom ID, External ID", "Update or Create, Update Only, Delete"),
        ("Event", "Event ID", "Send"),
    ]
    assert Behavior.SEND in OBJECTS["event"].behaviors
