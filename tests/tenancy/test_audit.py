"""The audit trail: every change made through the dashboard, the API or `syncline apply` is recorded once,
by the services all three go through, with who made it, through what, and the fields old → new; a
secret is recorded as changed, never with a value; each object's page shows its own history only."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.api.services import api_key_create
from apps.connections.services import connection_delete, connection_disconnect
from apps.models.services import sql_model_delete, sql_model_set_unique_columns
from apps.syncs.services import sync_delete
from apps.tenancy.audit import SECRET_CHANGED, audit_as
from apps.tenancy.models import AuditEvent, AuditVia, Role
from tests.api.conftest import ApiClient
from tests.api.test_syncs_api import new_sync
from tests.ascode.test_syncs_as_code import _export_text, _populate, _warehouse, _write
from tests.connections.test_secret_follows_host import STORED, edit, edit_form, saved
from tests.factories import IntercomConnectionFactory, MembershipFactory, SqlModelFactory, SyncFactory

pytestmark = pytest.mark.django_db


def events(workspace, kind=None):
    rows = AuditEvent.objects.for_workspace(workspace).order_by("id")
    return list(rows.filter(object_kind=kind) if kind else rows)


def test_a_password_changed_in_the_dashboard_is_recorded_as_changed_never_with_its_value(
    owner_client, workspace, owner
):
    connection = saved(workspace, port=1)  # nothing listens there: saved untested
    data = edit_form(connection, port="2", password="brand-new-secret-8812", save_untested="on")
    assert edit(owner_client, workspace, connection, data).status_code == 302

    (event,) = events(workspace, "connection")
    assert (event.via, event.actor, event.actor_label) == (AuditVia.DASHBOARD, owner, owner.email)
    assert (event.action, event.object_id, event.object_name) == ("changed", connection.pk, "Analytics")
    assert event.changes == {"port": [1, 2], "password (secret)": [SECRET_CHANGED, SECRET_CHANGED]}
    stored = json.dumps(event.changes) + event.object_name + event.actor_label
    assert "brand-new-secret-8812" not in stored and STORED not in stored

    page = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "History" in page and "1 → 2" in page and "changed (not shown)" in page
    assert "brand-new-secret-8812" not in page and STORED not in page


def test_a_pause_in_the_dashboard_is_shown_on_the_sync_page(owner_client, workspace, owner):
    sync = SyncFactory(workspace=workspace, name="Users")
    owner_client.post(reverse("sync_pause", args=[workspace.slug, sync.pk]), {"paused": "1"})

    (event,) = events(workspace, "sync")
    assert (event.via, event.actor, event.changes) == (AuditVia.DASHBOARD, owner, {"paused": [False, True]})
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    history = page[page.index('id="history"') :]
    assert (
        owner.email in history
        and "via the dashboard" in history
        and "paused</code>:\n          no → yes" in history
    )
    assert "<time datetime=" in history  # the house's date tag


def test_a_change_and_a_deletion_through_the_api_name_the_key(workspace, owner):
    api = ApiClient(api_key_create(workspace=workspace, user=owner, name="Airflow")[1])
    model = SqlModelFactory(
        workspace=workspace,
        name="Users",
        columns=[{"name": n, "db_type": "VARCHAR", "kind": "string"} for n in ("id", "email", "name", "plan", "signed_up")],
    )  # fmt: skip
    destination = IntercomConnectionFactory(workspace=workspace)
    created = api.post("/api/v1/syncs", new_sync(model, destination))
    sync_id = created.json()["id"]
    assert api.patch(f"/api/v1/syncs/{sync_id}", {"name": "Renamed", "key_column": "id"}).status_code == 200
    assert api.delete(f"/api/v1/syncs/{sync_id}").status_code in (200, 204)

    create, change, delete = events(workspace, "sync")
    for event in (create, change, delete):
        assert event.via == AuditVia.API and event.actor is None
        assert event.actor_label.startswith("API key “Airflow”") and event.object_id == sync_id
    assert create.action == "created" and create.changes["name"] == [None, "Users to Intercom"]
    assert change.changes["name"] == ["Users to Intercom", "Renamed"]
    assert change.changes["key_column"] == ["email", "id"] and "mappings" not in change.changes
    assert (delete.action, delete.object_name, delete.changes) == ("deleted", "Renamed", {})


def test_apply_records_each_change_as_the_member_applying(workspace, owner, tmp_path):
    _populate(workspace, owner, _warehouse(tmp_path))
    AuditEvent.objects.for_workspace(workspace).delete()
    text = _export_text(workspace)
    assert text.count("rejected_threshold_percent: 10") == 1
    path = _write(tmp_path, text.replace("rejected_threshold_percent: 10", "rejected_threshold_percent: 25"))
    call_command("syncline", "apply", str(path), "--user", owner.email, stdout=io.StringIO())

    (event,) = events(workspace)
    assert (event.via, event.actor, event.actor_label) == (AuditVia.APPLY, owner, owner.email)
    assert event.object_kind == "sync" and event.changes == {"alerts.rejected_threshold": [10, 25]}
    # applying the same file again changes nothing, and so records nothing
    call_command("syncline", "apply", str(path), "--user", owner.email, stdout=io.StringIO())
    assert len(events(workspace)) == 1


def test_every_service_that_changes_an_object_records_it(workspace, owner, tmp_path):
    """The services the dashboard, the API and apply share: leaving the record out of any one fails here."""
    _populate(workspace, owner, _warehouse(tmp_path))
    recorded = {(e.object_kind, e.object_name, e.action, tuple(sorted(e.changes))) for e in events(workspace)}
    kinds = {(kind, name, action) for kind, name, action, _ in recorded}
    assert ("connection", "yes", "created") in kinds  # source_connection_save
    assert ("model", "Users: ‘all’ = no", "created") in kinds  # sql_model_save
    assert ("model", "Users: ‘all’ = no", "changed", ("unique_columns",)) in recorded
    assert ("sync", "Companies", "created") in kinds  # sync_save
    assert ("sync", "Forget users", "changed", ("paused",)) in recorded  # sync_set_paused
    assert any(k == "sync" and n == "Companies" and "schedule_kind" in c for k, n, _, c in recorded)
    assert any(k == "sync" and "alerts.rejected_threshold" in c for k, _, _, c in recorded)
    assert any(k == "workspace" and "alerts.extra_emails" in c for k, _, _, c in recorded)
    every = {e.via for e in events(workspace)}
    assert every == {AuditVia.SYSTEM}  # no request, no apply: Syncline itself

    sync = SyncFactory(workspace=workspace, name="Doomed")
    model = SqlModelFactory(workspace=workspace, name="Doomed model")
    with audit_as(via=AuditVia.APPLY, user=owner):
        sync_delete(workspace=workspace, sync=sync)
        sql_model_delete(workspace=workspace, model=model)
        connection_delete(workspace=workspace, connection=model.source)
    deleted = [(e.object_kind, e.object_name, e.via) for e in events(workspace) if e.action == "deleted"]
    assert deleted == [
        ("sync", "Doomed", AuditVia.APPLY),
        ("model", "Doomed model", AuditVia.APPLY),
        ("connection", model.source.name, AuditVia.APPLY),
    ]


def test_a_page_shows_its_own_workspaces_history_only(owner_client, workspace, owner):
    sync = SyncFactory(workspace=workspace, name="Mine")
    other = MembershipFactory(role=Role.OWNER).workspace
    AuditEvent.objects.create(
        workspace=other, via=AuditVia.API, actor_label="Intruder key", object_kind="sync",
        object_id=sync.pk, object_name="Theirs", action="changed", changes={"name": ["x", "leaked-value"]},
    )  # fmt: skip
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    assert "leaked-value" not in page and "Intruder key" not in page
    assert "No change recorded yet." in page


def test_the_model_and_connection_pages_show_their_history(owner_client, workspace, owner):
    model = SqlModelFactory(
        workspace=workspace,
        columns=[{"name": n, "db_type": "VARCHAR", "kind": "string"} for n in ("id", "email")],
    )
    destination = IntercomConnectionFactory(workspace=workspace, config={"region": "US"})
    with audit_as(via=AuditVia.API, label="API key “dbt Cloud”"):
        sql_model_set_unique_columns(workspace=workspace, model=model, unique_columns=["email"])
    with audit_as(via=AuditVia.DASHBOARD, user=owner):
        connection_disconnect(workspace=workspace, connection=destination)

    model_page = owner_client.get(reverse("model_edit", args=[workspace.slug, model.pk])).content.decode()
    history = model_page[model_page.index('id="history"') :]
    assert "API key “dbt Cloud”" in history and '(none) → ["email"]' in history.replace("&quot;", '"')
    page = owner_client.get(
        reverse("intercom_detail", args=[workspace.slug, destination.pk])
    ).content.decode()
    history = page[page.index('id="history"') :]
    assert owner.email in history and "access_token</code>:" in history and "changed (not shown)" in history
