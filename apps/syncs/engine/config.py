"""A sync as the engine sees it: plain, frozen data, independent of the Django models that store it.

The service that runs a sync builds a `SyncConfig` from its rows; the planner and the payload builder
read nothing else. `validate()` returns the problems a user must fix, each a `Problem` whose subject says
what it is about (a part of the sync, a mapping's `Target`, an `Option`) and whose message is in words
they understand. `from_json`/`to_json` are the one reading and writing of the JSON a `Sync` stores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from apps.common.problems import Problem
from apps.connections.intercom.catalog import (
    EVENT_CONTACT_KEYS,
    EVENT_METADATA_LIMIT,
    OBJECTS,
    Behavior,
    FieldType,
    IntercomObject,
)
from apps.connections.intercom.coercion import CoercionError, EpochUnit, coerce

CONTACT_OBJECTS = frozenset({"contact", "user", "lead"})
ROLES = ("user", "lead")


class EventContactKey(StrEnum):
    """The field of `POST /events` that names the contact."""

    ID = "id"
    USER_ID = "user_id"
    EMAIL = "email"


class FirstRunMode(StrEnum):
    SEND_ALL = "send_all"  # the first run sends every row
    SKIP_EXISTING = "skip_existing"  # the first run records today's rows as sent without sending them


class NullPolicy(StrEnum):
    """What a NULL in the model does to a mapped field in Intercom."""

    KEEP = "keep"  # Intercom's value stays as it is: the field is left out of the body
    CLEAR = "clear"  # sent as null, which clears it; only where Intercom accepts null (the catalog says)

    @property
    def label(self) -> str:
        return NULL_POLICY_LABELS[self]


NULL_POLICY_LABELS = {NullPolicy.KEEP: "Keep Intercom's value", NullPolicy.CLEAR: "Clear in Intercom"}


class SyncPart(StrEnum):
    """The parts of a sync a problem can be about, other than one mapping or one option (the values are
    the names of the `Sync` fields and of the wizard's inputs)."""

    OBJECT = "object_key"
    BEHAVIOR = "behavior"
    KEY_IDENTIFIER = "key_identifier"
    KEY_COLUMN = "key_column"
    MAPPINGS = "mappings"  # the mappings as a whole


@dataclass(frozen=True)
class Target:
    """A problem about one mapping: the standard field or custom attribute it sets."""

    target: str
    custom: bool = False


@dataclass(frozen=True)
class Option:
    """A problem about one option (the names of `SyncOptionsForm`'s fields; "event" for the whole)."""

    name: str


@dataclass(frozen=True)
class SyncKey:
    column: str  # the model column
    identifier: str  # the Intercom identifier key (catalog), e.g. "email", "company_id", "event_id"


@dataclass(frozen=True)
class FieldMapping:
    """One destination field, fed by a model column or by a constant value.

    `target` is a standard field name of the object, or a custom attribute name when `custom` is true.
    """

    target: str
    field_type: FieldType
    column: str | None = None
    constant: Any = None
    custom: bool = False
    on_null: NullPolicy = NullPolicy.KEEP
    # Dates given as numbers are epoch seconds or milliseconds, as the user says: never guessed by size.
    unit: EpochUnit = EpochUnit.SECONDS

    @property
    def label(self) -> str:
        return f"custom attribute “{self.target}”" if self.custom else f"field “{self.target}”"

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> FieldMapping:
        """One stored mapping; a key an older version did not write takes its default."""
        return cls(
            target=str(stored["target"]),
            field_type=FieldType(stored.get("field_type") or FieldType.STRING),
            column=stored.get("column"),
            constant=stored.get("constant"),
            custom=bool(stored.get("custom")),
            on_null=NullPolicy(stored.get("on_null") or NullPolicy.KEEP),
            unit=EpochUnit(stored.get("unit") or EpochUnit.SECONDS),
        )

    def to_json(self) -> dict[str, Any]:
        """As stored: a column or a constant, and the unit only when it is not the default (seconds), so
        that what was stored before units existed reads the same."""
        stored: dict[str, Any] = {"target": self.target, "field_type": self.field_type.value,
                                  "custom": self.custom, "on_null": self.on_null.value}  # fmt: skip
        if self.column is not None:
            stored["column"] = self.column
        else:
            stored["constant"] = self.constant
        if self.unit is not EpochUnit.SECONDS:
            stored["unit"] = self.unit.value
        return stored


@dataclass(frozen=True)
class EventOptions:
    contact_column: str
    contact_key: EventContactKey
    created_at_column: str
    event_name: str | None = None  # a constant name for every row …
    event_name_column: str | None = None  # … or a column holding it
    metadata_columns: tuple[str, ...] = ()  # metadata key = column name
    first_run: FirstRunMode = FirstRunMode.SEND_ALL
    created_at_unit: EpochUnit = EpochUnit.SECONDS  # when the event time column holds epoch numbers

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> EventOptions:
        return cls(
            contact_column=stored.get("contact_column") or "",
            contact_key=EventContactKey(stored.get("contact_key") or EventContactKey.USER_ID),
            created_at_column=stored.get("created_at_column") or "",
            event_name=stored.get("event_name"),
            event_name_column=stored.get("event_name_column"),
            metadata_columns=tuple(stored.get("metadata_columns") or ()),
            first_run=FirstRunMode(stored.get("first_run") or FirstRunMode.SEND_ALL),
            created_at_unit=EpochUnit(stored.get("created_at_unit") or EpochUnit.SECONDS),
        )

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "contact_column": self.contact_column,
            "contact_key": self.contact_key.value,
            "created_at_column": self.created_at_column,
            "metadata_columns": list(self.metadata_columns),
            "first_run": self.first_run.value,
        }
        if self.created_at_unit is not EpochUnit.SECONDS:
            stored["created_at_unit"] = self.created_at_unit.value
        if self.event_name_column is not None:
            stored["event_name_column"] = self.event_name_column
        if self.event_name is not None:
            stored["event_name"] = self.event_name
        return stored


# How `validate` reports a missing column: (the column or None, what it is for, the problem's subject).
NeedColumn = Callable[[str | None, str, Hashable], None]


@dataclass(frozen=True)
class SyncConfig:
    object_key: str
    behavior: Behavior
    sync_key: SyncKey
    mappings: tuple[FieldMapping, ...] = ()
    company_id_column: str | None = None  # contact syncs: attach the contact to this company
    event: EventOptions | None = None  # event syncs only
    permanent_delete: bool = False  # Delete on contacts: delete instead of archive (companies always delete)

    @classmethod
    def from_json(
        cls,
        *,
        object_key: str,
        behavior: str,
        key_column: str,
        key_identifier: str,
        mappings: list[dict[str, Any]] | None,
        options: dict[str, Any] | None,
    ) -> SyncConfig:
        """A sync as stored: its fields, and the JSON of `Sync.mappings` and `Sync.options` (the only reader
        of those columns; a key an older version did not write takes its default)."""
        options = options or {}
        event = options.get("event")
        return cls(
            object_key=object_key,
            behavior=Behavior(behavior),
            sync_key=SyncKey(column=key_column, identifier=key_identifier),
            mappings=tuple(FieldMapping.from_json(m) for m in mappings or ()),
            company_id_column=options.get("company_id_column") or None,
            permanent_delete=bool(options.get("permanent_delete")),
            event=EventOptions.from_json(event) if event else None,
        )

    def to_json(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """What `Sync.mappings` and `Sync.options` store (the only writer of those columns)."""
        options: dict[str, Any] = {}
        if self.company_id_column:
            options["company_id_column"] = self.company_id_column
        if self.permanent_delete:
            options["permanent_delete"] = True
        if self.event is not None:
            options["event"] = self.event.to_json()
        return [m.to_json() for m in self.mappings], options

    @property
    def columns(self) -> set[str]:
        """Every model column the sync reads."""
        columns = {self.sync_key.column, self.company_id_column}
        columns |= {m.column for m in self.mappings}
        if self.event is not None:
            event = self.event
            columns |= {event.contact_column, event.created_at_column, event.event_name_column}
            columns |= set(event.metadata_columns)
        return {c for c in columns if c}

    @property
    def object(self) -> IntercomObject:
        return OBJECTS[self.object_key]

    @property
    def is_contact(self) -> bool:
        return self.object_key in CONTACT_OBJECTS

    def sends_null(self, mapping: FieldMapping) -> bool:
        """A NULL of this mapping goes out as null: asked for (CLEAR) and accepted by Intercom. Otherwise
        the field is left out of the body and Intercom keeps its value."""
        return mapping.on_null is NullPolicy.CLEAR and self.object.accepts_null(
            mapping.target, custom=mapping.custom
        )

    @cached_property
    def kept_on_null(self) -> frozenset[tuple[bool, str]]:
        """(custom, target) of the mappings whose NULL keeps Intercom's value."""
        return frozenset((m.custom, m.target) for m in self.mappings if not self.sends_null(m))

    @property
    def needs_previous_payloads(self) -> bool:
        """Whether planning reads the last accepted payloads: a NULL that keeps Intercom's value (or a NULL
        company, which never detaches one) is no change only when compared with what Intercom holds."""
        kept = any(m.column is not None and not self.sends_null(m) for m in self.mappings)
        return kept or self.company_id_column is not None

    @property
    def key_is_destination_id(self) -> bool:
        """Keyed by the Intercom id itself: the key is the destination id, nothing needs a lookup."""
        return self.sync_key.identifier == "id"

    def validate(self, columns: Collection[str]) -> list[Problem]:
        """Problems with this configuration against the model's columns; empty when it can run.

        Any column can be the sync key: whether its values are unique and present is a property of the
        rows, checked each time they are read (the planner makes every row of a repeated or empty key
        invalid, and lists them)."""
        if self.object_key not in OBJECTS:
            return [
                Problem(SyncPart.OBJECT, "unknown_object", f"Unknown Intercom object “{self.object_key}”.")
            ]
        obj = self.object
        problems: list[Problem] = []
        column_set = set(columns)

        def need_column(column: str | None, what: str, subject: Hashable) -> None:
            if not column:
                problems.append(Problem(subject, "column_required", f"Choose the column for {what}."))
            elif column not in column_set:
                problems.append(
                    Problem(
                        subject,
                        "column_not_in_model",
                        f"Column “{column}” ({what}) is not in the model's columns.",
                    )
                )

        if self.behavior not in obj.behaviors:
            allowed = ", ".join(b.label for b in obj.behaviors)
            problems.append(
                Problem(
                    SyncPart.BEHAVIOR,
                    "behavior_not_allowed",
                    f"{obj.label} syncs cannot use “{self.behavior.label}” (allowed: {allowed}).",
                )
            )
        if self.sync_key.identifier not in {i.key for i in obj.identifiers}:
            allowed = ", ".join(i.label for i in obj.identifiers)
            problems.append(
                Problem(
                    SyncPart.KEY_IDENTIFIER,
                    "identifier_not_allowed",
                    f"{obj.label} records cannot be matched on “{self.sync_key.identifier}” ({allowed}).",
                )
            )
        need_column(self.sync_key.column, "the sync key", SyncPart.KEY_COLUMN)
        problems += self._validate_mappings(obj, need_column)
        if self.company_id_column is not None:
            if not self.is_contact:
                problems.append(
                    Problem(
                        Option("company_id_column"),
                        "company_needs_contacts",
                        "Only contact syncs can attach records to a company.",
                    )
                )
            else:
                need_column(self.company_id_column, "the Company ID", Option("company_id_column"))
        if self.permanent_delete and self.behavior is not Behavior.DELETE:
            problems.append(
                Problem(
                    Option("permanent_delete"),
                    "permanent_needs_delete",
                    "Permanent deletion only applies to Delete syncs.",
                )
            )
        if self.object_key == "event":
            problems += self._validate_event(need_column)
        elif self.event is not None:
            problems.append(
                Problem(Option("event"), "event_options_unused", "Event options only apply to Event syncs.")
            )
        return problems

    def _validate_mappings(self, obj: IntercomObject, need_column: NeedColumn) -> list[Problem]:
        problems: list[Problem] = []
        if self.mappings and self.behavior is Behavior.DELETE:
            problems.append(
                Problem(
                    SyncPart.MAPPINGS,
                    "delete_sends_no_fields",
                    "Delete syncs send no fields: remove the field mappings.",
                )
            )
        targets = Counter((m.custom, m.target) for m in self.mappings)
        for (custom, target), count in targets.items():
            if count > 1:
                kind = "Custom attribute" if custom else "Field"
                problems.append(
                    Problem(
                        Target(target, custom), "mapped_twice", f"{kind} “{target}” is mapped {count} times."
                    )
                )
        for mapping in self.mappings:
            subject = Target(mapping.target, mapping.custom)

            def problem(code: str, message: str, subject: Target = subject) -> None:
                problems.append(Problem(subject, code, message))

            if mapping.custom:
                if obj.attribute_model is None:
                    problem(
                        "no_custom_attributes",
                        f"{obj.label} records have no custom attributes ({mapping.target}).",
                    )
            else:
                standard = obj.field(mapping.target)
                if standard is None:
                    problem("unknown_field", f"“{mapping.target}” is not a field of {obj.label}.")
                elif standard.type != mapping.field_type:
                    problem(
                        "wrong_field_type",
                        f"Field “{mapping.target}” takes {standard.type}, not {mapping.field_type}.",
                    )
                elif mapping.target == self.sync_key.identifier:
                    problem("set_by_sync_key", f"Field “{mapping.target}” is already set by the sync key.")
            known = (
                obj.attribute_model is not None if mapping.custom else obj.field(mapping.target) is not None
            )
            if known and mapping.on_null is NullPolicy.CLEAR and not self.sends_null(mapping):
                what = f"the custom attribute “{mapping.target}”" if mapping.custom else f"“{mapping.target}”"
                problem(
                    "cannot_clear",
                    f"Intercom cannot clear {what}: it does not accept null. Choose “{NullPolicy.KEEP.label}”.",
                )
            if mapping.column is not None:
                need_column(mapping.column, mapping.label, subject)
            elif mapping.constant is None:
                problem("value_required", f"Choose a column or a constant value for the {mapping.label}.")
            else:
                try:
                    value = coerce(
                        mapping.constant,
                        mapping.field_type,
                        column=f"constant for {mapping.target}",
                        unit=mapping.unit,
                    )
                except CoercionError as error:
                    problem("constant_not_coercible", str(error))
                else:
                    if mapping.target == "role" and not mapping.custom and value not in ROLES:
                        problem("unknown_role", "The role must be “user” or “lead”.")
        return problems

    def _validate_event(self, need_column: NeedColumn) -> list[Problem]:
        event = self.event
        if event is None:
            return [
                Problem(
                    Option("event"),
                    "event_options_required",
                    "Event syncs need the event options (name, created-at and contact columns).",
                )
            ]
        problems: list[Problem] = []
        if (event.event_name is None) == (event.event_name_column is None):
            problems.append(
                Problem(
                    Option("event_name"),
                    "event_name_required",
                    "Give the event name as a constant or as a column (one of them).",
                )
            )
        elif event.event_name_column is not None:
            need_column(event.event_name_column, "the event name", Option("event_name_column"))
        elif event.event_name is not None and not event.event_name.strip():
            problems.append(
                Problem(Option("event_name"), "event_name_empty", "The event name cannot be empty.")
            )
        need_column(event.created_at_column, "the event time", Option("created_at_column"))
        need_column(event.contact_column, "the contact", Option("contact_column"))
        if event.contact_key not in EVENT_CONTACT_KEYS:
            problems.append(
                Problem(
                    Option("contact_key"),
                    "unknown_contact_key",
                    f"Events name their contact by {', '.join(EVENT_CONTACT_KEYS)}.",
                )
            )
        metadata = Option("metadata_columns")
        if len(event.metadata_columns) > EVENT_METADATA_LIMIT:
            problems.append(
                Problem(
                    metadata,
                    "too_much_metadata",
                    f"Intercom keeps at most {EVENT_METADATA_LIMIT} metadata keys per event "
                    f"({len(event.metadata_columns)} chosen).",
                )
            )
        if len(set(event.metadata_columns)) != len(event.metadata_columns):
            problems.append(Problem(metadata, "metadata_twice", "A metadata column is chosen twice."))
        for column in event.metadata_columns:
            need_column(column, "event metadata", metadata)
        return problems


def mapping(target: str, field_type: FieldType, column: str | None = None, **kwargs: Any) -> FieldMapping:
    """Shorthand used by tests and services."""
    return FieldMapping(target=target, field_type=FieldType(field_type), column=column, **kwargs)
