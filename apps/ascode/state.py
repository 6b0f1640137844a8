"""A workspace in the document's own terms, one canonical form for both sides of a plan:

- `current_state(workspace)`: what the workspace holds (what `export` writes);
- `desired_state(document)`: what the files ask for, with every default filled in and every value in the
  form the services store (a sync's configuration through `SyncConfig.from_json`/`to_json`, a source's
  settings through the registry's `clean_config`), so that a file applied and exported again is unchanged.

Objects are keyed by name; lists are sorted by name, so the export's order never depends on ids or dates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from apps.alerts.models import DEFAULT_REJECTED_THRESHOLD, SyncAlertSettings, WorkspaceAlertSettings
from apps.ascode.document import KINDS, Document, FileProblem, object_problem
from apps.ascode.schema import VERSION
from apps.ascode.yamlio import MarkedDict
from apps.connections.models import Connection, ConnectionKind
from apps.connections.sources.errors import InvalidSourceConfig
from apps.connections.sources.registry import SOURCE_TYPES, clean_config
from apps.models.models import SqlModel
from apps.syncs.engine.config import SyncConfig
from apps.syncs.models import Sync
from apps.syncs.schedules.compute import KIND_FIELDS, WEEKDAYS, Schedule, ScheduleKind
from apps.tenancy.models import Membership, Workspace

FROM_DASHBOARD = {"from": "dashboard"}
DEFAULT_SYNC_ALERTS = {
    "enabled": True,
    "recipients": "workspace",
    "rejected_threshold_percent": DEFAULT_REJECTED_THRESHOLD,
    "max_duration_minutes": None,
}
State = dict[str, dict[str, dict[str, Any]]]  # kind → name → the object's canonical form


# --- what the workspace holds -----------------------------------------------------------------------


def _source_config(connection: Connection) -> dict[str, Any]:
    fields = [spec.name for spec in SOURCE_TYPES[connection.type].fields if not spec.secret]
    config = connection.config or {}
    ordered = {name: config[name] for name in fields if name in config}
    return ordered | {name: config[name] for name in sorted(config) if name not in ordered}


def _has_secrets(type_key: str) -> bool:
    return bool(SOURCE_TYPES[type_key].secret_field_names)


def _schedule(sync: Sync) -> dict[str, Any]:
    kind = ScheduleKind(sync.schedule_kind)
    values: dict[str, Any] = {
        "every_minutes": sync.schedule_every_minutes,
        "minute": sync.schedule_minute,
        "at": sync.schedule_at.strftime("%H:%M") if sync.schedule_at else None,
        "weekday": WEEKDAYS[sync.schedule_weekday].lower() if sync.schedule_weekday is not None else None,
        "cron": sync.schedule_cron,
        "timezone": sync.schedule_timezone,
        "after": sync.schedule_after.name if sync.schedule_after else None,
    }
    return {"kind": kind.value} | {name: values[name] for name in KIND_FIELDS[kind]}


def _recipients(member_ids: list[int], emails: list[str], emails_by_id: Mapping[int, str]) -> dict[str, Any]:
    members = sorted({emails_by_id[i].lower() for i in member_ids or () if i in emails_by_id})
    return {"members": members, "emails": _addresses(emails)}


def _addresses(emails: Any) -> list[str]:
    """As the alert forms store them: lower case, once each, sorted."""
    return sorted({str(e).strip().lower() for e in emails or () if str(e).strip()})


def _sync_alerts(row: SyncAlertSettings | None, emails_by_id: Mapping[int, str]) -> dict[str, Any] | None:
    if row is None:
        return None
    recipients: Any = (
        "workspace"
        if row.use_workspace_recipients
        else _recipients(row.member_ids, row.extra_emails, emails_by_id)
    )
    alerts = {
        "enabled": row.enabled,
        "recipients": recipients,
        "rejected_threshold_percent": row.rejected_threshold,
        "max_duration_minutes": row.max_duration_minutes,
    }
    return None if alerts == DEFAULT_SYNC_ALERTS else alerts


def member_emails(workspace: Workspace) -> dict[int, str]:
    members = Membership.objects.for_workspace(workspace).values_list("user_id", "user__email")
    return dict(members)


def current_state(workspace: Workspace) -> tuple[State, dict[str, Any] | None]:
    """The workspace's objects in canonical form, and its alert recipients (None: never set)."""
    emails_by_id = member_emails(workspace)
    state: State = {kind: {} for kind in KINDS}
    for connection in Connection.objects.for_workspace(workspace).order_by("name"):
        if connection.kind == ConnectionKind.DESTINATION:
            state["destinations"][connection.name] = {
                "name": connection.name,
                "type": connection.type,
                "region": (connection.config or {}).get("region", "US"),
            }
        elif connection.type in SOURCE_TYPES:
            source = {"name": connection.name, "type": connection.type, "config": _source_config(connection)}
            if _has_secrets(connection.type):
                source["credentials"] = dict(FROM_DASHBOARD)
            state["sources"][connection.name] = source
    models = SqlModel.objects.for_workspace(workspace).select_related("source", "dbt_model")
    for model in models.order_by("name"):
        reads: dict[str, Any] = (
            {"dbt": {"project": model.source.name, "model": model.dbt_model.unique_id}}
            if model.dbt_model is not None
            else {"source": model.source.name}
        )
        state["models"][model.name] = {"name": model.name, **reads, "description": model.description}
        if model.dbt_model is None:
            state["models"][model.name]["sql"] = model.sql
        state["models"][model.name] |= {
            "primary_key": model.primary_key,
            "unique_columns": list(model.unique_columns or ()),
        }
    alerts = {row.sync_id: row for row in SyncAlertSettings.objects.for_workspace(workspace)}
    syncs = Sync.objects.for_workspace(workspace).select_related("model", "destination", "schedule_after")
    for sync in syncs.order_by("name"):
        mappings, options = sync.config.to_json()
        item = {
            "name": sync.name,
            "model": sync.model.name,
            "destination": sync.destination.name,
            "object": sync.object_key,
            "behavior": sync.behavior,
            "sync_key": {"column": sync.key_column, "identifier": sync.key_identifier},
            "mappings": mappings,
            "options": options,
            "paused": sync.paused,
            "schedule": _schedule(sync),
        }
        sync_alerts = _sync_alerts(alerts.get(sync.pk), emails_by_id)
        if sync_alerts is not None:
            item["alerts"] = sync_alerts
        state["syncs"][sync.name] = item
    row = WorkspaceAlertSettings.objects.for_workspace(workspace).first()
    workspace_alerts = (
        {"recipients": _recipients(row.member_ids, row.extra_emails, emails_by_id)} if row else None
    )
    return state, workspace_alerts


def export_document(workspace: Workspace) -> dict[str, Any]:
    state, alerts = current_state(workspace)
    document: dict[str, Any] = {"version": VERSION, "workspace": workspace.slug}
    for kind in KINDS:
        document[kind] = [state[kind][name] for name in sorted(state[kind])]
    if alerts is not None:
        document["alerts"] = alerts
    return document


# --- what the files ask for -------------------------------------------------------------------------


@dataclass
class Desired:
    state: State = field(default_factory=lambda: {kind: {} for kind in KINDS})
    alerts: dict[str, Any] | None = None  # None: the files do not manage the workspace's recipients
    # Sources whose secrets come from the environment: name → {secret field: value}
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)


def desired_state(
    document: Document, environ: Mapping[str, str] | None = None, *, read_environment: bool = True
) -> Desired:
    """The document in canonical form; `problems` lists what the services would refuse that can be told
    without the database (values, schedules, the environment variables named: read from `environ`, by
    default the process's, unless `read_environment` is false, as for `validate`)."""
    environ = os.environ if environ is None else environ
    desired = Desired()
    objects = document.objects
    for name, item in objects["sources"].items():
        desired.state["sources"][name] = _desired_source(item, desired, environ if read_environment else None)
    for name, item in objects["destinations"].items():
        desired.state["destinations"][name] = {
            "name": name,
            "type": "intercom",
            "region": item.get("region", "US"),
        }
    for name, item in objects["models"].items():
        reads: dict[str, Any] = (
            {"dbt": {"project": item["dbt"]["project"], "model": item["dbt"]["model"]}}
            if "dbt" in item
            else {"source": item["source"]}
        )
        desired.state["models"][name] = {"name": name, **reads, "description": item.get("description", "")}
        if "dbt" not in item:
            desired.state["models"][name]["sql"] = item["sql"].strip()
        desired.state["models"][name] |= {
            "primary_key": item["primary_key"],
            "unique_columns": list(item.get("unique_columns") or ()),
        }
    for name, item in objects["syncs"].items():
        desired.state["syncs"][name] = _desired_sync(item, desired)
    if document.alerts is not None:
        recipients = document.alerts.get("recipients") or {}
        desired.alerts = {
            "recipients": {
                "members": _addresses(recipients.get("members")),
                "emails": _addresses(recipients.get("emails")),
            }
        }
    return desired


def _desired_source(item: MarkedDict, desired: Desired, environ: Mapping[str, str] | None) -> dict[str, Any]:
    type_key = item["type"]
    secret_names = SOURCE_TYPES[type_key].secret_field_names
    config = dict(item.get("config") or {})
    try:
        cleaned = clean_config(type_key, config)
    except InvalidSourceConfig as error:
        desired.problems.append(object_problem("sources", item, ("config",), str(error)))
        cleaned = config
    source = {
        "name": item["name"],
        "type": type_key,
        "config": {key: value for key, value in cleaned.items() if key not in secret_names},
    }
    credentials = item.get("credentials")
    if secret_names:
        source["credentials"] = dict(credentials or FROM_DASHBOARD)
    if credentials and "from" not in credentials:
        values = {}
        for secret, reference in credentials.items():
            variable = reference["env"]
            if environ is None:  # not read (validate)
                continue
            if variable not in environ:
                message = f"the environment variable {variable} is not set"
                desired.problems.append(
                    object_problem("sources", item, ("credentials", secret, "env"), message)
                )
            values[secret] = environ.get(variable, "")
        if environ is not None:
            desired.secrets[item["name"]] = values
    return source


def _desired_sync(item: MarkedDict, desired: Desired) -> dict[str, Any]:
    for index, mapping in enumerate(item.get("mappings") or ()):
        if "column" in mapping and "constant" in mapping:
            message = "give a column or a constant, not both"
            desired.problems.append(object_problem("syncs", item, ("mappings", index), message))
    config = SyncConfig.from_json(
        object_key=item["object"],
        behavior=item["behavior"],
        key_column=item["sync_key"]["column"],
        key_identifier=item["sync_key"]["identifier"],
        mappings=list(item.get("mappings") or ()),
        options=dict(item.get("options") or {}),
    )
    mappings, options = config.to_json()
    sync = {
        "name": item["name"],
        "model": item["model"],
        "destination": item["destination"],
        "object": config.object_key,
        "behavior": config.behavior.value,
        "sync_key": {"column": config.sync_key.column, "identifier": config.sync_key.identifier},
        "mappings": mappings,
        "options": options,
        "paused": bool(item.get("paused", False)),
        "schedule": _desired_schedule(item, desired),
    }
    alerts = dict(DEFAULT_SYNC_ALERTS) | dict(item.get("alerts") or {})
    if isinstance(alerts["recipients"], dict):
        given = alerts["recipients"]
        alerts["recipients"] = {
            "members": _addresses(given.get("members")),
            "emails": _addresses(given.get("emails")),
        }
    if alerts != DEFAULT_SYNC_ALERTS:
        sync["alerts"] = alerts
    return sync


def _desired_schedule(item: MarkedDict, desired: Desired) -> dict[str, Any]:
    given = item.get("schedule") or {"kind": ScheduleKind.MANUAL.value}
    kind = ScheduleKind(given["kind"])
    used = KIND_FIELDS[kind]
    for name in given:
        if name != "kind" and name not in used:
            message = f"“{name}” does not apply to a {kind.value} schedule (it reads: {', '.join(used) or 'nothing'})"
            desired.problems.append(object_problem("syncs", item, ("schedule", name), message))
    values = {"timezone": "UTC"} | {name: given[name] for name in used if name in given}
    if "cron" in values:
        values["cron"] = " ".join(str(values["cron"]).split())
    schedule = schedule_of(values | {"kind": kind.value})
    for name, message in schedule.problems().items():
        desired.problems.append(object_problem("syncs", item, ("schedule", name), message))
    if kind == ScheduleKind.AFTER_SYNC and values.get("after") == item["name"]:
        message = "a sync cannot run after itself: choose another sync"
        desired.problems.append(object_problem("syncs", item, ("schedule", "after"), message))
    return {"kind": kind.value} | {name: values.get(name) for name in used}


def schedule_of(values: Mapping[str, Any]) -> Schedule:
    """The schedule a canonical `schedule:` mapping describes (its `after` is resolved by the caller)."""
    at = values.get("at")
    weekday = values.get("weekday")
    return Schedule(
        kind=ScheduleKind(values["kind"]),
        timezone=values.get("timezone") or "UTC",
        every_minutes=values.get("every_minutes"),
        minute=values.get("minute"),
        at=time.fromisoformat(at) if at else None,
        weekday=[day.lower() for day in WEEKDAYS].index(weekday) if weekday else None,
        cron=values.get("cron") or "",
    )
