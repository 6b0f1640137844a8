"""Can this model column feed this Intercom field? One verdict per (column kind, field type) pair, with the
cast to write in the model's SQL, in the warehouse's own dialect (sqlglot writes it).

- ok: the values go as they are.
- warning: some values may be refused at run time (a decimal into a whole number: 3.5 is an invalid record,
  3.0 is sent as 3); saving is allowed, the mapper says which cast makes every value fit.
- error: the values cannot go as they are (text into a date, a JSON object anywhere): saving is refused
  until the model casts the column or another column is chosen.

The verdicts follow the engine's coercion (apps/connections/intercom/coercion.py): what it turns into an
invalid record for some values is a warning; what it refuses for every value of that kind is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlglot import exp

from apps.connections.intercom.catalog import FieldType


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class PairCheck:
    verdict: Verdict
    message: str = ""
    cast: str = ""  # the SQL expression that makes the column fit, in the model's dialect ("" when none)


OK = PairCheck(Verdict.OK)

KIND_WORDS = {"string": "text", "timestamp": "a timestamp", "json": "JSON", "integer": "a whole number",
              "decimal": "a decimal", "float": "a decimal", "boolean": "true/false",
              "date": "a date"}  # fmt: skip
TYPE_WORDS = {FieldType.STRING: "text", FieldType.INTEGER: "a whole number", FieldType.FLOAT: "a number",
              FieldType.BOOLEAN: "true or false", FieldType.DATE: "a date",
              FieldType.DATETIME: "a date and time"}  # fmt: skip
# The SQL type each field type is cast to (sqlglot names it in each dialect: BIGINT is INT64 on BigQuery).
CAST_TYPES = {FieldType.STRING: "TEXT", FieldType.INTEGER: "BIGINT", FieldType.FLOAT: "DOUBLE",
              FieldType.BOOLEAN: "BOOLEAN", FieldType.DATE: "TIMESTAMP",
              FieldType.DATETIME: "TIMESTAMP"}  # fmt: skip

_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_DATE_TYPES = (FieldType.DATE, FieldType.DATETIME)
_NUMBERS = {"integer", "decimal", "float"}
_JUDGED = {"string", "integer", "decimal", "float", "boolean", "date", "timestamp", "json"}


def _accepts(kind: str, field_type: FieldType) -> bool:
    if field_type is FieldType.STRING:
        return kind != "json"
    if field_type is FieldType.INTEGER:
        return kind == "integer"
    if field_type is FieldType.FLOAT:
        return kind in _NUMBERS
    if field_type is FieldType.BOOLEAN:
        return kind == "boolean"
    return kind in ("date", "timestamp", "integer")  # dates: integers are epoch numbers (unit on the row)


def cast_sql(column: str, field_type: FieldType, dialect: str | None, *, rounded: bool = False) -> str:
    """`CAST(column AS type)` in the dialect (ROUND first when `rounded`); the name quoted unless it is
    plain lower-case, so it means the same column in every warehouse."""
    identifier = exp.to_identifier(column, quoted=not _SAFE_NAME.fullmatch(column))
    inner: exp.Expression = exp.column(identifier)
    if rounded:
        inner = exp.Round(this=inner)
    return exp.cast(inner, CAST_TYPES[field_type]).sql(dialect=dialect or None)


def check_pair(
    column: str, kind: str, field_type: FieldType | str, field_label: str, *, dialect: str | None = None
) -> PairCheck:
    """The verdict on feeding `field_label` (of `field_type`) from `column` (of `kind`)."""
    field_type = FieldType(field_type)
    if kind not in _JUDGED or _accepts(kind, field_type):
        return OK
    words = f"“{column}” is {KIND_WORDS[kind]}, but {field_label} takes {TYPE_WORDS[field_type]}"
    if field_type is FieldType.INTEGER and kind in ("decimal", "float"):
        return PairCheck(
            Verdict.WARNING,
            f"{words}: a value with a fraction (3.5) becomes an invalid record, a whole one (3.0) is sent. "
            "To send every row, round it in the model's SQL:",
            cast_sql(column, field_type, dialect, rounded=True),
        )
    if field_type is FieldType.BOOLEAN and kind == "integer":
        return PairCheck(
            Verdict.WARNING,
            f"{words}: only 0 and 1 are sent, any other number becomes an invalid record. To send every "
            "row, cast it in the model's SQL:",
            cast_sql(column, field_type, dialect),
        )
    if field_type in _DATE_TYPES and kind in ("decimal", "float"):
        return PairCheck(
            Verdict.ERROR,
            f"{words}. If it holds epoch seconds, make them whole numbers in the model's SQL:",
            cast_sql(column, FieldType.INTEGER, dialect, rounded=True),
        )
    if kind in ("boolean", "date", "timestamp") and field_type is not FieldType.STRING:
        return PairCheck(Verdict.ERROR, f"{words}. Choose another column, or another field for it.")
    return PairCheck(
        Verdict.ERROR, f"{words}. Cast it in the model's SQL:", cast_sql(column, field_type, dialect)
    )
