"""The two steps of the sync editor: what goes where (step 1), then the mapper and options (step 2).

Step 1 is a Django form. Step 2 is the mapper: one row per Intercom field, each with a column select and a
constant input named after the field (`col:std:name`, `const:cus:plan`), so that a row keeps its values
when the list changes (a custom attribute created inline), plus an options form. Both steps travel in one
POST (the other step's fields as hidden inputs), so going back and forth loses nothing typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from apps.connections.intercom.attributes import CREATABLE_TYPES, CustomAttribute
from apps.connections.intercom.catalog import (
    BEHAVIOR_LABELS,
    EVENT_CONTACT_KEYS,
    EVENT_METADATA_LIMIT,
    OBJECTS,
    Behavior,
)
from apps.connections.models import Connection, ConnectionKind
from apps.models.models import SqlModel
from apps.syncs.engine.config import CONTACT_OBJECTS, FirstRunMode
from apps.syncs.models import Sync
from apps.syncs.services import engine_config
from apps.tenancy.models import Workspace

IDENTIFIER_LABELS = {i.key: i.label for obj in OBJECTS.values() for i in obj.identifiers}
MAPPER_PREFIXES = ("col:", "const:", "opt-")


class SyncSetupForm(forms.Form):
    name = forms.CharField(max_length=100)
    model = forms.ModelChoiceField(queryset=SqlModel.objects.none(), label="Model", empty_label=None)
    destination = forms.ModelChoiceField(
        queryset=Connection.objects.none(), label="Intercom connection", empty_label=None
    )
    object_key = forms.ChoiceField(
        label="Intercom object", choices=[(k, o.label) for k, o in OBJECTS.items()]
    )
    behavior = forms.ChoiceField(
        choices=list(BEHAVIOR_LABELS.items()),
        help_text="“Update Only” is a safe start: it changes records Intercom already has and creates none.",
    )
    key_identifier = forms.ChoiceField(label="Intercom identifier", choices=list(IDENTIFIER_LABELS.items()))
    key_column = forms.CharField(
        label="Sync key column",
        max_length=200,
        required=False,
        help_text="The model column that matches the identifier. Leave it blank to use the model's primary "
        "key (recommended: your own database id).",
        widget=forms.TextInput(attrs={"list": "model-columns", "autocomplete": "off"}),
    )

    def __init__(self, *args, workspace: Workspace, sync: Sync | None = None, **kwargs):
        self.workspace, self.sync = workspace, sync
        if sync is not None:
            kwargs.setdefault(
                "initial",
                {"name": sync.name, "model": sync.model_id, "destination": sync.destination_id,
                 "object_key": sync.object_key, "behavior": sync.behavior,
                 "key_identifier": sync.key_identifier, "key_column": sync.key_column},
            )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = SqlModel.objects.for_workspace(workspace).order_by("name")
        self.fields["destination"].queryset = Connection.objects.for_workspace(workspace).filter(
            kind=ConnectionKind.DESTINATION, type="intercom"
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Sync.objects.for_workspace(self.workspace).filter(name__iexact=name)
        if self.sync is not None:
            others = others.exclude(pk=self.sync.pk)
        if others.exists():
            raise forms.ValidationError(f"A sync named “{name}” already exists in this workspace.")
        return name

    def clean(self):
        data = super().clean()
        model = data.get("model")
        if model is None or not data.get("object_key") or not data.get("behavior"):
            return data
        data["key_column"] = (data.get("key_column") or "").strip() or model.primary_key
        if not data.get("key_identifier"):
            return data
        # The engine's own checks, for the parts chosen on this step; each lands next to its field.
        config = engine_config(object_key=data["object_key"], behavior=data["behavior"],
                               key_column=data["key_column"], key_identifier=data["key_identifier"],
                               mappings=[], options={})  # fmt: skip
        for problem in config.validate(model.column_names, unique_columns=model.unique_keys):
            field = next((f for words, f in STEP_ONE_PROBLEMS if words in problem), None)
            if field:
                self.add_error(field, problem)
        return data


# Engine problems about step 1, by the words that identify them.
STEP_ONE_PROBLEMS = (("cannot use", "behavior"), ("matched on", "key_identifier"), ("sync key", "key_column"))


class SyncOptionsForm(forms.Form):
    dont_overwrite_with_null = forms.BooleanField(
        required=False,
        label="Don't overwrite with null",
        help_text="An empty value in the model leaves Intercom's value as it is.",
    )
    company_id_column = forms.ChoiceField(
        required=False,
        label="Company ID column",
        help_text="Attach each contact to the company with this Company ID. Intercom shows a company only "
        "once at least one user is attached to it.",
    )
    event_name = forms.CharField(required=False, max_length=255, label="Event name (the same for every row)")
    event_name_column = forms.ChoiceField(required=False, label="… or the column holding the event name")
    created_at_column = forms.ChoiceField(required=False, label="Event time column")
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
        ],  # fmt: skip
        widget=forms.RadioSelect,
        initial=FirstRunMode.SEND_ALL.value,
    )
    permanent_delete = forms.BooleanField(
        required=False,
        label="Delete permanently instead of archiving",
        help_text="Deleted contacts and their conversations cannot be brought back.",
    )
    confirm_name = forms.CharField(
        required=False, label="Type the sync's name to confirm permanent deletion", max_length=100
    )

    def __init__(self, *args, columns: list[dict], sync_name: str, **kwargs):
        super().__init__(*args, prefix="opt", **kwargs)
        self.sync_name = sync_name
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

    def options_for(self, *, object_key: str, behavior: str) -> dict[str, Any]:
        """The sync's stored `options`, keeping only what applies to the object and behavior."""
        data = self.cleaned_data
        options: dict[str, Any] = {}
        if object_key == "event":
            options["event"] = {
                "contact_column": data["contact_column"],
                "contact_key": data["contact_key"] or "user_id",
                "created_at_column": data["created_at_column"],
                "metadata_columns": list(data["metadata_columns"]),
                "first_run": data["first_run"] or FirstRunMode.SEND_ALL.value,
            }
            if data["event_name_column"]:
                options["event"]["event_name_column"] = data["event_name_column"]
            if data["event_name"].strip() or not data["event_name_column"]:
                options["event"]["event_name"] = data["event_name"].strip()
            return options
        if behavior == Behavior.DELETE:
            if object_key in CONTACT_OBJECTS and data["permanent_delete"]:
                options["permanent_delete"] = True
            return options
        if data["dont_overwrite_with_null"]:
            options["dont_overwrite_with_null"] = True
        if object_key in CONTACT_OBJECTS and data["company_id_column"]:
            options["company_id_column"] = data["company_id_column"]
        return options


def options_initial(options: dict[str, Any]) -> dict[str, Any]:
    event = options.get("event") or {}
    return {
        "dont_overwrite_with_null": bool(options.get("dont_overwrite_with_null")),
        "company_id_column": options.get("company_id_column") or "",
        "permanent_delete": bool(options.get("permanent_delete")),
        **{
            k: event.get(k) or ""
            for k in ("event_name", "event_name_column", "created_at_column", "contact_column", "contact_key")
        },  # fmt: skip
        "metadata_columns": event.get("metadata_columns") or [],
        "first_run": event.get("first_run") or FirstRunMode.SEND_ALL.value,
    }


def column_label(column: dict) -> str:
    return f"{column['name']} ({column['kind']})" if column.get("kind") else column["name"]


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

    @property
    def slug(self) -> str:
        return f"{'cus' if self.custom else 'std'}:{self.target}"

    @property
    def mapped(self) -> bool:
        return bool(self.column or self.constant)

    def as_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "target": self.target,
            "field_type": self.field_type,
            "custom": self.custom,
        }
        if self.column:
            mapping["column"] = self.column
        else:
            mapping["constant"] = self.constant
        return mapping


def mapper_rows(*, object_key: str, key_identifier: str, attributes: list[CustomAttribute],
                mappings: list[dict] | None = None, data=None) -> list[MapperRow]:  # fmt: skip
    """The object's standard fields (but the one the sync key sets) and the destination's custom attributes
    of the object's attribute model; values from the POST (`data`) or else from stored `mappings`."""
    obj = OBJECTS[object_key]
    rows = [
        MapperRow(f.name, f.label, str(f.type), False, f.help) for f in obj.fields if f.name != key_identifier
    ]
    if obj.attribute_model:
        rows += [
            MapperRow(a.name, a.name, str(a.field_type), True, a.description)
            for a in attributes
            if a.model == obj.attribute_model
        ]
    stored = {(bool(m.get("custom")), m["target"]): m for m in mappings or []}
    for row in rows:
        if data is not None:
            row.column = data.get(f"col:{row.slug}", "").strip()
            row.constant = data.get(f"const:{row.slug}", "").strip()
            if row.column and row.constant:
                row.error = "Choose a column or a constant value, not both."
        elif (row.custom, row.target) in stored:
            mapping = stored[(row.custom, row.target)]
            row.column = mapping.get("column") or ""
            row.constant = "" if mapping.get("constant") is None else str(mapping["constant"])
    # A stored mapping to an attribute Intercom no longer lists stays visible (and fails validation).
    known = {(r.custom, r.target) for r in rows}
    for (custom, target), mapping in stored.items():
        if (custom, target) not in known and data is None:
            rows.append(MapperRow(target, target, mapping["field_type"], custom, "Not found in Intercom.",
                                  mapping.get("column") or "", str(mapping.get("constant") or "")))  # fmt: skip
    return rows


def carried_mapper_fields(data) -> list[tuple[str, str]]:
    """Step 2's values, carried as hidden inputs while the user is back on step 1."""
    return [(k, v) for k in data for v in data.getlist(k) if k.startswith(MAPPER_PREFIXES)]
