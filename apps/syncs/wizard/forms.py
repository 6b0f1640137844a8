"""The sync wizard's forms: one per step, in the product's order.

1. "What data do you want to sync?" (DataStepForm): the source connection and its model.
2. "Where do you want to sync data to?" (DestinationStepForm): the Intercom connection and object.
3. "How should changes to the source be synced?" (BehaviorStepForm): behavior and sync key.
4. "Which fields should be updated?" (FieldsStep): the mapper, the per-object options and the name.
Then the preview (views in apps/syncs/wizard/views.py). Each step checks what is chosen on it and puts every
problem next to its field; the engine's own checks (services) decide, the forms only place the words.

The mapper has one row per Intercom field, each with a column input (a searchable <datalist> of the
model's columns), a constant input and what a NULL does (`null:…`, where Intercom can clear the field),
named after the field (`col:std:name`, `const:cus:plan`), so that a row keeps its values when the list
changes (a custom attribute created inline). A date row also says what the numbers of its column are
(`unit:…`, epoch seconds or milliseconds: date_units), unless the column's kind is a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from apps.common.problems import Problem
from apps.connections.intercom.attributes import CREATABLE_TYPES, CustomAttribute
from apps.connections.intercom.catalog import (
    EVENT_CONTACT_KEYS,
    EVENT_METADATA_LIMIT,
    OBJECTS,
    Behavior,
    FieldType,
    IntercomObject,
)
from apps.connections.intercom.coercion import EpochUnit
from apps.connections.models import Connection, ConnectionKind
from apps.models.models import SqlModel
from apps.syncs.engine import date_units
from apps.syncs.engine.config import (
    CONTACT_OBJECTS,
    NULL_POLICY_LABELS,
    EventContactKey,
    EventOptions,
    FieldMapping,
    FirstRunMode,
    NullPolicy,
    Option,
    SyncConfig,
    SyncKey,
    SyncPart,
    Target,
)
from apps.syncs.models import Sync
from apps.syncs.services import engine_config, sync_problems
from apps.tenancy.models import Workspace

IDENTIFIER_LABELS = {i.key: i.label for obj in OBJECTS.values() for i in obj.identifiers}
MAPPER_PREFIXES = ("col:", "const:", "type:", "null:", "unit:")
NULL_CHOICES = list(NULL_POLICY_LABELS.items())

OBJECT_NOTES = {
    "user": "People who signed up: matched by email, your user id (External ID) or Intercom ID.",
    "lead": "People who have not signed up yet (matched by email or Intercom ID; Intercom sets their External ID).",
    "contact": "Users and leads together; a Role column can choose which each record is.",
    "company": "Accounts, matched by your Company ID.",
    "event": "Rows sent once each as events on a contact's timeline.",
}
BEHAVIOR_NOTES = {
    "update_only": "A safe start: updates the records Intercom already has and never creates any.",
    "upsert": "Creates the records Intercom does not have and updates those that changed.",
    "delete": "Archives (contacts) or deletes (companies) every record the model lists.",
    "send": "Sends each new row once as an event.",
}
# Update Only first: it is the one that cannot add anything to Intercom.
BEHAVIOR_ORDER = (Behavior.UPDATE_ONLY, Behavior.UPSERT, Behavior.DELETE, Behavior.SEND)
# The identifier recommended per object: the user's own database id where Intercom keeps one.
RECOMMENDED_IDENTIFIER = {"user": "external_id", "contact": "external_id", "lead": "email",
                          "company": "company_id", "event": "event_id"}  # fmt: skip


def _kind_words(kind: str) -> str:
    return {"string": "text", "timestamp": "a timestamp", "json": "JSON", "integer": "a whole number",
            "decimal": "a decimal", "float": "a decimal", "boolean": "true/false",
            "date": "a date"}.get(kind, kind)  # fmt: skip


TYPE_WORDS = {FieldType.STRING: "text", FieldType.INTEGER: "a whole number", FieldType.FLOAT: "a number",
              FieldType.BOOLEAN: "true or false", FieldType.DATE: "a date",
              FieldType.DATETIME: "a date and time"}  # fmt: skip
# The column kinds (sources.base.Column.kind) each Intercom type takes as they are; other kinds need a cast
# in the model's SQL. "other" and unknown kinds are not judged.
ACCEPTED_KINDS = {
    FieldType.STRING: {"string", "integer", "decimal", "float", "boolean", "date", "timestamp"},
    FieldType.INTEGER: {"integer", "decimal"},
    FieldType.FLOAT: {"integer", "decimal", "float"},
    FieldType.BOOLEAN: {"boolean", "integer"},
    FieldType.DATE: {"date", "timestamp", "integer"},
    FieldType.DATETIME: {"date", "timestamp", "integer"},
}
JUDGED_KINDS = {"string", "integer", "decimal", "float", "boolean", "date", "timestamp", "json"}
CASTS = {FieldType.DATE: "TIMESTAMP", FieldType.DATETIME: "TIMESTAMP", FieldType.BOOLEAN: "BOOLEAN",
         FieldType.INTEGER: "BIGINT", FieldType.FLOAT: "DOUBLE PRECISION", FieldType.STRING: "TEXT"}  # fmt: skip


def type_mismatch(column: dict, field_type: str, field_label: str) -> str:
    """Why a column cannot feed a field of this type as it is, or "" when it can."""
    kind, field_type = column.get("kind") or "", FieldType(field_type)
    if kind not in JUDGED_KINDS or kind in ACCEPTED_KINDS[field_type]:
        return ""
    return (
        f"“{column['name']}” is {_kind_words(kind)}, but {field_label} takes {TYPE_WORDS[field_type]}. "
        f"Cast it in the model's SQL (CAST({column['name']} AS {CASTS[field_type]})) or choose another column."
    )


def column_label(column: dict) -> str:
    return f"{column['name']} ({column['kind']})" if column.get("kind") else column["name"]


def _preselect_single(form: forms.Form, field: str, queryset) -> None:
    """When there is only one to choose from, it is chosen."""
    if not form.is_bound and field not in form.initial:
        only = list(queryset[:2])
        if len(only) == 1:
            form.initial[field] = only[0].pk


# --- step 1: what data ---------------------------------------------------------------------------------


class DataStepForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=Connection.objects.none(), label="Source connection", empty_label="Choose a source…"
    )
    model = forms.ModelChoiceField(
        queryset=SqlModel.objects.none(),
        label="Model",
        empty_label="Choose a model…",
        help_text="The rows to sync: a saved SQL query on the source.",
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        sources = (
            Connection.objects.for_workspace(workspace).filter(kind=ConnectionKind.SOURCE).order_by("name")
        )
        models = SqlModel.objects.for_workspace(workspace).select_related("source").order_by("name")
        self.fields["source"].queryset = sources
        self.fields["model"].queryset = models
        # The models grouped by their source, so the list reads well without JavaScript.
        groups: dict[str, list] = {}
        for model in models:
            groups.setdefault(model.source.name, []).append(
                (model.pk, f"{model.name} ({len(model.columns)} columns, key {model.primary_key})")
            )
        self.fields["model"].choices = [("", "Choose a model…"), *sorted(groups.items())]
        self.has_models = bool(groups)
        _preselect_single(self, "source", sources)
        _preselect_single(self, "model", models)

    def clean(self):
        data = super().clean()
        source, model = data.get("source"), data.get("model")
        if source and model and model.source_id != source.pk:
            self.add_error(
                "model",
                f"“{model.name}” reads from {model.source.name}, not {source.name}: choose one of "
                f"{source.name}'s models, or change the source.",
            )
        return data


# --- step 2: where to ----------------------------------------------------------------------------------


class DestinationStepForm(forms.Form):
    destination = forms.ModelChoiceField(
        queryset=Connection.objects.none(), label="Intercom connection", empty_label="Choose a connection…"
    )
    object_key = forms.ChoiceField(
        label="Intercom object",
        choices=[(k, o.label) for k, o in OBJECTS.items()],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = Connection.objects.for_workspace(workspace).filter(
            kind=ConnectionKind.DESTINATION, type="intercom"
        )
        self.fields["destination"].label_from_instance = lambda c: (
            f"{c.name} ({c.config.get('workspace_name', '')}, {c.config.get('region', '')})"
        )
        _preselect_single(self, "destination", self.fields["destination"].queryset)

    def object_choices(self):
        """The object radios with their notes (rendered by the template)."""
        return [
            (radio, OBJECTS[radio.data["value"]], OBJECT_NOTES[radio.data["value"]])
            for radio in self["object_key"]
        ]


# --- step 3: how ---------------------------------------------------------------------------------------


class BehaviorStepForm(forms.Form):
    behavior = forms.ChoiceField(label="Behavior", widget=forms.RadioSelect)
    key_identifier = forms.ChoiceField(
        label="Intercom identifier", help_text="The Intercom field that finds the record."
    )
    key_column = forms.CharField(
        label="Model column",
        help_text="The model column holding that identifier. Any column works: at every run, rows whose "
        "value is empty or appears in more than one row are listed as invalid and not synced. Recommended: "
        "your own database id, the model's key.",
        error_messages={"required": "Choose the model column that matches the Intercom identifier."},
    )

    def __init__(self, *args, obj: IntercomObject, model: SqlModel, **kwargs):
        self.obj, self.model = obj, model
        super().__init__(*args, **kwargs)
        self.fields["behavior"].choices = [(b.value, b.label) for b in BEHAVIOR_ORDER if b in obj.behaviors]
        self.fields["key_identifier"].choices = [(i.key, i.label) for i in obj.identifiers]
        unique = set(model.unique_keys)
        choices = [("", "Choose a column…")]
        for column in model.columns:
            note = (
                " · the model's key, recommended"
                if column["name"] == model.primary_key
                else (" · unique" if column["name"] in unique else "")
            )
            choices.append((column["name"], f"{column_label(column)}{note}"))
        current = self.data.get("key_column") if self.is_bound else None
        if current and current not in model.column_names:  # a column the model lost: shown, then refused
            choices.append((current, f"{current} (not in the model)"))
        self.fields["key_column"].widget = forms.Select(choices=choices)

    @classmethod
    def initial_for(cls, obj: IntercomObject, model: SqlModel) -> dict[str, str]:
        behavior = next(b for b in BEHAVIOR_ORDER if b in obj.behaviors)
        return {
            "behavior": behavior.value,
            "key_identifier": RECOMMENDED_IDENTIFIER[obj.key],
            "key_column": model.primary_key,
        }

    def behavior_choices(self):
        return [(radio, BEHAVIOR_NOTES[radio.data["value"]]) for radio in self["behavior"]]

    def clean(self):
        data = super().clean()
        if not all(data.get(k) for k in ("behavior", "key_identifier", "key_column")):
            return data
        config = engine_config(
            object_key=self.obj.key,
            behavior=data["behavior"],
            key_column=data["key_column"],
            key_identifier=data["key_identifier"],
            mappings=[],
            options={},
        )
        for problem in sync_problems(model=self.model, config=config):
            if problem.subject not in BEHAVIOR_PARTS:
                continue
            message = problem.message
            if problem.subject is SyncPart.KEY_COLUMN and problem.code == "column_not_in_model":
                message = f"The model “{self.model.name}” has no column “{data['key_column']}” (any more)."
            self.add_error(problem.subject.value, message)
        return data


# The parts of a sync step 3 answers (each the name of its form field).
BEHAVIOR_PARTS = (SyncPart.BEHAVIOR, SyncPart.KEY_IDENTIFIER, SyncPart.KEY_COLUMN)


# --- step 4: fields, options, name ---------------------------------------------------------------------


class SyncNameForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Name of the sync", error_messages={"required": "Give the sync a name."}
    )

    def __init__(self, *args, workspace: Workspace, sync: Sync | None = None, **kwargs):
        self.workspace, self.sync = workspace, sync
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Sync.objects.for_workspace(self.workspace).filter(name__iexact=name)
        if self.sync is not None:
            others = others.exclude(pk=self.sync.pk)
        if others.exists():
            raise forms.ValidationError(f"A sync named “{name}” already exists in this workspace.")
        return name


class SyncOptionsForm(forms.Form):
    company_id_column = forms.ChoiceField(
        required=False,
        label="Company ID column",
        help_text="Attach each contact to the company with this Company ID. Intercom shows a company only "
        "once at least one user is attached to it.",
    )
    event_name = forms.CharField(required=False, max_length=255, label="Event name (the same for every row)")
    event_name_column = forms.ChoiceField(required=False, label="… or the column holding the event name")
    created_at_column = forms.ChoiceField(required=False, label="Event time column")
    created_at_unit = forms.ChoiceField(
        required=False,
        label=date_units.UNIT_QUESTION,
        choices=date_units.UNIT_CHOICES,
        initial=EpochUnit.SECONDS.value,
    )
    metadata_columns = forms.MultipleChoiceField(
        required=False,
        label="Metadata columns",
        help_text=f"At most {EVENT_METADATA_LIMIT}; each column becomes a metadata key of the same name.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    contact_column = forms.ChoiceField(required=False, label="Contact column")
    contact_key = forms.ChoiceField(
        required=False, label="The contact column holds", choices=list(EVENT_CONTACT_KEYS.items())
    )
    first_run = forms.ChoiceField(
        required=False,
        label="On the first run",
        choices=[
            (FirstRunMode.SEND_ALL.value, "Send all existing rows"),
            (FirstRunMode.SKIP_EXISTING.value, "Skip rows that exist today (send only new ones)"),
        ],
        widget=forms.RadioSelect,
        initial=FirstRunMode.SEND_ALL.value,
    )
    permanent_delete = forms.BooleanField(
        required=False,
        label="Delete permanently instead of archiving",
        help_text=(
            "Deleted contacts and their conversations cannot be brought back. Intercom also keeps blocking a "
            "deleted contact's email and External ID for a while; re-creating that contact (by any sync) is "
            "refused until Intercom frees them."
        ),
    )
    confirm_name = forms.CharField(
        required=False, label="Type the sync's name to confirm permanent deletion", max_length=100
    )

    def __init__(self, *args, columns: list[dict], sync_name: str, **kwargs):
        super().__init__(*args, prefix="opt", **kwargs)
        self.sync_name = sync_name
        self.kinds = {c["name"]: c.get("kind") or "" for c in columns}
        choices = [(c["name"], column_label(c)) for c in columns]
        for name in ("company_id_column", "event_name_column", "created_at_column", "contact_column"):
            self.fields[name].choices = [("", "—"), *choices]
        self.fields["metadata_columns"].choices = choices

    def clean_metadata_columns(self):
        columns = self.cleaned_data["metadata_columns"]
        if len(columns) > EVENT_METADATA_LIMIT:
            raise forms.ValidationError(
                f"Intercom keeps at most {EVENT_METADATA_LIMIT} metadata keys per event ({len(columns)} chosen)."
            )
        return columns

    def clean(self):
        data = super().clean()
        if data.get("permanent_delete") and (data.get("confirm_name") or "").strip() != self.sync_name:
            self.add_error("confirm_name", f"Type “{self.sync_name}” exactly to delete permanently.")
        return data

    @property
    def created_at_reads_as_date(self) -> bool:
        """The chosen event time column holds dates (no unit applies to it)."""
        return date_units.reads_as_date(self.kinds.get(self["created_at_column"].value() or ""))

    def options_for(self, *, object_key: str, behavior: str) -> dict[str, Any]:
        """The sync's stored `options`, keeping only what applies to the object and behavior."""
        data = self.cleaned_data
        company_id_column, permanent_delete, event = None, False, None
        if object_key == "event":
            unit = date_units.stored_unit(data["created_at_unit"], self.kinds.get(data["created_at_column"]))
            name, name_column = data["event_name"].strip(), data["event_name_column"] or None
            event = EventOptions(
                contact_column=data["contact_column"],
                contact_key=EventContactKey(data["contact_key"] or EventContactKey.USER_ID),
                created_at_column=data["created_at_column"],
                metadata_columns=tuple(data["metadata_columns"]),
                first_run=FirstRunMode(data["first_run"] or FirstRunMode.SEND_ALL),
                created_at_unit=unit or EpochUnit.SECONDS,
                event_name_column=name_column,
                event_name=name if name or not name_column else None,
            )
        elif behavior == Behavior.DELETE:
            permanent_delete = object_key in CONTACT_OBJECTS and data["permanent_delete"]
        elif object_key in CONTACT_OBJECTS:
            company_id_column = data["company_id_column"] or None
        config = SyncConfig(
            object_key,
            Behavior(behavior),
            SyncKey("", ""),
            company_id_column=company_id_column,
            permanent_delete=permanent_delete,
            event=event,
        )
        return config.to_json()[1]


def options_initial(config: SyncConfig) -> dict[str, Any]:
    event = config.event or EventOptions.from_json({})
    return {
        "company_id_column": config.company_id_column or "",
        "permanent_delete": config.permanent_delete,
        **{
            k: getattr(event, k) or ""
            for k in ("event_name", "event_name_column", "created_at_column", "contact_column")
        },
        "contact_key": event.contact_key.value if config.event else "",
        "metadata_columns": list(event.metadata_columns),
        "first_run": event.first_run.value,
        "created_at_unit": event.created_at_unit.value,
    }


class AttributeInlineForm(forms.Form):
    """ "Create custom attribute" from the mapper (the model comes from the sync's object)."""

    new_attribute_name = forms.CharField(label="New custom attribute", max_length=190, required=False)
    new_attribute_type = forms.ChoiceField(
        label="Type", choices=CREATABLE_TYPES, help_text="Intercom never lets an attribute's type change."
    )


# --- the mapper -------------------------------------------------------------------------------------------


@dataclass
class MapperRow:
    target: str
    label: str
    field_type: str
    custom: bool
    help: str = ""
    column: str = ""
    constant: str = ""
    error: str = ""
    missing: bool = False  # a custom attribute Intercom does not list (any more)
    nullable: bool = False  # Intercom lets a null clear it
    on_null: str = NullPolicy.KEEP
    unit: str = EpochUnit.SECONDS  # date rows: what the column's numbers are
    column_kind: str = ""  # the kind of the chosen column, when the model has it

    @property
    def takes_unit(self) -> bool:
        return date_units.takes_unit(self.field_type)

    @property
    def reads_as_date(self) -> bool:
        """A date row fed by a date or timestamp column: no unit applies."""
        return bool(self.column) and date_units.reads_as_date(self.column_kind)

    @property
    def offers_null_choice(self) -> bool:
        """Where Intercom can clear the field; or where "clear" was asked anyway, so it can be changed."""
        return self.nullable or self.on_null != NullPolicy.KEEP

    @property
    def slug(self) -> str:
        return f"{'cus' if self.custom else 'std'}:{self.target}"

    @property
    def mapped(self) -> bool:
        return bool(self.column or self.constant)

    def as_mapping(self) -> dict[str, Any]:
        unit = date_units.stored_unit(self.unit, self.column_kind) if self.takes_unit else None
        return FieldMapping(
            target=self.target,
            field_type=FieldType(self.field_type),
            column=self.column or None,
            constant=None if self.column else self.constant,
            custom=self.custom,
            on_null=NullPolicy(self.on_null),
            unit=unit or EpochUnit.SECONDS,
        ).to_json()


def mapper_rows(
    *, object_key: str, key_identifier: str, attributes: list[CustomAttribute], data=None
) -> list[MapperRow]:
    """The object's standard fields (but the one the sync key sets), the destination's custom attributes of
    the object's attribute model, and any attribute the data maps that Intercom does not list; with the
    values of `data` (a POST or a draft)."""
    obj = OBJECTS[object_key]
    rows = [
        MapperRow(f.name, f.label, str(f.type), False, f.help, nullable=f.nullable)
        for f in obj.fields
        if f.name != key_identifier
    ]
    if obj.attribute_model:
        rows += [
            MapperRow(
                a.name,
                a.name,
                str(a.field_type),
                True,
                a.description,
                nullable=obj.custom_attributes_nullable,
            )
            for a in attributes
            if a.model == obj.attribute_model
        ]
    data = data if data is not None else {}
    known = {row.slug for row in rows}
    for key in data:
        slug = key.split(":", 1)[1] if key.startswith(("col:", "const:")) else ""
        if slug.startswith("cus:") and slug not in known and (data.get(key) or "").strip():
            target = slug[4:]
            rows.append(
                MapperRow(
                    target,
                    target,
                    data.get(f"type:{slug}") or "string",
                    True,
                    "Not found in Intercom.",
                    missing=True,
                    nullable=obj.custom_attributes_nullable,
                )
            )
            known.add(slug)
    for row in rows:
        row.column = (data.get(f"col:{row.slug}") or "").strip()
        row.constant = (data.get(f"const:{row.slug}") or "").strip()
        row.on_null = data.get(f"null:{row.slug}") or NullPolicy.KEEP
        row.unit = data.get(f"unit:{row.slug}") or EpochUnit.SECONDS
    return rows


def null_policy_words(mapping: FieldMapping, obj: IntercomObject) -> str:
    """What a NULL does to a mapping, in the mapper's words ("" for a constant: never NULL)."""
    if not mapping.column:
        return ""
    if not obj.accepts_null(mapping.target, custom=mapping.custom):
        return "NULL keeps Intercom's value (cannot be cleared)"
    return f"If NULL: {mapping.on_null.label}"


def mapper_data(mappings: tuple[FieldMapping, ...]) -> dict[str, list[str]]:
    """A sync's mappings as the mapper's inputs."""
    data: dict[str, list[str]] = {}
    for m in mappings:
        slug = f"{'cus' if m.custom else 'std'}:{m.target}"
        if m.column:
            data[f"col:{slug}"] = [m.column]
        else:
            data[f"const:{slug}"] = ["" if m.constant is None else str(m.constant)]
        data[f"type:{slug}"] = [m.field_type.value]
        data[f"null:{slug}"] = [m.on_null.value]
        if m.unit is not EpochUnit.SECONDS:
            data[f"unit:{slug}"] = [m.unit.value]
    return data


class FieldsStep:
    """Step 4: the mapper rows, the per-object options and the sync's name, checked together."""

    def __init__(
        self,
        data,
        *,
        workspace: Workspace,
        sync: Sync | None,
        model: SqlModel,
        obj: IntercomObject,
        behavior: str,
        key_identifier: str,
        attributes: list[CustomAttribute],
    ):
        self.model, self.obj, self.behavior = model, obj, behavior
        self.bound = data is not None
        self.rows = mapper_rows(
            object_key=obj.key, key_identifier=key_identifier, attributes=attributes, data=data
        )
        self.columns = {c["name"]: c for c in model.columns}
        for row in self.rows:
            row.column_kind = self.columns.get(row.column, {}).get("kind") or ""
        default_name = f"{model.name} → Intercom {obj.label}"
        self.name_form = SyncNameForm(
            data, workspace=workspace, sync=sync, initial={"name": sync.name if sync else default_name}
        )
        self.options = SyncOptionsForm(data, columns=model.columns, sync_name=(data or {}).get("name", ""))
        self.problems: list[str] = []
        self.null_choices = NULL_CHOICES
        self.unit_choices, self.unit_question = date_units.UNIT_CHOICES, date_units.UNIT_QUESTION
        self.no_unit, self.date_kinds = date_units.NO_UNIT, " ".join(sorted(date_units.DATE_KINDS))

    @property
    def maps_fields(self) -> bool:
        return self.behavior != Behavior.DELETE and self.obj.key != "event"

    def is_valid(self) -> bool:
        if not self.bound:
            return False
        names_ok, options_ok = self.name_form.is_valid(), self.options.is_valid()
        if self.maps_fields:
            for row in self.rows:
                row.error = self._row_problem(row)
        return names_ok and options_ok and not any(row.error for row in self.rows)

    def _row_problem(self, row: MapperRow) -> str:
        if row.on_null not in NULL_POLICY_LABELS:
            return f"If NULL: choose “{NullPolicy.KEEP.label}” or “{NullPolicy.CLEAR.label}”."
        if row.takes_unit and row.unit not in date_units.UNIT_VALUES:
            return date_units.UNIT_PROBLEM
        if row.column and row.constant:
            return "Choose a column or a constant value, not both."
        if row.missing and row.mapped:
            return (
                f"Intercom has no custom attribute “{row.target}” on {self.obj.attribute_model}s: create "
                "it below, or clear this field."
            )
        if row.column and row.column not in self.columns:
            return (
                f"The model “{self.model.name}” has no column “{row.column}”: choose one of its columns, "
                "or clear this field."
            )
        if row.column:
            return type_mismatch(self.columns[row.column], row.field_type, row.label)
        return ""

    @property
    def has_errors(self) -> bool:
        return bool(self.problems or self.options.errors or any(row.error for row in self.rows))

    def mappings(self) -> list[dict[str, Any]]:
        return [row.as_mapping() for row in self.rows if row.mapped] if self.maps_fields else []

    def sync_options(self) -> dict[str, Any]:
        return self.options.options_for(object_key=self.obj.key, behavior=self.behavior)

    def place_problems(self, problems: list[Problem]) -> None:
        """The engine's problems, each next to the row or option it is about; the rest above the form."""
        rows = {(row.custom, row.target): row for row in self.rows}
        for problem in problems:
            subject = problem.subject
            if isinstance(subject, Target) and (row := rows.get((subject.custom, subject.target))):
                row.error = f"{row.error} {problem.message}".strip()
            elif isinstance(subject, Option) and subject.name in self.options.fields:
                self.options.add_error(subject.name, problem.message)
            else:
                self.problems.append(problem.message)


def fields_data(sync: Sync) -> dict[str, list[str]]:
    """A saved sync's step 4 as the inputs the wizard posts."""
    config = sync.config
    data = mapper_data(config.mappings) | {"name": [sync.name]}
    for key, value in options_initial(config).items():
        if isinstance(value, bool):
            if value:
                data[f"opt-{key}"] = ["on"]
        else:
            data[f"opt-{key}"] = list(value) if isinstance(value, list) else [value]
    if config.permanent_delete:
        data["opt-confirm_name"] = [sync.name]
    return data
