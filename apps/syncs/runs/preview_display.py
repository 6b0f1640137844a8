"""The preview as people read it: for each planned operation, sample records as a table of Intercom fields
with their old value (what the last accepted run sent, when the ledger kept it) and their new value; dates
as dates in the workspace's time zone rather than epoch numbers; events as name, contact, time and
metadata. The request body stays one click away (the templates put it in a <details>).

A field is a date when its mapping's type says so (an event's time always is; a metadata column when the
model's column is a date or timestamp): values are never judged by their look.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.common.time_zones import zone_or_utc
from apps.connections.intercom.catalog import EVENT_CONTACT_KEYS, Behavior
from apps.connections.intercom.coercion import FIRST_SECOND, LAST_SECOND
from apps.syncs.engine import date_units
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.outcomes import Outcome
from apps.syncs.engine.payload import CUSTOM
from apps.syncs.engine.plan import COMPANY_CHANGE, Operation, PlannedRecord, flatten

# The sampled outcomes of a preview (runs.preview.PLANNED_OUTCOME's words), in the order the page shows them.
SAMPLED_OPERATIONS = [(Outcome.CREATED, "Records to create"), (Outcome.UPDATED, "Records to update"),
                      (Outcome.ARCHIVED, "Records to archive"), (Outcome.DELETED, "Records to delete"),
                      (Outcome.SENT, "Events to send"), (Outcome.SKIPPED, "Events recorded as sent, not sent")]  # fmt: skip
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ShownValue:
    """One value as the page shows it. `when` (ISO 8601) is set for a date, `sent` keeps what the
    request carries (a date's UNIX seconds)."""

    text: str
    null: bool = False
    when: str = ""
    sent: str = ""


@dataclass(frozen=True)
class FieldRow:
    name: str  # as Intercom names it: "name", a custom attribute's own name, "company"
    custom: bool
    new: ShownValue | None  # None: left out of the request (Intercom keeps its value)
    old: ShownValue | None = None  # None: not in the last accepted request, or unknown


@dataclass(frozen=True)
class EventRow:
    name: str
    contact_label: str  # "External ID", "Email", "Intercom ID"
    contact: str
    time: ShownValue | None
    metadata: list[tuple[str, ShownValue]]


@dataclass
class SampleRecord:
    key: str | None
    destination_id: str | None
    payload: dict[str, Any] | None
    fields: list[FieldRow] = field(default_factory=list)
    event: EventRow | None = None
    note: str = (
        ""  # what the record's operation means here ("updated only if found", "previous values unknown")
    )


@dataclass
class SampleTable:
    outcome: str
    label: str
    records: list[SampleRecord]
    key_label: str  # what the key is: "External ID", "Email", "Event ID"
    shows_old: bool = False  # updates: an old-value column

    @property
    def of_events(self) -> bool:
        """Events to send, or recorded as sent: shown as event name, contact, time and metadata."""
        return self.outcome in (Outcome.SENT, Outcome.SKIPPED)

    @property
    def of_removals(self) -> bool:
        """Records to archive or delete: shown by key and Intercom id."""
        return self.outcome in (Outcome.ARCHIVED, Outcome.DELETED)


class ValueFormatter:
    """Values of one sync's requests, with dates in one time zone."""

    def __init__(self, config: SyncConfig, columns: list[dict], zone: dt.tzinfo):
        self.zone = zone
        self.date_fields = {
            f"{CUSTOM}.{m.target}" if m.custom else m.target
            for m in config.mappings
            if date_units.takes_unit(m.field_type)
        }
        self.date_columns = {c["name"] for c in columns if date_units.reads_as_date(c.get("kind"))}

    def shown(self, value: Any, *, is_date: bool = False) -> ShownValue:
        if value is None:
            return ShownValue("null", null=True)
        if is_date and isinstance(value, int) and not isinstance(value, bool):
            return self.date(value)
        if isinstance(value, bool):
            return ShownValue("true" if value else "false")
        if isinstance(value, dict | list):
            return ShownValue(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))
        return ShownValue(str(value))

    def date(self, seconds: int) -> ShownValue:
        """UNIX seconds as a date and time in the zone ("2023-11-14 22:13:20 UTC"); out of the years 1 to
        9999 there (near the ends, a zone can move it out), in UTC."""
        if not FIRST_SECOND <= seconds <= LAST_SECOND:
            return ShownValue(str(seconds))
        moment = _EPOCH + dt.timedelta(seconds=seconds)
        with contextlib.suppress(OverflowError):  # stays in UTC
            moment = moment.astimezone(self.zone)
        text = (
            f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {moment.tzname()}"
        )
        return ShownValue(text, when=moment.isoformat(), sent=str(seconds))


def sample_tables(sync, preview) -> list[SampleTable]:
    """The preview's samples as tables, one per operation that has any."""
    config = sync.config
    formatter = ValueFormatter(config, sync.model.columns, zone_or_utc(sync.workspace.time_zone))
    describe = _Describer(config, formatter)
    key_label = config.object.identifier(config.sync_key.identifier).label
    return [
        SampleTable(
            outcome,
            label,
            [describe(r) for r in preview.samples[outcome]],
            key_label,
            shows_old=outcome is Outcome.UPDATED,
        )
        for outcome, label in SAMPLED_OPERATIONS
        if preview.samples.get(outcome)
    ]


def payload_describer(sync) -> Callable[[dict[str, Any] | None], SampleRecord]:
    """A request body a run sent, as the preview shows one (fields with dates as dates, or an event): the
    record page's "fields sent"."""
    config = sync.config
    formatter = ValueFormatter(config, sync.model.columns, zone_or_utc(sync.workspace.time_zone))
    describe = _Describer(config, formatter)
    operation = Operation.SEND if config.object_key == "event" else Operation.CREATE
    return lambda payload: describe(PlannedRecord(None, operation, payload=payload or {}))


def skipped_note(config: SyncConfig) -> str:
    """What “skipped” will mean in a run of an Update Only sync ("" for other behaviors)."""
    if config.behavior is not Behavior.UPDATE_ONLY:
        return ""
    records = "contacts" if config.is_contact else "companies"
    identifier = config.object.identifier(config.sync_key.identifier).label
    return f"Update Only: {records} not found in Intercom by {identifier} are skipped, not created."


class _Describer:
    def __init__(self, config: SyncConfig, formatter: ValueFormatter):
        self.config, self.formatter = config, formatter

    def __call__(self, record: PlannedRecord) -> SampleRecord:
        sample = SampleRecord(record.key, record.destination_id, record.payload)
        payload = record.payload or {}
        if self.config.object_key == "event":
            sample.event = self._event(payload)
            if record.operation is Operation.SKIP:
                sample.note = "First run, “skip rows that exist today”: recorded as sent, nothing is sent."
            return sample
        if record.operation in (Operation.ARCHIVE, Operation.DELETE):
            return sample
        if record.operation is Operation.UPDATE_IF_FOUND:
            identifier = self.config.object.identifier(self.config.sync_key.identifier).label
            sample.note = f"Updated only if Intercom has a record with this {identifier}; skipped if not."
        if record.operation is Operation.UPDATE and record.changes is not None:
            if not record.changes:
                sample.note = "No field changed since the last run: sent again."
            rows = [self._row(name, new, old) for name, (old, new) in record.changes.items()]
            sample.fields = sorted(rows, key=lambda row: row.custom)  # as in the mapper: custom ones last
            return sample
        if record.operation is Operation.UPDATE:
            sample.note = "Previous values unknown (the last run kept no copy): the values sent are shown."
        flat = flatten(payload)
        sample.fields = [self._row(name, value, None, old_known=False) for name, value in flat.items()]
        if record.company_id is not None:
            sample.fields.append(FieldRow(COMPANY_CHANGE, False, self.formatter.shown(record.company_id)))
        return sample

    def _row(self, name: str, new: Any, old: Any, *, old_known: bool = True) -> FieldRow:
        is_date = name in self.formatter.date_fields
        custom = name.startswith(f"{CUSTOM}.")
        shown = self.formatter.shown
        return FieldRow(
            name.removeprefix(f"{CUSTOM}.") if custom else name,
            custom,
            new=shown(new, is_date=is_date),
            old=shown(old, is_date=is_date) if old_known else None,
        )

    def _event(self, payload: dict[str, Any]) -> EventRow:
        event, shown = self.config.event, self.formatter.shown
        contact_key = str(event.contact_key) if event else "user_id"
        created_at = payload.get("created_at")
        metadata = payload.get("metadata") or {}
        return EventRow(
            name=str(payload.get("event_name", "")),
            contact_label=EVENT_CONTACT_KEYS.get(contact_key, contact_key),
            contact=str(payload.get(contact_key, "")),
            time=shown(created_at, is_date=True) if created_at is not None else None,
            metadata=[
                (key, shown(value, is_date=key in self.formatter.date_columns))
                for key, value in metadata.items()
            ],
        )
