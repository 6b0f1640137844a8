"""How a date mapping reads the numbers of its column: in the epoch unit the user chose on the mapping
(seconds or milliseconds), never guessed from their size. A column whose kind is a date or a timestamp
holds dates, not numbers: no unit applies to it.

One place for the choice the mapper and the event step offer, what is stored (the "unit" key of a mapping,
`created_at_unit` of an event: left out for seconds, so stored JSON stays as it was) and the words the
sync page and the preview say.
"""

from __future__ import annotations

from apps.connections.intercom.catalog import FieldType
from apps.connections.intercom.coercion import EpochUnit

DATE_FIELD_TYPES = frozenset({FieldType.DATE, FieldType.DATETIME})
DATE_KINDS = frozenset({"date", "timestamp"})  # column kinds (sources.base.Column.kind) read as dates
UNIT_VALUES = frozenset(unit.value for unit in EpochUnit)
UNIT_CHOICES = [
    (EpochUnit.SECONDS.value, "epoch seconds"),
    (EpochUnit.MILLISECONDS.value, "epoch milliseconds"),
]
UNIT_QUESTION = "Numbers in this column are"
NO_UNIT = "read as a date; no unit needed"
UNIT_PROBLEM = "Say what the numbers in this column are: epoch seconds or epoch milliseconds."


def takes_unit(field_type: str) -> bool:
    return field_type in DATE_FIELD_TYPES


def reads_as_date(kind: str | None) -> bool:
    return (kind or "") in DATE_KINDS


def stored_unit(unit: str | None, kind: str | None) -> EpochUnit | None:
    """The unit to store, or None to leave the key out: seconds (the default), or a date column."""
    if reads_as_date(kind) or unit != EpochUnit.MILLISECONDS:
        return None
    return EpochUnit.MILLISECONDS


def unit_words(unit: str | None, kind: str | None) -> str:
    """How a date column is read, in the pages' words ("numbers as epoch milliseconds")."""
    if reads_as_date(kind):
        return f"{kind} column, read as a date"
    return f"numbers as epoch {EpochUnit(unit or EpochUnit.SECONDS)}"
