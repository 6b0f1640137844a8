"""Values from the warehouse → the types Intercom accepts, in one place.

A value that cannot be coerced raises `CoercionError` with a reason a user understands (column, the value
as they would have typed it in SQL, the expected type, why); the planner turns it into an invalid record
instead of sending it. Nothing is guessed: an epoch number is read in the unit chosen on the mapping, and
what Intercom could not store (NaN, a 309-digit integer, the year 10000) is refused here, not sent.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from json import dumps
from typing import Any
from uuid import UUID

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from apps.connections.intercom.catalog import FieldType

TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off"}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what Intercom's integer attributes hold
FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z: a Python datetime's range, years 1 to 9999
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
SHOWN_LENGTH = 80  # characters of a value quoted in a message

_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)
_CONTROL = {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}  # keep a message on one line
# email-validator names most characters (SPACE, NO-BREAK SPACE) but shows these three as code points.
_CHARACTER_NAMES = {"U+0009": "TAB", "U+000A": "LINE FEED", "U+000D": "CARRIAGE RETURN"}

# An everyday address that email-validator accepts (tests/connections/intercom/test_coercion_properties.py
# checks every address this matches): letters, digits and ._%+- before the @ (no leading, trailing or
# doubled dot), LDH labels without "--" after it, a top-level domain of letters. Its check costs ~50 µs
# an address, a run's biggest cost per changed contact; anything else still goes through it.
PLAIN_EMAIL = re.compile(
    r"(?=.{1,254}$)(?=[^@]{1,64}@)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:(?!-)(?![A-Za-z0-9-]*--)[A-Za-z0-9-]{1,63}(?<!-)\.)+([A-Za-z]{2,63})",
    re.ASCII,
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)

DATE = "a date or timestamp"
WHOLE = "a whole number"
NUMBER = "a number"
EMAIL = "an email address"


class EpochUnit(StrEnum):
    """The unit of epoch numbers in a date column, chosen on the mapping: never guessed from magnitude."""

    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"

    @property
    def per_second(self) -> int:
        return 1 if self is EpochUnit.SECONDS else 1000


class CoercionError(ValueError):
    def __init__(self, column: str, value: Any, expected: str, detail: str = ""):
        message = f"{column}: {shown(value)} is not {expected}"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.column, self.value, self.expected, self.detail = column, value, expected, detail


# --- how a value is shown in a message --------------------------------------------------------------------


def shown(value: Any) -> str:
    """A value as the user would have typed it in SQL (99.5, 1e+308, 2024-01-02, true, NULL, “text”),
    cut to `SHOWN_LENGTH` characters: never a Python repr such as `Decimal('99.5')`."""
    if isinstance(value, str):
        return f"“{_clip(value.translate(_CONTROL))}”"
    return _clip(_literal(value, depth=0))


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"


def _literal(value: Any, depth: int) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _number_text(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str):  # inside a list or an object: as JSON writes it
        return dumps(value, ensure_ascii=False)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return "\\x" + data[:16].hex() + ("…" if len(data) > 16 else "")  # PostgreSQL's bytea form
    if isinstance(value, dict | list | tuple | set | frozenset):
        return _container(value, depth)
    if type(value).__str__ is not object.__str__:  # UUID, timedelta, ip addresses: their own text
        return str(value)
    return f"a value of type {type(value).__name__}"


def _container(value: Any, depth: int) -> str:
    # As JSON writes it; only what fits in a message is rendered, so a huge or deep value costs little.
    if depth >= 3:
        return "…"
    if isinstance(value, dict):
        items = [f"{_literal(k, depth + 1)}: {_literal(v, depth + 1)}" for k, v in islice(value.items(), 10)]
        opening, closing = "{", "}"
    else:
        items = [_literal(item, depth + 1) for item in islice(value, 10)]
        opening, closing = "[", "]"
    more = ", …" if len(value) > 10 else ""
    return opening + ", ".join(items) + more + closing


def _number_text(number: int | float | Decimal) -> str:
    if isinstance(number, float):
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)  # the shortest text that reads back as this float: 99.5, 1e+308
    return str(Decimal(number))  # ints too: str() of an int refuses more than 4,300 digits


# --- dates ------------------------------------------------------------------------------------------------


def to_unix_seconds(value: Any, column: str, unit: EpochUnit | str = EpochUnit.SECONDS) -> int:
    """Dates, timestamps, ISO 8601 text and epoch numbers (in `unit`) → UNIX seconds, years 1 to 9999.
    Timestamps without a zone are UTC; a fraction of a second is dropped (floor)."""
    if isinstance(value, dt.datetime):
        return _seconds(value, value, column)
    if isinstance(value, dt.date):
        return _seconds(dt.datetime(value.year, value.month, value.day), value, column)
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.match(text):
            return _epoch(Decimal(text), text, value, column, EpochUnit(unit))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            detail = "use ISO 8601 (2024-12-31) or epoch seconds/milliseconds"
            raise CoercionError(column, value, DATE, detail) from None
        return _seconds(moment, value, column)
    number = _decimal(value)
    if number is None or not number.is_finite():
        raise CoercionError(column, value, DATE)
    return _epoch(number, _number_text(value), value, column, EpochUnit(unit))


def _seconds(moment: dt.datetime, value: Any, column: str) -> int:
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=dt.UTC)  # warehouse timestamps without a zone are taken as UTC
    seconds = (moment - _EPOCH) // _SECOND  # exact integer arithmetic, floor for times before 1970
    if seconds < FIRST_SECOND:
        raise CoercionError(column, value, DATE, "in UTC it is before the year 1")
    if seconds > LAST_SECOND:
        raise CoercionError(column, value, DATE, "in UTC it is after the year 9999")
    return seconds


def _epoch(number: Decimal, text: str, value: Any, column: str, unit: EpochUnit) -> int:
    scale = unit.per_second
    if FIRST_SECOND * scale <= number < (LAST_SECOND + 1) * scale:
        return math.floor(number) // scale
    when = "before the year 1" if number < 0 else "after the year 9999"
    detail = f"{_clip(text)} {unit} is {when}"
    if unit is EpochUnit.SECONDS and FIRST_SECOND * 1000 <= number < (LAST_SECOND + 1) * 1000:
        detail += "; if the column holds epoch milliseconds, choose milliseconds on the mapping"
    raise CoercionError(column, value, DATE, detail)


# --- numbers and booleans ---------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    """A number as an exact Decimal (a float as its shortest text), or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # 'nan' and 'inf' read back as Decimal's NaN and Infinity
    return None


def _number(value: Any, column: str, expected: str) -> Decimal:
    number = _decimal(value)
    if number is None and isinstance(value, str) and _NUMERIC.match(value.strip().replace(",", "")):
        number = Decimal(value.strip().replace(",", ""))
    if number is None:
        raise CoercionError(column, value, expected)
    if not number.is_finite():
        raise CoercionError(column, value, expected, "Intercom stores finite numbers only")
    return number


def to_integer(value: Any, column: str) -> int:
    number = _number(value, column, WHOLE)
    if not INT64_MIN <= number <= INT64_MAX:
        detail = f"it is outside the range Intercom stores, {INT64_MIN} to {INT64_MAX}"
        raise CoercionError(column, value, WHOLE, detail)
    if number != number.to_integral_value():
        raise CoercionError(column, value, WHOLE, "it has a fractional part")
    return int(number)


def to_float(value: Any, column: str) -> float | int:
    """A finite number; whole numbers below 2^53 are sent as integers (exact in JSON and in a double)."""
    number = _number(value, column, NUMBER)
    if abs(number) < 2**53 and number == number.to_integral_value():
        return int(number)
    result = float(number)
    if math.isinf(result):
        raise CoercionError(column, value, NUMBER, "it is too large for the numbers Intercom stores")
    return result


def to_boolean(value: Any, column: str) -> bool:
    if isinstance(value, bool):
        return value
    whole = isinstance(value, int) or isinstance(value, Decimal) and value.is_finite()  # sNaN cannot compare
    if whole and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise CoercionError(column, value, "a boolean", "use true/false, yes/no or 1/0")


# --- text and emails --------------------------------------------------------------------------------------


def to_string(value: Any, column: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | Decimal | dt.datetime | dt.date | dt.time | UUID):
        return _literal(value, depth=0)
    if isinstance(value, bytes | bytearray | memoryview):
        detail = "binary data cannot be sent as text; convert it in SQL, e.g. encode(column, 'hex')"
        raise CoercionError(column, value, "text", detail)
    raise CoercionError(column, value, "text", "lists and objects cannot be sent as one Intercom value")


def to_email(value: Any, column: str) -> str:
    """The address trimmed of surrounding whitespace and otherwise as written (its case kept, as Intercom
    shows it), after a syntax check without DNS; internationalised addresses are allowed."""
    if not isinstance(value, str):
        raise CoercionError(column, value, EMAIL)
    address = value.strip()  # str.strip() also removes tabs, newlines and non-breaking spaces
    if not address:
        raise CoercionError(column, value, EMAIL, "it is blank")
    if (plain := PLAIN_EMAIL.fullmatch(address)) and plain.group(1).lower() not in _SPECIAL_USE:
        return address
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        for code, name in _CHARACTER_NAMES.items():
            reason = reason.replace(code, name)
        raise CoercionError(column, value, EMAIL, reason[:1].lower() + reason[1:]) from None
    return address


def email_key(value: str) -> str:
    """The form in which two email keys are the same record: trimmed and lowercased, as Intercom matches
    emails without regard to case. Only for comparing (ledger keys, duplicates); what is sent is
    `to_email`'s address, which keeps the case the user wrote."""
    return value.strip().lower()


# --- by field type ----------------------------------------------------------------------------------------


def coerce(
    value: Any, field_type: FieldType | str, *, column: str, unit: EpochUnit | str = EpochUnit.SECONDS
) -> Any:
    return coercer(field_type, unit)(value, column)


def coercer(
    field_type: FieldType | str, unit: EpochUnit | str = EpochUnit.SECONDS
) -> Callable[[Any, str], Any]:
    """`coerce` for one field type (and epoch unit), resolved once: for the planner's per-row loop
    (NULL stays None)."""
    field_type, unit = FieldType(field_type), EpochUnit(unit)
    if field_type in (FieldType.DATE, FieldType.DATETIME):

        def convert(value: Any, column: str) -> int:
            return to_unix_seconds(value, column, unit)

    else:
        convert = _COERCERS[field_type]

    def coerce_value(value: Any, column: str) -> Any:
        return None if value is None else convert(value, column)

    return coerce_value


_COERCERS: dict[FieldType, Callable[[Any, str], Any]] = {
    FieldType.STRING: to_string,
    FieldType.INTEGER: to_integer,
    FieldType.FLOAT: to_float,
    FieldType.BOOLEAN: to_boolean,
}
