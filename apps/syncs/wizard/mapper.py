"""The mapper's rows: model column (or a constant) → Intercom field, as many as the user adds.

A row is posted as `map-<n>-column`, `map-<n>-constant`, `map-<n>-target` (`std:<field>` or `cus:<custom
attribute>`), `map-<n>-null` (what a NULL does) and `map-<n>-unit` (epoch seconds or milliseconds, for a
date fed by numbers); an event's metadata as `meta-<n>-column`. The numbers only keep a row's inputs
together: "+ Add mapping", "Remove", accepting a suggestion and creating a custom attribute are edits of
the posted data (functions below), so every one of them works as a plain form post too.

The targets are the object's standard fields (but the one the sync key sets) and every custom attribute
the connected workspace has for the object's attribute model; a mapped attribute Intercom does not list
(any more) stays a target, marked missing, so the row can say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from apps.connections.intercom.attributes import CustomAttribute
from apps.connections.intercom.catalog import FieldType, IntercomObject
from apps.connections.intercom.coercion import EpochUnit
from apps.syncs.engine import date_units
from apps.syncs.engine.config import CONTACT_OBJECTS, FieldMapping, NullPolicy
from apps.syncs.wizard import automap
from apps.syncs.wizard.typecheck import OK, TYPE_WORDS, PairCheck, Verdict, check_pair

ROW_INPUT = re.compile(r"^map-(\d+)-(column|constant|target|null|unit|type)$")
META_INPUT = re.compile(r"^meta-(\d+)-column$")
COMPANY_SUGGESTION = "company"  # the slug of the "attach to the company" suggestion (an option, no field)
# A custom attribute created from a column takes the Intercom type of the column's kind.
CREATED_TYPES = {"string": "string", "integer": "integer", "decimal": "float", "float": "float",
                 "boolean": "boolean", "date": "date", "timestamp": "date"}  # fmt: skip
CREATED_TYPE_LABELS = {"string": "Text", "integer": "Integer", "float": "Decimal number",
                       "boolean": "True or false", "date": "Date"}  # fmt: skip


@dataclass(frozen=True)
class MapperTarget:
    slug: str  # "std:<field>" or "cus:<attribute>": the value of a row's target select
    name: str
    label: str
    field_type: FieldType
    custom: bool
    nullable: bool  # Intercom lets a null clear it
    help: str = ""
    missing: bool = False  # a custom attribute Intercom does not list (any more)

    @property
    def option_label(self) -> str:
        note = " · not found in Intercom" if self.missing else ""
        return f"{self.label} ({TYPE_WORDS[self.field_type]}){note}"

    @property
    def takes_unit(self) -> bool:
        return date_units.takes_unit(self.field_type)


def slug_of(*, custom: bool, name: str) -> str:
    return f"{'cus' if custom else 'std'}:{name}"


def mapper_targets(
    obj: IntercomObject, *, key_identifier: str, attributes: Iterable[CustomAttribute]
) -> list[MapperTarget]:
    targets = [
        MapperTarget(slug_of(custom=False, name=f.name), f.name, f.label, f.type, False, f.nullable, f.help)
        for f in obj.fields
        if f.name != key_identifier
    ]
    if obj.attribute_model:
        targets += [
            MapperTarget(
                slug_of(custom=True, name=a.name),
                a.name,
                a.name,
                a.field_type,
                True,
                obj.custom_attributes_nullable,
                a.description,
            )
            for a in attributes
            if a.model == obj.attribute_model
        ]
    return targets


@dataclass
class MapperRow:
    index: int
    column: str = ""
    constant: str = ""
    target_slug: str = ""
    on_null: str = NullPolicy.KEEP
    unit: str = EpochUnit.SECONDS
    missing_type: str = ""  # the type a missing custom attribute was mapped with
    target: MapperTarget | None = None
    column_kind: str = ""
    error: str = ""
    check: PairCheck = field(default=OK)

    @property
    def prefix(self) -> str:
        return f"map-{self.index}-"

    @property
    def blank(self) -> bool:
        return not (self.column or self.constant or self.target_slug)

    @property
    def mapped(self) -> bool:
        return self.target is not None and bool(self.column or self.constant)

    @property
    def takes_unit(self) -> bool:
        """Date fields ask what the numbers of the column are; so does a row whose field is not chosen yet
        (its unit choice is shown once a date field is, wizard.js)."""
        return self.target is None or self.target.takes_unit

    @property
    def reads_as_date(self) -> bool:
        return bool(self.column) and date_units.reads_as_date(self.column_kind)

    @property
    def offers_null_choice(self) -> bool:
        """Where Intercom can clear the field (or the field is not chosen yet); or where "clear" was asked
        anyway, so it can be changed."""
        return self.target is None or self.target.nullable or self.on_null != NullPolicy.KEEP

    @property
    def warning(self) -> bool:
        return self.check.verdict is Verdict.WARNING

    @property
    def created_type(self) -> str:
        """The Intercom type a custom attribute created from this row's column gets."""
        return CREATED_TYPES.get(self.column_kind, "string")

    def as_mapping(self) -> dict[str, Any]:
        assert self.target is not None
        target = self.target
        unit = date_units.stored_unit(self.unit, self.column_kind) if target.takes_unit else None
        return FieldMapping(
            target=target.name,
            field_type=target.field_type,
            column=self.column or None,
            constant=None if self.column else self.constant,
            custom=target.custom,
            on_null=NullPolicy(self.on_null),
            unit=unit or EpochUnit.SECONDS,
        ).to_json()


def _indices(data: Mapping[str, Any], pattern: re.Pattern) -> list[int]:
    return sorted({int(match.group(1)) for key in data if (match := pattern.match(key))})


def _value(data, key: str) -> str:
    value = data.get(key)
    return (value or "").strip() if isinstance(value, str) else ""


def mapper_rows(data, targets: list[MapperTarget], *, object_key: str) -> list[MapperRow]:
    """The posted rows, each with its target resolved; a mapped custom attribute Intercom does not list is
    added to `targets`, marked missing."""
    by_slug = {t.slug: t for t in targets}
    rows = []
    for index in _indices(data, ROW_INPUT):
        p = f"map-{index}-"
        row = MapperRow(
            index,
            column=_value(data, f"{p}column"),
            constant=_value(data, f"{p}constant"),
            target_slug=_value(data, f"{p}target"),
            on_null=_value(data, f"{p}null") or NullPolicy.KEEP,
            unit=_value(data, f"{p}unit") or EpochUnit.SECONDS,
            missing_type=_value(data, f"{p}type"),
        )
        slug = row.target_slug
        if slug.startswith("cus:") and slug not in by_slug and slug[4:]:
            field_type = row.missing_type if row.missing_type in FieldType else FieldType.STRING
            missing = MapperTarget(
                slug, slug[4:], slug[4:], FieldType(field_type), True, object_key in CONTACT_OBJECTS,
                "Not found in Intercom.", missing=True,
            )  # fmt: skip
            targets.append(missing)
            by_slug[slug] = missing
        row.target = by_slug.get(slug)
        rows.append(row)
    return rows


def metadata_rows(data) -> list[tuple[int, str]]:
    return [(i, _value(data, f"meta-{i}-column")) for i in _indices(data, META_INPUT)]


# --- edits of the posted data: what the mapper's buttons do -----------------------------------------------


def _copy(data) -> QueryDict:
    copied = QueryDict(mutable=True)
    if data is not None:
        for key in data:
            copied.setlist(key, data.getlist(key) if hasattr(data, "getlist") else [data[key]])
    return copied


def with_row(
    data, *, column: str = "", target: str = "", constant: str = "", fill_blank: bool = False
) -> tuple[QueryDict, int]:
    """The data with one more row (the number it got); with `fill_blank`, in the first row left empty."""
    edited = _copy(data)
    indices = _indices(edited, ROW_INPUT)
    blank = [
        i
        for i in indices
        if not any(_value(edited, f"map-{i}-{k}") for k in ("column", "constant", "target"))
    ]
    index = blank[0] if fill_blank and blank else max(indices, default=-1) + 1
    for name, value in (("column", column), ("constant", constant), ("target", target),
                        ("null", NullPolicy.KEEP.value), ("unit", EpochUnit.SECONDS.value)):  # fmt: skip
        edited[f"map-{index}-{name}"] = value
    return edited, index


def without_row(data, index: int) -> QueryDict:
    edited = _copy(data)
    for key in [k for k in edited if (m := ROW_INPUT.match(k)) and int(m.group(1)) == index]:
        del edited[key]
    return edited


def with_target(data, index: int, target: str) -> QueryDict:
    edited = _copy(data)
    edited[f"map-{index}-target"] = target
    edited.pop(f"map-{index}-type", None)
    return edited


def with_metadata(data, column: str = "") -> tuple[QueryDict, int]:
    edited = _copy(data)
    index = max(_indices(edited, META_INPUT), default=-1) + 1
    edited[f"meta-{index}-column"] = column
    return edited, index


def with_option(data, name: str, value: str) -> QueryDict:
    edited = _copy(data)
    edited[f"opt-{name}"] = value
    return edited


def without_inline(data) -> QueryDict:
    """The data without what was typed into "Create a custom attribute" (it was created)."""
    edited = _copy(data)
    for key in ("new_attribute_name", "new_attribute_type", "new_attribute_column"):
        edited.pop(key, None)
    return edited


def without_metadata(data, index: int) -> QueryDict:
    edited = _copy(data)
    edited.pop(f"meta-{index}-column", None)
    return edited


def mapper_data(
    mappings: Iterable[FieldMapping], metadata_columns: Iterable[str] = ()
) -> dict[str, list[str]]:
    """A saved sync's mappings (and event metadata) as the mapper's inputs."""
    data: dict[str, list[str]] = {}
    for index, m in enumerate(mappings):
        p = f"map-{index}-"
        data[f"{p}target"] = [slug_of(custom=m.custom, name=m.target)]
        data[f"{p}column"] = [m.column or ""]
        data[f"{p}constant"] = ["" if m.column or m.constant is None else str(m.constant)]
        data[f"{p}type"] = [m.field_type.value]
        data[f"{p}null"] = [m.on_null.value]
        data[f"{p}unit"] = [m.unit.value]
    for index, column in enumerate(metadata_columns):
        data[f"meta-{index}-column"] = [column]
    return data


# --- suggestions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    column: str
    target: MapperTarget | None  # None: attach each contact to its company (an option, not a field)
    check: PairCheck = OK

    @property
    def slug(self) -> str:
        return self.target.slug if self.target else COMPANY_SUGGESTION

    @property
    def label(self) -> str:
        return self.target.label if self.target else "Company (attach by Company ID)"


def suggestions(
    *,
    obj: IntercomObject,
    targets: list[MapperTarget],
    columns: list[dict],
    rows: list[MapperRow],
    key_column: str,
    company_column_set: bool,
    dialect: str | None,
) -> list[Suggestion]:
    """Column → field pairs whose names fit and whose types can go together, for the fields and columns no
    row maps yet (a column feeds one suggestion at most; the sync key column none)."""
    kinds = {c["name"]: c.get("kind") or "" for c in columns}
    used_columns = {r.column for r in rows if r.column} | {key_column}
    used_targets = {r.target_slug for r in rows if r.target_slug}
    found: list[Suggestion] = []
    for target in targets:
        if target.missing or target.slug in used_targets:
            continue
        names = (automap.normalized(target.name),) if target.custom else automap.aliases(obj.key, target.name)
        fitting = []
        for column in kinds:
            if column in used_columns:
                continue
            check = check_pair(column, kinds[column], target.field_type, target.label, dialect=dialect)
            if check.verdict is not Verdict.ERROR:
                fitting.append(column)
        column = automap.first_match(fitting, names)
        if column:
            used_columns.add(column)
            check = check_pair(column, kinds[column], target.field_type, target.label, dialect=dialect)
            found.append(Suggestion(column, target, check))
    if obj.key in CONTACT_OBJECTS and not company_column_set:
        column = automap.first_match([c for c in kinds if c not in used_columns], automap.COMPANY_ID_NAMES)
        if column:
            found.append(Suggestion(column, None))
    return found
