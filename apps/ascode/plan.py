"""What applying the files would change, field by field, and the fingerprint of the state it was planned
against (so that `apply --expect` can refuse a plan another change made stale)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from apps.ascode.document import KINDS, SINGULAR, Document, DocumentInvalid, FileProblem, object_problem
from apps.ascode.state import Desired, State, current_state, desired_state, member_emails
from apps.ascode.yamlio import MarkedDict
from apps.common.problems import Invalid
from apps.connections.models import Connection
from apps.connections.services import source_values_with_kept_secrets
from apps.models.models import DbtModel, SqlModel
from apps.syncs.engine.config import Option, SyncConfig, SyncPart, Target
from apps.syncs.models import ACTIVE_STATUSES, Sync, SyncRun
from apps.tenancy.models import Workspace

CREATE, UPDATE, DELETE = "create", "update", "delete"
SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-"}


class _Absent:
    def __repr__(self) -> str:
        return "(none)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Secret:
    """A secret in a plan: never its value."""

    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    action: str
    kind: str  # "sources", "destinations", "models", "syncs" or "alerts"
    name: str
    fields: tuple[FieldChange, ...] = ()

    def changed(self, prefix: str) -> bool:
        return self.action != UPDATE or any(
            f.path == prefix or f.path.startswith(prefix + ".") for f in self.fields
        )


@dataclass
class Plan:
    workspace: Workspace
    fingerprint: str
    changes: list[Change] = field(default_factory=list)
    desired: Desired = field(default_factory=Desired)
    current: State = field(default_factory=dict)

    def summary(self) -> str:
        counts = {action: sum(1 for c in self.changes if c.action == action) for action in SYMBOLS}
        return f"Plan: {counts[CREATE]} to create, {counts[UPDATE]} to change, {counts[DELETE]} to delete."

    def text(self) -> str:
        lines = [f"Workspace “{self.workspace.slug}”, fingerprint {self.fingerprint}", ""]
        if not self.changes:
            return "\n".join([*lines, "No changes: the workspace matches the files."])
        for change in self.changes:
            what = (
                "workspace alert recipients"
                if change.kind == "alerts"
                else f"{SINGULAR[change.kind]} “{change.name}”"
            )
            lines.append(f"{SYMBOLS[change.action]} {change.action} {what}")
            for item in change.fields:
                if change.action == CREATE:
                    if item.path != "name":
                        lines.append(f"    {item.path}: {_show(item.new)}")
                else:
                    lines.append(f"    {item.path}: {_show(item.old)} → {_show(item.new)}")
        return "\n".join(
            [*lines, "", self.summary(), f"Apply exactly this plan with --expect {self.fingerprint}"]
        )


def _show(value: Any) -> str:
    if value is ABSENT or isinstance(value, Secret):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def fingerprint(state: State, alerts: Any) -> str:
    text = json.dumps({"state": state, "alerts": alerts}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# --- the field-by-field difference ------------------------------------------------------------------


def _mapping_key(mapping: Mapping[str, Any]) -> str:
    return f"custom:{mapping['target']}" if mapping.get("custom") else str(mapping["target"])


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths → values; the mappings are keyed by their target (`mappings[email].column`), so adding
    one mapping is one change, not a shift of every index."""
    flat: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if key == "mappings" and isinstance(item, list):
                for mapping in item:  # its target and custom flag are in its key
                    rest = {k: v for k, v in mapping.items() if k not in ("target", "custom")}
                    flat |= flatten(rest, f"{path}[{_mapping_key(mapping)}]")
            elif isinstance(item, dict) and item:
                flat |= flatten(item, path)
            else:
                flat[path] = item
    else:
        flat[prefix] = value
    return flat


def diff(old: Mapping[str, Any], new: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> list[FieldChange]:
    before = (
        {k: v for k, v in flatten(dict(old)).items() if not k.startswith(skip)}
        if skip
        else flatten(dict(old))
    )
    after = (
        {k: v for k, v in flatten(dict(new)).items() if not k.startswith(skip)}
        if skip
        else flatten(dict(new))
    )
    changes = [
        FieldChange(path, before.get(path, ABSENT), after.get(path, ABSENT))
        for path in list(dict.fromkeys([*before, *after]))
        if before.get(path, ABSENT) != after.get(path, ABSENT)
    ]
    old_order = [_mapping_key(m) for m in old.get("mappings") or ()]
    new_order = [_mapping_key(m) for m in new.get("mappings") or ()]
    if sorted(old_order) == sorted(new_order) and old_order != new_order:
        changes.append(FieldChange("mappings (order)", old_order, new_order))
    return changes


# --- the plan -----------------------------------------------------------------------------------------


def make_plan(document: Document, workspace: Workspace, *, environ: Mapping[str, str] | None = None) -> Plan:
    """The changes that applying `document` makes to `workspace`; raises DocumentInvalid with every problem
    that can be told before saving."""
    desired = desired_state(document, environ)
    current, current_alerts = current_state(workspace)
    plan = Plan(
        workspace=workspace,
        fingerprint=fingerprint(current, current_alerts),
        desired=desired,
        current=current,
    )
    problems = list(desired.problems) + _resolve_dbt_models(document, desired, workspace)
    connections = {c.name: c for c in Connection.objects.for_workspace(workspace)}
    for kind in KINDS:
        wanted, present = desired.state[kind], current[kind]
        for name in sorted(set(wanted) | set(present)):
            if name not in wanted:
                if kind != "destinations":  # never deleted by a file: they hold the OAuth token
                    plan.changes.append(Change(DELETE, kind, name))
                continue
            item = document.objects[kind][name]
            if name not in present:
                if kind == "destinations":
                    problems.append(_missing_destination(item, connections.get(name)))
                    continue
                if kind == "sources" and name in connections:
                    message = "is the name of an Intercom destination in this workspace: choose another"
                    problems.append(object_problem(kind, item, ("name",), message))
                    continue
                plan.changes.append(
                    Change(CREATE, kind, name, tuple(diff({}, wanted[name], skip=("credentials",))))
                )
                if kind == "sources":
                    problems += _source_credential_problems(item, None, desired)
            else:
                fields = diff(present[name], wanted[name], skip=("credentials",))
                if kind == "sources":
                    if wanted[name]["type"] != present[name]["type"]:
                        message = f"a source's type cannot change ({present[name]['type']} here): give the new one another name"
                        problems.append(object_problem(kind, item, ("type",), message))
                    problems += _source_credential_problems(item, connections[name], desired)
                    fields += _secret_changes(connections[name], desired.secrets.get(name))
                if fields:
                    plan.changes.append(Change(UPDATE, kind, name, tuple(fields)))
    if desired.alerts is not None and desired.alerts != current_alerts:
        plan.changes.append(
            Change(UPDATE, "alerts", "workspace", tuple(diff(current_alerts or {}, desired.alerts)))
        )
    problems += _member_problems(document, desired, workspace)
    problems += _sync_config_problems(document, desired, workspace)
    problems += _deletion_problems(plan)
    if problems:
        raise DocumentInvalid(problems)
    return plan


def dbt_model_of(workspace: Workspace, project: str, model: str) -> DbtModel | None:
    """The dbt model a file names (`dbt: {project, model}`): by unique_id, else by name if only one model of
    the project has it; None when the source has no loaded manifest with it."""
    found = list(
        DbtModel.objects.for_workspace(workspace)
        .filter(project__source__name=project)
        .filter(Q(unique_id=model) | Q(name=model))
        .select_related("project__source")
    )
    by_id = [row for row in found if row.unique_id == model]
    return by_id[0] if by_id else (found[0] if len(found) == 1 else None)


def _resolve_dbt_models(document: Document, desired: Desired, workspace: Workspace) -> list[FileProblem]:
    """Each dbt model named must be loaded (its manifest is the dashboard's or `dbt_manifest_load`'s, never
    the files'); a name is replaced by its unique_id, so a file naming it either way plans the same."""
    problems = []
    for name, wanted in desired.state["models"].items():
        reference = wanted.get("dbt")
        if reference is None:
            continue
        item = document.objects["models"][name]
        dbt_model = dbt_model_of(workspace, reference["project"], reference["model"])
        if dbt_model is None:
            message = (
                f"no dbt model “{reference['model']}” is loaded for the source “{reference['project']}”: load "
                "its dbt project's manifest.json (Models → dbt in the dashboard, or `manage.py "
                "dbt_manifest_load`), then plan again"
            )
            problems.append(object_problem("models", item, ("dbt", "model"), message))
        elif dbt_model.missing_since is not None:
            message = (
                f"the dbt model “{dbt_model.name}” is no longer in the last manifest loaded for "
                f"“{reference['project']}”: load a manifest that has it, or name another model"
            )
            problems.append(object_problem("models", item, ("dbt", "model"), message))
        else:
            reference["model"] = dbt_model.unique_id
    return problems


def _missing_destination(item: MarkedDict, connection: Connection | None) -> FileProblem:
    if connection is not None:
        message = "is a source in this workspace, not an Intercom destination"
    else:
        message = (
            "no Intercom account of this name is connected to the workspace: connect it in the dashboard "
            "(Connections → Connect Intercom) under this name, then apply again"
        )
    return object_problem("destinations", item, ("name",), message)


def _source_credential_problems(
    item: MarkedDict, connection: Connection | None, desired: Desired
) -> list[FileProblem]:
    name = item["name"]
    wanted = desired.state["sources"][name]
    if "credentials" not in wanted:
        return []
    from_dashboard = name not in desired.secrets
    if connection is None:
        if from_dashboard:
            message = (
                "a new source cannot take its credentials from the dashboard (there is no connection of this "
                "name yet): name environment variables (`password: {env: VARIABLE}`), or create it in the dashboard first"
            )
            return [object_problem("sources", item, ("credentials",), message)]
        return []
    try:
        source_values_with_kept_secrets(connection, {**wanted["config"], **desired.secrets.get(name, {})})
    except Invalid as needed:
        return [object_problem("sources", item, ("credentials",), p.message) for p in needed.problems]
    return []


def _secret_changes(connection: Connection, secrets: dict[str, str] | None) -> list[FieldChange]:
    stored = connection.credentials or {}
    return [
        FieldChange(
            f"credentials.{name}",
            Secret("(secret)" if stored.get(name) else "(none)"),
            Secret("(new secret)"),
        )
        for name, value in sorted((secrets or {}).items())
        if stored.get(name, "") != value
    ]


def _member_problems(document: Document, desired: Desired, workspace: Workspace) -> list[FileProblem]:
    members = set(member_emails(workspace).values())
    lowered = {email.lower(): email for email in members}
    problems = []

    def check(
        item: MarkedDict | None, kind: str | None, path: tuple[str | int, ...], emails: list[str]
    ) -> None:
        for email in emails:
            if email not in members and email.lower() not in lowered:
                message = f"{email} is not a member of the workspace “{workspace.slug}”: invite them, or list the address under `emails`"
                if kind is not None and item is not None:
                    problems.append(object_problem(kind, item, path, message))
                elif item is not None:
                    field = "alerts.recipients.members"
                    problems.append(FileProblem(item.file, item.line_of("recipients"), field, message))

    if desired.alerts is not None:
        check(document.alerts, None, (), desired.alerts["recipients"]["members"])
    for name, sync in desired.state["syncs"].items():
        recipients = sync.get("alerts", {}).get("recipients")
        if isinstance(recipients, dict):
            item = document.objects["syncs"][name]
            check(item, "syncs", ("alerts", "recipients", "members"), recipients["members"])
    return problems


# The key of a mapping that a problem's code is about (else the mapping as a whole).
_MAPPING_KEYS = {
    "column_not_in_model": "column", "column_required": "column", "constant_not_coercible": "constant",
    "unknown_role": "constant", "wrong_field_type": "field_type", "cannot_clear": "on_null",
    "unknown_field": "target", "no_custom_attributes": "custom", "unknown_attribute": "target",
}  # fmt: skip


def sync_subject_path(subject: Hashable, item: MarkedDict, code: str = "") -> tuple[str | int, ...]:
    """Where in a sync's mapping a problem of its configuration (`Problem.subject`, `Problem.code`) is."""
    parts = {
        SyncPart.OBJECT: ("object",),
        SyncPart.BEHAVIOR: ("behavior",),
        SyncPart.KEY_IDENTIFIER: ("sync_key", "identifier"),
        SyncPart.KEY_COLUMN: ("sync_key", "column"),
        SyncPart.MAPPINGS: ("mappings",),
    }
    if subject in parts:
        return parts[subject]  # type: ignore[index]
    if isinstance(subject, Target):
        for index, mapping in enumerate(item.get("mappings") or ()):
            if mapping.get("target") == subject.target and bool(mapping.get("custom")) == subject.custom:
                key = _MAPPING_KEYS.get(code)
                return ("mappings", index, key) if key is not None and key in mapping else ("mappings", index)
        return ("mappings",)
    if isinstance(subject, Option):
        options = item.get("options") or {}
        if subject.name in options:
            return ("options", subject.name)
        if subject.name in (options.get("event") or {}):
            return ("options", "event", subject.name)
        return ("options",)
    return ()


def config_of(sync: Mapping[str, Any]) -> SyncConfig:
    return SyncConfig.from_json(
        object_key=sync["object"],
        behavior=sync["behavior"],
        key_column=sync["sync_key"]["column"],
        key_identifier=sync["sync_key"]["identifier"],
        mappings=sync["mappings"],
        options=sync["options"],
    )


def _sync_config_problems(document: Document, desired: Desired, workspace: Workspace) -> list[FileProblem]:
    """The sync configurations as `sync_save` will judge them: against the model's columns where they are
    known now (the model exists with the same source and SQL); apply checks the others once their SQL is
    introspected."""
    known = {}
    for model in SqlModel.objects.for_workspace(workspace).select_related("source", "dbt_model"):
        wanted = desired.state["models"].get(model.name)
        if not wanted:
            continue
        if "dbt" in wanted:
            same = model.dbt_model is not None and wanted["dbt"] == {
                "project": model.source.name,
                "model": model.dbt_model.unique_id,
            }
        else:
            same = model.dbt_model is None and (model.sql, model.source.name) == (
                wanted["sql"],
                wanted["source"],
            )
        if same:
            known[model.name] = model.column_names
    return sync_config_problems(document, desired, known)


def sync_config_problems(
    document: Document, desired: Desired, known_columns: Mapping[str, list[str]]
) -> list[FileProblem]:
    """Every sync's configuration checked (`SyncConfig.validate`); the columns only of the models in
    `known_columns`."""
    problems = []
    for name, sync in desired.state["syncs"].items():
        config = config_of(sync)
        columns = known_columns.get(sync["model"], config.columns)
        item = document.objects["syncs"][name]
        for problem in config.validate(columns):
            path = sync_subject_path(problem.subject, item, problem.code)
            problems.append(object_problem("syncs", item, path, problem.message))
    return problems


def _deletion_problems(plan: Plan) -> list[FileProblem]:
    deleted = [c.name for c in plan.changes if c.action == DELETE and c.kind == "syncs"]
    if not deleted:
        return []
    running = SyncRun.objects.for_workspace(plan.workspace).filter(
        sync__name__in=deleted, status__in=ACTIVE_STATUSES
    )
    return [
        FileProblem(
            "", None, f"sync “{name}”", "is running now and would be deleted: apply once its run has ended"
        )
        for name in sorted(set(running.values_list("sync__name", flat=True)))
    ]


def locked_workspace(workspace: Workspace) -> Workspace:
    """Inside a transaction: the workspace row and its connections, models and syncs locked, so that two
    applies (or an apply and a dashboard save) cannot interleave between the plan and its changes."""
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    for model in (Connection, SqlModel, Sync):
        list(model.objects.for_workspace(locked).select_for_update().values_list("pk", flat=True))
    return locked
