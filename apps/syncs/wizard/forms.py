"""The sync wizard's forms: one per step, in the product's order.

1. "What data do you want to sync?" (DataStepForm): the source connection and its model.
2. "Where do you want to sync data to?" (DestinationStepForm): the Intercom connection and object.
3. "How should changes to the source be synced?" (BehaviorStepForm): behavior and sync key.
4. "Which fields should be updated?" (FieldsStep; for events "What should each event say?"): the mapper,
   the per-object options and the name.
Then the preview (views in apps/syncs/wizard/views.py). Each step checks what is chosen on it and puts every
problem next to its field; the engine's own checks (services) decide, the forms only place the words: a
`Problem` by its subject, never by its message.

The mapper is rows of model column (or a constant) → Intercom field, with suggestions by name and type to
accept (automap), every custom attribute of the workspace as a target, and a check of every pair's types
with the cast to use (typecheck); its inputs and the edits its buttons make are in `mapper`.
"""

from __future__ import annotations

from typing import Any

from django import forms

from apps.common.problems import Problem
from apps.connections.intercom.attributes import CREATABLE_TYPES, CustomAttribute
from apps.connections.intercom.catalog import (
    EVENT_CONTACT_KEYS,
    EVENT_METADATA_LIMIT,
    OBJECTS,
    Behavior,
    IntercomObject,
)
from apps.connections.intercom.coercion import EpochUnit
from apps.connections.models import Connection, ConnectionKind
from apps.connections.sources.registry import SOURCE_TYPES
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
from apps.syncs.wizard import automap, mapper
from apps.syncs.wizard.typecheck import Verdict, check_pair
from apps.tenancy.models import Workspace

IDENTIFIER_LABELS = {i.key: i.label for obj in OBJECTS.values() for i in obj.identifiers}
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

    def __init__(self, *args, workspace: Workspace, model: SqlModel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if model is not None and not self.is_bound and "object_key" not in self.initial:
            # What the model's columns look like (a companies model is not preselected as users); nothing
            # when they say nothing, so the user chooses.
            guessed = automap.guess_object(model.column_names)
            if guessed:
                self.initial["object_key"] = guessed
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
    created_at_column = forms.ChoiceField(
        required=False,
        label="Event time column",
        help_text="When it happened: Intercom keeps one event per contact, name and time.",
    )
    created_at_unit = forms.ChoiceField(
        required=False,
        label=date_units.UNIT_QUESTION,
        choices=date_units.UNIT_CHOICES,
        initial=EpochUnit.SECONDS.value,
    )
    contact_column = forms.ChoiceField(required=False, label="Contact column")
    contact_key = forms.ChoiceField(
        required=False,
        label="The contact column holds",
        # The user's own ids first: Intercom's ids are rarely in a warehouse.
        choices=[(k, EVENT_CONTACT_KEYS[k]) for k in ("user_id", "email", "id")],
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
            self.fields[name].choices = [("", "Choose a column…"), *choices]
        self.fields["company_id_column"].choices = [("", "— do not attach"), *choices]

    def clean(self):
        data = super().clean()
        if data.get("permanent_delete") and (data.get("confirm_name") or "").strip() != self.sync_name:
            self.add_error("confirm_name", f"Type “{self.sync_name}” exactly to delete permanently.")
        return data

    @property
    def created_at_reads_as_date(self) -> bool:
        """The chosen event time column holds dates (no unit applies to it)."""
        return date_units.reads_as_date(self.kinds.get(self["created_at_column"].value() or ""))

    def options_for(
        self, *, object_key: str, behavior: str, metadata_columns: tuple[str, ...] = ()
    ) -> dict[str, Any]:
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
                metadata_columns=metadata_columns,
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
        "first_run": event.first_run.value,
        "created_at_unit": event.created_at_unit.value,
    }


class AttributeInlineForm(forms.Form):
    """ "Create a custom attribute" from the mapper, with any name (the model comes from the sync's object);
    given a column, the new attribute is mapped to it at once."""

    new_attribute_name = forms.CharField(label="New custom attribute", max_length=190, required=False)
    new_attribute_type = forms.ChoiceField(
        label="Type", choices=CREATABLE_TYPES, help_text="Intercom never lets an attribute's type change."
    )
    new_attribute_column = forms.ChoiceField(label="Map it to the column", required=False)

    def __init__(self, *args, columns: list[dict] = (), **kwargs):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["new_attribute_column"].choices = [
            ("", "— no column yet"),
            *[(c["name"], column_label(c)) for c in columns],
        ]


# --- the mapper -------------------------------------------------------------------------------------------


def null_policy_words(mapping: FieldMapping, obj: IntercomObject) -> str:
    """What a NULL does to a mapping, in the mapper's words ("" for a constant: never NULL)."""
    if not mapping.column:
        return ""
    if not obj.accepts_null(mapping.target, custom=mapping.custom):
        return "NULL keeps Intercom's value (cannot be cleared)"
    return f"If NULL: {mapping.on_null.label}"


def source_dialect(model: SqlModel) -> str | None:
    """The SQL dialect of the model's warehouse (casts are written in it); None when unknown."""
    source_type = SOURCE_TYPES.get(model.source.type)
    return getattr(source_type.adapter, "dialect", None) if source_type else None


class FieldsStep:
    """Step 4: the mapper rows (or an event's name, time, contact and metadata rows), the per-object
    options and the sync's name, checked together."""

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
        key_column: str = "",
        attributes: list[CustomAttribute],
    ):
        self.model, self.obj, self.behavior = model, obj, behavior
        self.key_column, self.key_identifier = key_column, key_identifier
        self.bound = data is not None
        self.dialect = source_dialect(model)
        self.columns = {c["name"]: c for c in model.columns}
        self.targets = mapper.mapper_targets(obj, key_identifier=key_identifier, attributes=attributes)
        self.rows = mapper.mapper_rows(data or {}, self.targets, object_key=obj.key)
        if not self.bound and not self.rows and self.maps_fields:
            self.rows = [mapper.MapperRow(0)]  # a first row to fill, beside the suggestions
        self.metadata = mapper.metadata_rows(data or {})
        for row in self.rows:
            self._check_types(row)
        default_name = f"{model.name} → Intercom {obj.label}"
        self.name_form = SyncNameForm(
            data, workspace=workspace, sync=sync, initial={"name": sync.name if sync else default_name}
        )
        initial = {}
        if not self.bound and obj.key == "event":  # pre-filled where the model's column names fit
            guess = automap.guess_event(model.columns, key_column=key_column)
            initial = {k: v for k, v in vars(guess).items() if v}
            initial.setdefault("contact_key", EventContactKey.EMAIL.value)
        self.options = SyncOptionsForm(
            data, columns=model.columns, sync_name=(data or {}).get("name", ""), initial=initial
        )
        self.problems: list[str] = []
        self.metadata_errors: list[str] = []
        self.metadata_row_errors: dict[int, str] = {}
        self.null_choices = NULL_CHOICES
        self.unit_choices, self.unit_question = date_units.UNIT_CHOICES, date_units.UNIT_QUESTION
        self.no_unit, self.date_kinds = date_units.NO_UNIT, " ".join(sorted(date_units.DATE_KINDS))
        self.metadata_limit = EVENT_METADATA_LIMIT

    # --- what the template shows

    @property
    def maps_fields(self) -> bool:
        return self.behavior != Behavior.DELETE and self.obj.key != "event"

    @property
    def key_label(self) -> str:
        return self.obj.identifier(self.key_identifier).label if self.key_identifier else ""

    @property
    def column_choices(self) -> list[tuple[str, str, str]]:
        """(name, label, kind) of the model's columns."""
        return [(c["name"], column_label(c), c.get("kind") or "") for c in self.model.columns]

    @property
    def standard_targets(self) -> list[mapper.MapperTarget]:
        return [t for t in self.targets if not t.custom]

    @property
    def custom_targets(self) -> list[mapper.MapperTarget]:
        return [t for t in self.targets if t.custom]

    @property
    def suggestions(self) -> list[mapper.Suggestion]:
        if not self.maps_fields:
            return []
        company_set = bool(self.options["company_id_column"].value())
        return mapper.suggestions(
            obj=self.obj,
            targets=self.targets,
            columns=self.model.columns,
            rows=self.rows,
            key_column=self.key_column,
            company_column_set=company_set,
            dialect=self.dialect,
        )

    def suggestion(self, slug: str) -> mapper.Suggestion | None:
        return next((s for s in self.suggestions if s.slug == slug), None)

    @property
    def metadata_full(self) -> bool:
        return len(self.metadata) >= EVENT_METADATA_LIMIT

    # --- checks

    def _check_types(self, row: mapper.MapperRow) -> None:
        column = self.columns.get(row.column)
        row.column_kind = (column or {}).get("kind") or ""
        if column is not None and row.target is not None:
            target = row.target
            row.check = check_pair(
                row.column, row.column_kind, target.field_type, target.label, dialect=self.dialect
            )

    def is_valid(self) -> bool:
        if not self.bound:
            return False
        names_ok, options_ok = self.name_form.is_valid(), self.options.is_valid()
        if self.maps_fields:
            for row in self.rows:
                row.error = self._row_problem(row)
        elif self.obj.key == "event":
            self._check_metadata()
        rows_ok = not any(row.error for row in self.rows)
        return (
            names_ok and options_ok and rows_ok and not self.metadata_errors and not self.metadata_row_errors
        )

    def _row_problem(self, row: mapper.MapperRow) -> str:
        if row.blank:
            return ""
        if row.on_null not in NULL_POLICY_LABELS:
            return f"If NULL: choose “{NullPolicy.KEEP.label}” or “{NullPolicy.CLEAR.label}”."
        if row.takes_unit and row.unit not in date_units.UNIT_VALUES:
            return date_units.UNIT_PROBLEM
        if row.column and row.constant:
            return "Choose a column or a constant value, not both."
        if row.target is None:
            what = f"column “{row.column}”" if row.column else "this value"
            return f"Choose the Intercom field for {what}, or remove the row."
        if not (row.column or row.constant):
            return f"Choose a column or a constant value for {row.target.label}, or remove the row."
        if row.target.missing:
            return (
                f"Intercom has no custom attribute “{row.target.name}” on {self.obj.attribute_model}s: "
                "create it, or choose another field."
            )
        if row.column and row.column not in self.columns:
            return (
                f"The model “{self.model.name}” has no column “{row.column}”: choose one of its columns, "
                "or remove the row."
            )
        if row.check.verdict is Verdict.ERROR:
            return row.check.message
        return ""

    def _check_metadata(self) -> None:
        seen: set[str] = set()
        for index, column in self.metadata:
            if column and column not in self.columns:
                self.metadata_row_errors[index] = f"The model “{self.model.name}” has no column “{column}”."
            elif column in seen:
                self.metadata_row_errors[index] = f"“{column}” is already a metadata key."
            seen.add(column)
        chosen = [c for _, c in self.metadata if c]
        if len(chosen) > EVENT_METADATA_LIMIT:
            self.metadata_errors.append(
                f"Intercom keeps at most {EVENT_METADATA_LIMIT} metadata keys per event ({len(chosen)} chosen)."
            )

    @property
    def has_errors(self) -> bool:
        return bool(
            self.problems
            or self.options.errors
            or self.metadata_errors
            or self.metadata_row_errors
            or any(row.error for row in self.rows)
        )

    # --- what is saved (through SyncConfig.to_json: FieldMapping.to_json and options_for)

    def mappings(self) -> list[dict[str, Any]]:
        """The rows that map a field (a row with a problem of its own is left to that problem)."""
        if not self.maps_fields:
            return []
        return [row.as_mapping() for row in self.rows if row.mapped and not row.error]

    def metadata_columns(self) -> tuple[str, ...]:
        return tuple(c for _, c in self.metadata if c)

    def sync_options(self) -> dict[str, Any]:
        return self.options.options_for(
            object_key=self.obj.key, behavior=self.behavior, metadata_columns=self.metadata_columns()
        )

    def place_problems(self, problems: list[Problem]) -> None:
        """The engine's problems, each placed by its subject: on every row that sets the field it is about,
        next to the option, on the metadata rows; the rest above the form."""
        for problem in problems:
            subject = problem.subject
            rows = [
                row
                for row in self.rows
                if isinstance(subject, Target)
                and row.target is not None
                and (row.target.custom, row.target.name) == (subject.custom, subject.target)
            ]
            for row in rows:
                row.error = f"{row.error} {problem.message}".strip()
            if rows:
                continue
            if subject == Option("metadata_columns"):
                self.metadata_errors.append(problem.message)
            elif isinstance(subject, Option) and subject.name in self.options.fields:
                self.options.add_error(subject.name, problem.message)
            else:
                self.problems.append(problem.message)


def fields_data(sync: Sync) -> dict[str, list[str]]:
    """A saved sync's step 4 as the inputs the wizard posts."""
    config = sync.config
    metadata = config.event.metadata_columns if config.event else ()
    data = mapper.mapper_data(config.mappings, metadata) | {"name": [sync.name]}
    for key, value in options_initial(config).items():
        if isinstance(value, bool):
            if value:
                data[f"opt-{key}"] = ["on"]
        else:
            data[f"opt-{key}"] = list(value) if isinstance(value, list) else [value]
    if config.permanent_delete:
        data["opt-confirm_name"] = [sync.name]
    return data
