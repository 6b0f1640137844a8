"""Values from the warehouse → the types Intercom accepts, in one place.

A value that cannot be coerced raises `CoercionError` with a reason a user understands (column, value,
expected type); the planner turns it into an invalid record instead of sending it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from apps.connections.intercom.catalog import FieldType

TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off"}
# Epoch values above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
MILLISECONDS_THRESHOLD = 100_000_000_000
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class CoercionError(ValueError):
    def __init__(self, column: str, value: Any, expected: str, detail: str = ""):
        shown = repr(value) if not isinstance(value, str) else f"“{value[:80]}”"
        message = f"{column}: {shown} is not {expected}"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.column, self.value, self.expected = column, value, expected


def coerce(value: Any, field_type: FieldType, *, column: str) -> Any:
    if value is None:
        return None
    return _COERCERS[FieldType(field_type)](value, column)


def to_unix_seconds(value: Any, column: str) -> int:
    if isinstance(value, bool):
        raise CoercionError(column, value, "a date or timestamp")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)  # warehouse timestamps without a zone are taken as UTC
        return int(value.timestamp())
    if isinstance(value, dt.date):
        return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp())
    if isinstance(value, int | float | Decimal):
        return _epoch(value, column)
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.match(text):
            return _epoch(Decimal(text), column)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CoercionError(
                column, value, "a date or timestamp", "use ISO 8601 or epoch seconds"
            ) from None
        return to_unix_seconds(parsed, column)
    raise CoercionError(column, value, "a date or timestamp")


def _epoch(number: int | float | Decimal, column: str) -> int:
    if isinstance(number, float) and not math.isfinite(number):
        raise CoercionError(column, number, "a date or timestamp")
    seconds = int(number)
    if abs(seconds) >= MILLISECONDS_THRESHOLD:
        seconds //= 1000
    return seconds


def to_boolean(value: Any, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise CoercionError(column, value, "a boolean", "use true/false, yes/no or 1/0")


def _number(value: Any, column: str, expected: str) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError(column, value, expected)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CoercionError(column, value, expected)
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMERIC.match(value.strip().replace(",", "")):
        number = Decimal(value.strip().replace(",", ""))
    else:
        raise CoercionError(column, value, expected)
    if not number.is_finite():
        raise CoercionError(column, value, expected)
    return number


def to_integer(value: Any, column: str) -> int:
    number = _number(value, column, "a whole number")
    try:
        if number != number.to_integral_value():
            raise CoercionError(column, value, "a whole number", "it has a fractional part")
    except InvalidOperation:
        raise CoercionError(column, value, "a whole number") from None
    return int(number)


def to_float(value: Any, column: str) -> float | int:
    number = _number(value, column, "a number")
    return int(number) if number == number.to_integral_value() and abs(number) < 2**53 else float(number)


def to_string(value: Any, column: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal | UUID):
        return str(value)
    raise CoercionError(column, value, "text", "lists and objects cannot be sent as one Intercom value")


_COERCERS = {
    FieldType.STRING: to_string,
    FieldType.INTEGER: to_integer,
    FieldType.FLOAT: to_float,
    FieldType.BOOLEAN: to_boolean,
    FieldType.DATE: to_unix_seconds,
    FieldType.DATETIME: to_unix_seconds,
}


def coercer(field_type: FieldType) -> Callable[[Any, str], Any]:
    """`coerce` for one field type, resolved once: for the planner's per-row loop (NULL stays None)."""
    convert = _COERCERS[FieldType(field_type)]

    def coerce_value(value: Any, column: str) -> Any:
        return None if value is None else convert(value, column)

    return coerce_value


def to_email(value: Any, column: str) -> str:
    return to_string(value, column).strip()


def email_key(value: str) -> str:
    return value.strip().lower()
