"""One model row → the Intercom request body for the sync's object, and a stable hash of it.

Shapes (API_NOTES §1-3):
- contacts: standard fields at the top level, custom attributes under `custom_attributes`, the sync key's
  identifier (email / external_id), `role` for the User and Lead objects; leads never get `external_id`.
  The company to attach is kept beside the body (`Built.company_id`): it is a separate call.
- companies: `company_id` (the sync key), fields, `custom_attributes`.
- events: `event_name`, `created_at` (UNIX seconds), the contact key (`id` / `user_id` / `email`), and a flat
  `metadata` of at most 10 keys (a key per metadata column; NULLs are left out).
NULLs follow each mapping's null policy (`FieldMapping.on_null`): left out of the body, so Intercom keeps what
it has (KEEP, and always where Intercom does not accept null), or sent as null to clear it (CLEAR).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from apps.connections.intercom.catalog import Behavior
from apps.connections.intercom.coercion import (
    CoercionError,
    coercer,
    email_key,
    to_email,
    to_float,
    to_string,
    to_unix_seconds,
)
from apps.connections.intercom.request_checks import RequestKind, check_request
from apps.syncs.engine.config import ROLES, FieldMapping, SyncConfig

CUSTOM = "custom_attributes"


class InvalidValue(ValueError):
    """A row that cannot become a valid Intercom record; the message is shown to the user as is."""


@dataclass(frozen=True)
class Built:
    payload: dict[str, Any]
    company_id: str | None = None


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def payload_hash(payload: dict[str, Any], company_id: str | None = None) -> str:
    """sha256 of the canonical JSON: independent of dict order. The company attachment is part of it."""
    document = payload if company_id is None else {"payload": payload, "company_id": company_id}
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def record_key(value: Any, column: str) -> str | None:
    """The row's key as text, or None when it is missing (NULL or blank)."""
    if value is None:
        return None
    key = to_string(value, column)
    return key if key.strip() else None


def email_coercer(value: Any, column: str) -> str | None:
    """The contact's email field: trimmed and checked like an email key (NULL stays None)."""
    return None if value is None else to_email(value, column)


def request_kind(config: SyncConfig) -> RequestKind | None:
    """The Intercom request a record's body is sent with (None: Delete sends no body). An upsert's body
    goes out as a create (a 409 turns it into an update of the same body), so it must be a valid create."""
    if config.behavior is Behavior.DELETE:
        return None
    if config.object_key == "event":
        return RequestKind.SEND_EVENT
    if config.object_key == "company":
        return RequestKind.UPSERT_COMPANY
    if config.behavior is Behavior.UPDATE_ONLY or config.key_is_destination_id:
        return RequestKind.UPDATE_CONTACT
    return RequestKind.CREATE_CONTACT


def key_reader(config: SyncConfig) -> Callable[[Any], str | None]:
    """How a row's key is read, in the planner's passes: as text, None when missing. Email keys are
    trimmed and compared without regard to case (Intercom matches emails so), so "Ada@X.com " and
    "ada@x.com" are one key: the ledger keeps the lowercased form, the payload the address as written."""
    column = config.sync_key.column
    if config.sync_key.identifier != "email":
        return lambda value: record_key(value, column)

    def read_email(value: Any) -> str | None:
        key = record_key(value, column)
        return None if key is None else email_key(to_email(key, column))

    return read_email


class PayloadBuilder:
    """Builds the payload of rows of one model for one sync; column positions are resolved once."""

    def __init__(self, config: SyncConfig, columns: Sequence[str]):
        self.config = config
        index = {name: i for i, name in enumerate(columns)}
        self._index = index
        obj = config.object
        self._sends_null = {(m.custom, m.target) for m in config.mappings if config.sends_null(m)}
        # (target, coercer, column index or None, coerced constant, column name, custom)
        self._fields = [self._resolve(m) for m in config.mappings]
        identifier = config.sync_key.identifier
        self._identifier_field = None
        if identifier in ("email", "external_id", "company_id") and not (
            obj.key == "lead" and identifier == "external_id"
        ):
            self._identifier_field = identifier
        self._key_index = index[config.sync_key.column]
        self._role = obj.role
        company_column = config.company_id_column
        # (its position, its name), when the contacts have a company column
        self._company = (index[company_column], company_column) if company_column else None
        self.request_kind = request_kind(config)
        self._sources = self._sources_of_fields()
        event = config.event
        self._event_name_column: tuple[int, str] | None = None  # when the event's name is read from a column
        if obj.key == "event" and event is not None:
            if event.event_name_column:
                self._event_name_column = (index[event.event_name_column], event.event_name_column)
            self._created_at_index = index[event.created_at_column]
            self._contact_index = index[event.contact_column]
            self._metadata = [(column, index[column]) for column in event.metadata_columns]

    def _sources_of_fields(self) -> dict[tuple[str, ...], str]:
        """Each field of the body → where its value comes from, as the user names it: a model column, or
        the constant of a mapping; for the messages of refused bodies."""
        config = self.config
        sources: dict[tuple[str, ...], str] = {(config.sync_key.identifier,): config.sync_key.column}
        for m in config.mappings:
            path = (CUSTOM, m.target) if m.custom else (m.target,)
            sources[path] = m.column if m.column is not None else f"constant for {m.target}"
        event = config.event
        if event is not None:
            sources[("event_name",)] = event.event_name_column or "event name"
            sources[("created_at",)] = event.created_at_column
            sources[(str(event.contact_key),)] = event.contact_column
            sources.update({("metadata", column): column for column in event.metadata_columns})
        return sources

    def refusal(self, payload: dict[str, Any]) -> str | None:
        """Why Intercom would refuse this body (the model column first, then the rule), or None: checked
        against Intercom's request schema before any call (`request_checks`)."""
        if self.request_kind is None:
            return None
        violation = check_request(self.request_kind, payload)
        if violation is None:
            return None
        path = violation.path
        source = self._sources.get(path) or self._sources.get(path[:1]) or "the record"
        return f"{source}: {violation.message}"

    def _resolve(self, m: FieldMapping) -> tuple[str, Any, int | None, Any, str, bool]:
        convert = email_coercer if (m.target == "email" and not m.custom) else coercer(m.field_type, m.unit)
        if m.column is not None:
            return m.target, convert, self._index[m.column], None, m.column, m.custom
        constant = convert(m.constant, f"constant for {m.target}")
        return m.target, None, None, constant, m.target, m.custom

    def build(self, row: Sequence[Any], key: str) -> Built:
        """The body for this row; raises `InvalidValue` with the user-facing reason."""
        config = self.config
        if config.behavior is Behavior.DELETE:  # only what the loader needs to find the record
            identifier = config.sync_key.identifier
            return Built({} if config.key_is_destination_id else {identifier: key})
        if config.object_key == "event":
            return Built(self._event(row))
        payload: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        if self._identifier_field == "email":  # as written (trimmed), not the lowercased key
            payload["email"] = to_email(row[self._key_index], config.sync_key.column)
        elif self._identifier_field:
            payload[self._identifier_field] = key
        if self._role:
            payload["role"] = self._role
        for target, convert, position, constant, column, is_custom in self._fields:
            if position is None:
                value = constant
            else:
                try:
                    value = convert(row[position], column)
                except CoercionError as error:
                    raise InvalidValue(str(error)) from None
            if value is None and (is_custom, target) not in self._sends_null:
                continue  # Intercom keeps its value (a NULL role, say, is "not set": it cannot be cleared)
            if is_custom:
                custom[target] = value
            else:
                if target == "role" and value not in ROLES:
                    raise InvalidValue(f"{column}: “{value}” is not a role (use “user” or “lead”)")
                payload[target] = value
        if custom:
            payload[CUSTOM] = custom
        company_id = None
        if self._company is not None:
            position, column = self._company
            try:
                company_id = record_key(row[position], column)
            except CoercionError as error:
                raise InvalidValue(str(error)) from None
        return Built(payload, company_id)

    def _event(self, row: Sequence[Any]) -> dict[str, Any]:
        event = self.config.event
        assert event is not None
        if self._event_name_column is None:
            name = event.event_name
        else:
            position, column = self._event_name_column
            name = record_key(row[position], column)
            if name is None:
                raise InvalidValue(f"{column}: the event name is empty")
        raw_time = row[self._created_at_index]
        if raw_time is None:
            raise InvalidValue(f"{event.created_at_column}: the event time is empty")
        try:
            created_at = to_unix_seconds(raw_time, event.created_at_column, event.created_at_unit)
            contact = record_key(row[self._contact_index], event.contact_column)
            if contact is not None and event.contact_key == "email":
                contact = to_email(contact, event.contact_column)
        except CoercionError as error:
            raise InvalidValue(str(error)) from None
        if contact is None:
            raise InvalidValue(f"{event.contact_column}: the event has no contact")
        payload: dict[str, Any] = {
            "event_name": name,
            "created_at": created_at,
            str(event.contact_key): contact,
        }
        metadata = {}
        for column, position in self._metadata:
            value = metadata_value(row[position], column)
            if value is not None:
                metadata[column] = value
        if metadata:
            payload["metadata"] = metadata
        return payload


def metadata_value(value: Any, column: str) -> Any:
    """Event metadata is flat: text, numbers, booleans; dates become UNIX seconds."""
    if value is None or isinstance(value, str | bool | int):
        return value
    try:
        if isinstance(value, float | Decimal):
            return to_float(value, column)
        if isinstance(value, dt.date | dt.datetime):
            return to_unix_seconds(value, column)
    except CoercionError as error:
        raise InvalidValue(str(error)) from None
    if isinstance(value, UUID):
        return str(value)
    raise InvalidValue(
        str(CoercionError(column, value, "a flat value", "metadata takes text, numbers or dates"))
    )
