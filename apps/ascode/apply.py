"""Apply a plan through each app's services (every rule the dashboard applies holds), in one transaction:
any refusal rolls back everything and is reported at the file and line of the object refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from apps.alerts.forms import RecipientsForm, SyncAlertsForm
from apps.alerts.services import sync_alert_settings_save, workspace_alert_settings_save
from apps.ascode.document import Document, DocumentInvalid, FileProblem, object_problem
from apps.ascode.plan import (
    DELETE,
    Plan,
    config_of,
    dbt_model_of,
    locked_workspace,
    make_plan,
    sync_subject_path,
)
from apps.ascode.state import DEFAULT_SYNC_ALERTS, member_emails, schedule_of
from apps.common.problems import Invalid
from apps.connections import services as connection_services
from apps.connections.models import Connection
from apps.connections.sources.errors import SourceError
from apps.models import services as model_services
from apps.models.dbt import services as dbt_services
from apps.models.models import SqlModel
from apps.syncs import services as sync_services
from apps.syncs.models import Sync
from apps.syncs.schedules.services import sync_schedule_set
from apps.tenancy.models import User, Workspace
from apps.tenancy.selectors import member_list

# The alert forms' fields → where they are in a file (under `alerts:`).
_FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "members": ("recipients", "members"),
    "extra_emails": ("recipients", "emails"),
    "rejected_threshold": ("rejected_threshold_percent",),
    "max_duration_minutes": ("max_duration_minutes",),
}


def _recipients_data(applier: _Applier, recipients: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "members": [str(pk) for pk in applier.ids_of(recipients["members"])],
        "extra_emails": "\n".join(recipients["emails"]),
    }


class StalePlan(Exception):
    def __init__(self, expected: str, found: str):
        super().__init__(
            f"The workspace changed since the plan (fingerprint {found}, the plan was made on {expected}): "
            "nothing was applied. Run plan again and review the changes."
        )


def apply(
    document: Document,
    workspace: Workspace,
    *,
    user: User | None = None,
    expect: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Plan again inside the transaction, with the workspace's rows locked, and make the changes; raises
    DocumentInvalid (nothing changed) or StalePlan (`expect` is not the fingerprint of the state now)."""
    with transaction.atomic():
        workspace = locked_workspace(workspace)
        plan = make_plan(document, workspace, environ=environ)
        if expect is not None and expect != plan.fingerprint:
            raise StalePlan(expect, plan.fingerprint)
        if plan.changes:
            _Applier(document, plan, user).run()
    return plan


class _Applier:
    def __init__(self, document: Document, plan: Plan, user: User | None):
        self.document, self.plan, self.user = document, plan, user
        self.workspace = plan.workspace
        self.wanted = plan.desired.state
        self.changes = {(c.kind, c.name): c for c in plan.changes}
        self.connections = {c.name: c for c in Connection.objects.for_workspace(self.workspace)}
        self.models = {m.name: m for m in SqlModel.objects.for_workspace(self.workspace)}
        self.syncs = {s.name: s for s in Sync.objects.for_workspace(self.workspace)}
        self.member_ids = {email.lower(): pk for pk, email in member_emails(self.workspace).items()}

    def fail(self, kind: str, name: str, path: tuple[str | int, ...], messages: list[str]) -> DocumentInvalid:
        item = self.document.objects[kind][name]
        return DocumentInvalid(object_problem(kind, item, path, message) for message in messages)

    def run(self) -> None:
        self.workspace_alerts()
        for kind, save in (
            ("sources", self.source),
            ("destinations", self.destination),
            ("models", self.model),
        ):
            for name in sorted(self.wanted[kind]):
                if (kind, name) in self.changes:
                    save(name, self.changes[(kind, name)])
        changed_syncs = [name for name in sorted(self.wanted["syncs"]) if ("syncs", name) in self.changes]
        for name in changed_syncs:
            self.sync(name)
        for name in changed_syncs:  # once every sync exists: a schedule can name one "after" it
            self.sync_schedule_and_alerts(name)
        self.deletions()
        self.check_every_sync()

    def ids_of(self, emails: list[str]) -> list[int]:
        return [self.member_ids[email.lower()] for email in emails]

    def workspace_alerts(self) -> None:
        """Through the dashboard's form (Settings → Alerts), so its rules on addresses hold."""
        if ("alerts", "workspace") not in self.changes or self.plan.desired.alerts is None:
            return
        recipients = self.plan.desired.alerts["recipients"]
        form = RecipientsForm(
            _recipients_data(self, recipients), members=member_list(workspace=self.workspace)
        )
        if not form.is_valid():
            item = self.document.alerts
            raise DocumentInvalid(
                FileProblem(
                    item.file if item else "",
                    item.line if item else None,
                    f"alerts.recipients.{_FORM_FIELDS.get(field, ('',))[-1]}",
                    str(message),
                )
                for field, messages in form.errors.items()
                for message in messages
            )
        workspace_alert_settings_save(
            workspace=self.workspace,
            member_ids=form.cleaned_data["members"],
            extra_emails=form.cleaned_data["extra_emails"],
        )

    def source(self, name: str, change: Any) -> None:
        wanted = self.wanted["sources"][name]
        connection = self.connections.get(name)
        values = {**wanted["config"], **self.plan.desired.secrets.get(name, {})}
        try:
            values = connection_services.source_values_with_kept_secrets(connection, values)
            tested = connection_services.source_check(
                workspace=self.workspace, type_key=wanted["type"], values=values
            )
        except Invalid as refused:
            raise self.fail("sources", name, ("credentials",), refused.messages) from None
        except SourceError as error:
            raise self.fail("sources", name, ("config",), [f"the connection test failed: {error}"]) from None
        self.connections[name] = connection_services.source_connection_save(
            workspace=self.workspace,
            user=self.user,  # type: ignore[arg-type]
            name=name,
            type_key=wanted["type"],
            values=values,
            tested=tested,
            connection=connection,
        )

    def destination(self, name: str, change: Any) -> None:
        connection_services.connection_set_region(
            workspace=self.workspace,
            connection=self.connections[name],
            region=self.wanted["destinations"][name]["region"],
        )

    def model(self, name: str, change: Any) -> None:
        wanted = self.wanted["models"][name]
        model = self.models.get(name)
        saved_fields = ("source", "dbt", "description", "sql", "primary_key")
        if "dbt" in wanted and (model is None or any(change.changed(f) for f in saved_fields)):
            model = self.dbt_model(name, wanted, model)
        elif model is None or any(change.changed(f) for f in saved_fields):
            if model is not None and model.dbt_model_id is not None:
                model.dbt_model = None  # the file gives it its own SQL: it no longer follows the dbt model
            try:
                model = model_services.sql_model_save(
                    workspace=self.workspace,
                    user=self.user,  # type: ignore[arg-type]
                    name=name,
                    description=wanted["description"],
                    source=self.connections[wanted["source"]],
                    sql=wanted["sql"],
                    primary_key=wanted["primary_key"],
                    model=model,
                    # the syncs are saved next, then every sync is checked against its model's columns
                    allow_dropping_used_columns=True,
                )
            except SourceError as error:
                raise self.fail("models", name, ("sql",), [str(error)]) from None
            except Invalid as refused:
                raise self._model_invalid(name, refused) from None
        if list(model.unique_columns or ()) != wanted["unique_columns"]:
            try:
                model = model_services.sql_model_set_unique_columns(
                    workspace=self.workspace, model=model, unique_columns=wanted["unique_columns"]
                )
            except Invalid as refused:
                raise self._model_invalid(name, refused) from None
        self.models[name] = model

    def dbt_model(self, name: str, wanted: Mapping[str, Any], model: SqlModel | None) -> SqlModel:
        """Create, or re-link, a model reading a dbt model, through the dbt services (its SQL is the
        relation's; the plan checked that the dbt model is loaded)."""
        dbt_model = dbt_model_of(self.workspace, wanted["dbt"]["project"], wanted["dbt"]["model"])
        assert dbt_model is not None  # noqa: S101 (planned in this transaction)
        try:
            return dbt_services.dbt_model_use(
                workspace=self.workspace,
                user=self.user,
                dbt_model=dbt_model,
                name=name,
                primary_key=wanted["primary_key"],
                description=wanted["description"],
                model=model,
                allow_dropping_used_columns=True,  # every sync is checked at the end, as for SQL
            )
        except SourceError as error:
            raise self.fail("models", name, ("dbt",), [str(error)]) from None
        except Invalid as refused:
            raise self._model_invalid(name, refused) from None

    def _model_invalid(self, name: str, refused: Invalid) -> DocumentInvalid:
        item = self.document.objects["models"][name]
        return DocumentInvalid(
            object_problem("models", item, (str(p.subject),) if str(p.subject) in item else (), p.message)
            for p in refused.problems
        )

    def sync(self, name: str) -> None:
        wanted = self.wanted["syncs"][name]
        item = self.document.objects["syncs"][name]
        try:
            sync = sync_services.sync_save(
                workspace=self.workspace,
                user=self.user,
                name=name,
                model=self.models[wanted["model"]],
                destination=self.connections[wanted["destination"]],
                object_key=wanted["object"],
                behavior=wanted["behavior"],
                key_column=wanted["sync_key"]["column"],
                key_identifier=wanted["sync_key"]["identifier"],
                mappings=wanted["mappings"],
                options=wanted["options"],
                sync=self.syncs.get(name),
            )
        except Invalid as refused:
            raise DocumentInvalid(
                object_problem("syncs", item, sync_subject_path(p.subject, item, p.code), p.message)
                for p in refused.problems
            ) from None
        if sync.paused != wanted["paused"]:
            sync = sync_services.sync_set_paused(workspace=self.workspace, sync=sync, paused=wanted["paused"])
        self.syncs[name] = sync

    def sync_schedule_and_alerts(self, name: str) -> None:
        change = self.changes[("syncs", name)]
        wanted = self.wanted["syncs"][name]
        sync = self.syncs[name]
        if change.changed("schedule"):
            after_name = wanted["schedule"].get("after")
            try:
                sync_schedule_set(
                    workspace=self.workspace,
                    sync=sync,
                    schedule=schedule_of(wanted["schedule"]),
                    after=self.syncs.get(after_name) if after_name else None,
                )
            except Invalid as refused:
                raise DocumentInvalid(
                    object_problem(
                        "syncs", self.document.objects["syncs"][name], ("schedule", str(p.subject)), p.message
                    )
                    for p in refused.problems
                ) from None
        if change.changed("alerts"):
            self.sync_alerts(name, sync)

    def sync_alerts(self, name: str, sync: Sync) -> None:
        """Through the dashboard's form (the sync's Alerts page), so its rules hold."""
        alerts = self.wanted["syncs"][name].get("alerts", DEFAULT_SYNC_ALERTS)
        recipients = alerts["recipients"]
        own = isinstance(recipients, dict)
        data = {
            "recipients": "own" if own else "workspace",
            "rejected_threshold": alerts["rejected_threshold_percent"],
            "max_duration_minutes": alerts["max_duration_minutes"] or "",
            **(_recipients_data(self, recipients) if own else {}),
        }
        if alerts["enabled"]:
            data["enabled"] = "on"
        form = SyncAlertsForm(data, members=member_list(workspace=self.workspace))
        if not form.is_valid():
            item = self.document.objects["syncs"][name]
            raise DocumentInvalid(
                object_problem("syncs", item, ("alerts", *_FORM_FIELDS.get(field, ())), str(message))
                for field, messages in form.errors.items()
                for message in messages
            )
        sync_alert_settings_save(workspace=self.workspace, sync=sync, **form.service_values())

    def deletions(self) -> None:
        deleted = [c for c in self.plan.changes if c.action == DELETE]
        for change in (c for c in deleted if c.kind == "syncs"):
            sync_services.sync_delete(workspace=self.workspace, sync=self.syncs[change.name])
        for change in (c for c in deleted if c.kind == "models"):
            model_services.sql_model_delete(workspace=self.workspace, model=self.models[change.name])
        for change in (c for c in deleted if c.kind == "sources"):  # their models were deleted just above
            connection_services.connection_delete(
                workspace=self.workspace, connection=self.connections[change.name]
            )

    def check_every_sync(self) -> None:
        """No sync is left reading a column its model no longer returns (a model's new SQL may drop one)."""
        problems = []
        for sync in Sync.objects.for_workspace(self.workspace).select_related("model"):
            item = self.document.objects["syncs"].get(sync.name)
            model_item = self.document.objects["models"].get(sync.model.name)
            for problem in sync_services.sync_problems(
                model=sync.model, config=config_of(self.wanted["syncs"][sync.name])
            ):
                if item is not None and ("syncs", sync.name) in self.changes:
                    path = sync_subject_path(problem.subject, item, problem.code)
                    problems.append(object_problem("syncs", item, path, problem.message))
                elif model_item is not None:
                    message = f"the sync “{sync.name}” can no longer run on this SQL: {problem.message}"
                    problems.append(object_problem("models", model_item, ("sql",), message))
        if problems:
            raise DocumentInvalid(problems)
