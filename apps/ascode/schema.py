"""The JSON Schema of `syncline/v1` files, built from the product's own catalogues (source types and their
fields, Intercom objects, behaviors, field types), so an editor offers exactly what `apply` accepts."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.connections.intercom.catalog import OBJECTS, Behavior, FieldType
from apps.connections.intercom.coercion import EpochUnit
from apps.connections.models import IntercomRegion
from apps.connections.sources.registry import SOURCE_TYPES, ConfigField
from apps.syncs.engine.config import EventContactKey, FirstRunMode, NullPolicy
from apps.syncs.schedules.compute import WEEKDAYS, ScheduleKind

VERSION = "syncline/v1"
SCHEMA_PATH = "/schema/syncline-v1.json"
NAME_MAX = 100


def schema_url() -> str:
    return str(settings.SITE_URL).rstrip("/") + SCHEMA_PATH


def _name(what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": NAME_MAX,
        "pattern": r"^\S(.*\S)?$",
        "description": f"The {what}'s name, unique in the workspace: how other objects refer to it.",
    }


def _ref(what: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "description": f"The name of a {what} (in these files)."}


def _config_field(spec: ConfigField) -> dict[str, Any]:
    kinds = {"integer": {"type": "integer"}, "seconds": {"type": "number"}}
    schema: dict[str, Any] = dict(kinds.get(spec.kind, {"type": "string"}))
    if spec.min_value is not None:
        schema["minimum"] = spec.min_value
    if spec.max_value is not None:
        schema["maximum"] = spec.max_value
    if spec.choices:
        schema["enum"] = [choice for choice, _ in spec.choices]
    schema["description"] = spec.label + (f". {spec.help_text}" if spec.help_text else "")
    return schema


def _source_variant(type_key: str) -> dict[str, Any]:
    source_type = SOURCE_TYPES[type_key]
    plain = [spec for spec in source_type.fields if not spec.secret]
    secrets = sorted(source_type.secret_field_names)
    config = {
        "type": "object",
        "additionalProperties": False,
        "properties": {spec.name: _config_field(spec) for spec in plain},
        "required": [spec.name for spec in plain if spec.required and spec.default is None],
    }
    credentials: dict[str, Any] = {
        "description": "Where the secrets come from: `from: dashboard` keeps those saved in the dashboard for "
        "the connection of this name; or each secret field names an environment variable (`password: {env: "
        "WAREHOUSE_PASSWORD}`) read when the file is planned and applied. Secrets are never written here.",
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["from"],
                "properties": {"from": {"const": "dashboard"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    name: {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["env"],
                        "properties": {"env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}},
                    }
                    for name in secrets
                },
            },
        ],
    }
    return {
        "if": {"properties": {"type": {"const": type_key}}},
        "then": {"properties": {"config": config, "credentials": credentials}},
    }


MAPPING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["target"],
    "description": "One Intercom field, fed by a model column or a constant.",
    "properties": {
        "target": {
            "type": "string",
            "minLength": 1,
            "description": "A standard field or a custom attribute.",
        },
        "field_type": {"enum": [t.value for t in FieldType], "default": FieldType.STRING.value},
        "custom": {
            "type": "boolean",
            "default": False,
            "description": "true: `target` is a custom attribute.",
        },
        "on_null": {
            "enum": [p.value for p in NullPolicy],
            "default": NullPolicy.KEEP.value,
            "description": "keep: a NULL leaves Intercom's value as it is; clear: a NULL clears it.",
        },
        "column": {"type": "string", "description": "The model column (or give `constant`)."},
        "constant": {"description": "The same value for every record (or give `column`)."},
        "unit": {
            "enum": [u.value for u in EpochUnit],
            "description": "Dates given as numbers: epoch seconds or milliseconds.",
        },
    },
}
EVENT_OPTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "contact_column": {"type": "string"},
        "contact_key": {"enum": [k.value for k in EventContactKey]},
        "created_at_column": {"type": "string"},
        "created_at_unit": {"enum": [u.value for u in EpochUnit]},
        "event_name": {"type": "string"},
        "event_name_column": {"type": "string"},
        "metadata_columns": {"type": "array", "items": {"type": "string"}},
        "first_run": {"enum": [m.value for m in FirstRunMode]},
    },
}
SCHEDULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "description": "When the sync runs. Each kind reads its own settings: interval (every_minutes), hourly "
    "(minute), daily (at), weekly (weekday, at), cron (cron), after_sync (after); the clock-based kinds a "
    "timezone (default UTC).",
    "properties": {
        "kind": {"enum": [k.value for k in ScheduleKind]},
        "every_minutes": {"type": "integer"},
        "minute": {"type": "integer", "minimum": 0, "maximum": 59},
        "at": {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM"},
        "weekday": {"enum": [day.lower() for day in WEEKDAYS]},
        "cron": {"type": "string"},
        "timezone": {"type": "string", "description": "An IANA time zone, such as Europe/Paris."},
        "after": {
            "type": ["string", "null"],
            "description": "The name of the sync this one runs after (when it succeeds).",
        },
    },
}
NOT_BESIDE_DBT: dict[str, Any] = {"not": {}, "description": "Not given with `dbt` (the relation is the SQL)."}
DBT_REF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["project", "model"],
    "description": "The dbt model this model reads (instead of `source` and `sql`): its SQL is the model's "
    "relation, kept by each manifest loaded. The manifest is loaded in the dashboard or by `manage.py "
    "dbt_manifest_load`, never by these files.",
    "properties": {
        "project": {
            "type": "string",
            "minLength": 1,
            "description": "The name of the source (warehouse) whose dbt project has the model.",
        },
        "model": {
            "type": "string",
            "minLength": 1,
            "description": "The dbt model's unique_id (model.jaffle_shop.customers) or its name.",
        },
    },
}
RECIPIENTS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "members": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Emails of members of the workspace.",
        },
        "emails": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[^\s,;]+$", "description": "one address"},
            "description": "Other addresses.",
        },
    },
}
SYNC_ALERTS = {
    "type": "object",
    "additionalProperties": False,
    "description": "The sync's alerts; left out: on, to the workspace's recipients, at 75 % rejected.",
    "properties": {
        "enabled": {"type": "boolean", "default": True},
        "recipients": {"oneOf": [{"const": "workspace"}, RECIPIENTS], "default": "workspace"},
        "rejected_threshold_percent": {"type": "integer", "minimum": 1, "maximum": 100, "default": 75},
        "max_duration_minutes": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 7 * 24 * 60,
            "default": None,
        },
    },
}


def document_schema() -> dict[str, Any]:
    source = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "type"],
        "properties": {
            "name": _name("source"),
            "type": {"enum": sorted(SOURCE_TYPES)},
            "config": {"type": "object", "description": "The connection's settings, without secrets."},
            "credentials": {"type": "object"},
        },
        "allOf": [_source_variant(key) for key in sorted(SOURCE_TYPES)],
    }
    destination = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "type"],
        "description": "An Intercom account, connected in the dashboard (OAuth): the file names it.",
        "properties": {
            "name": _name("destination"),
            "type": {"const": "intercom"},
            "region": {"enum": [r.value for r in IntercomRegion]},
            "credentials": {"type": "object", "properties": {"from": {"const": "dashboard"}}},
        },
    }
    model = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "primary_key"],
        "description": "A model: its own SQL on a source (`source` and `sql`), or a dbt model's relation (`dbt`).",
        "properties": {
            "name": _name("model"),
            "source": _ref("source"),
            "description": {"type": "string"},
            "sql": {"type": "string", "minLength": 1, "description": "One read-only SELECT statement."},
            "dbt": DBT_REF,
            "primary_key": {"type": "string", "minLength": 1, "description": "A column with unique values."},
            "unique_columns": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Other columns with unique values (a sync may be keyed on them).",
            },
        },
        "if": {"required": ["dbt"]},
        "then": {"properties": {"source": NOT_BESIDE_DBT, "sql": NOT_BESIDE_DBT}},
        "else": {"required": ["source", "sql"]},
    }
    sync = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "model", "destination", "object", "behavior", "sync_key"],
        "properties": {
            "name": _name("sync"),
            "model": _ref("model"),
            "destination": _ref("destination"),
            "object": {"enum": sorted(OBJECTS), "description": "The Intercom object written."},
            "behavior": {"enum": [b.value for b in Behavior]},
            "sync_key": {
                "type": "object",
                "additionalProperties": False,
                "required": ["column", "identifier"],
                "properties": {
                    "column": {"type": "string", "description": "The model column…"},
                    "identifier": {"type": "string", "description": "…matched to this Intercom identifier."},
                },
            },
            "mappings": {"type": "array", "items": MAPPING},
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "company_id_column": {"type": "string"},
                    "permanent_delete": {"type": "boolean"},
                    "event": EVENT_OPTIONS,
                },
            },
            "paused": {"type": "boolean", "default": False},
            "schedule": SCHEDULE,
            "alerts": SYNC_ALERTS,
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url(),
        "title": "Syncline workspace (syncline/v1)",
        "description": "A workspace's sources, models, syncs, schedules and alerts, for `manage.py syncline "
        "validate | plan | apply`. One file, or a folder of files each with `version`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": VERSION},
            "workspace": {
                "type": "string",
                "description": "The workspace's slug (the --workspace flag wins).",
            },
            "sources": {"type": "array", "items": source},
            "destinations": {"type": "array", "items": destination},
            "models": {"type": "array", "items": model},
            "syncs": {"type": "array", "items": sync},
            "alerts": {
                "type": "object",
                "additionalProperties": False,
                "description": "Settings → Alerts: who gets a sync's alerts unless it names its own.",
                "properties": {"recipients": RECIPIENTS},
            },
        },
    }
