"""Syncs as code: export → apply → export is byte-identical, plan after apply is empty, plan lists exactly
the changes, an invalid file changes nothing and is reported at its line, dirty values round-trip."""

from __future__ import annotations

import io
import json
import re
from datetime import time
from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.alerts.services import sync_alert_settings_save, workspace_alert_settings_save
from apps.ascode import document as documents
from apps.ascode.apply import StalePlan, apply
from apps.ascode.plan import ABSENT, CREATE, DELETE, UPDATE, FieldChange, make_plan
from apps.ascode.state import export_document
from apps.ascode.yamlio import dump
from apps.connections.models import Connection
from apps.connections.services import source_connection_save
from apps.models.dbt.services import dbt_manifest_upload, dbt_model_use
from apps.models.models import DbtModel, SqlModel
from apps.models.services import sql_model_save, sql_model_set_unique_columns
from apps.syncs.models import Sync
from apps.syncs.schedules.compute import Schedule, ScheduleKind
from apps.syncs.schedules.services import sync_schedule_set
from apps.syncs.services import sync_save, sync_set_paused
from apps.tenancy.models import AuditEvent, Role
from tests.conftest import member_of
from tests.factories import IntercomConnectionFactory, MembershipFactory, SyncFactory
from tests.models.dbt_manifests import CUSTOMERS, build_warehouse, manifest_bytes, project_models

# Values a YAML 1.1 reader, a spreadsheet or a template would take for something else.
DIRTY = [
    "yes",
    "no",
    "null",
    "0x1",
    "0o17",
    "1e3",
    ".inf",
    "=",
    '=HYPERLINK("x")',
    "09:00",
    "~",
    'it\'s "quoted"',
    "Ünïcødé ✓ 名前",
]


def _warehouse(tmp_path: Path) -> str:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE users (id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, signed_up BIGINT, "
            "company_id VARCHAR, event_id VARCHAR, happened_at TIMESTAMP, kind VARCHAR)"
        )
        conn.execute(
            "INSERT INTO users VALUES (1, 'a@example.com', 'Ann', 'pro', 1700000000000, 'c1', 'e1', "
            "'2024-01-01 10:00', 'signed_up')"
        )
    return str(path)


def _populate(workspace, owner, path: str) -> None:
    """A workspace with one of every kind of object, made through the dashboard's services."""
    destination = IntercomConnectionFactory(
        workspace=workspace, name="Intercom “EU”", config={"region": "EU"}
    )
    source = source_connection_save(
        workspace=workspace, user=owner, name="yes", type_key="duckdb", values={"path": path}, tested=None
    )
    sql = "SELECT id, email, name, plan, signed_up, company_id, event_id, happened_at, kind\nFROM users\n"
    users = sql_model_save(
        workspace=workspace, user=owner, name="Users: ‘all’ = no", description="null", source=source,
        sql=sql, primary_key="id",
    )  # fmt: skip
    sql_model_set_unique_columns(workspace=workspace, model=users, unique_columns=["email"])
    other = sql_model_save(
        workspace=workspace, user=owner, name="0x1", description="", source=source,
        sql="SELECT company_id, name FROM users", primary_key="company_id",
    )  # fmt: skip
    _load_dbt(workspace, owner, source)
    customers = dbt_model_use(
        workspace=workspace, user=owner, name="Customers (dbt) ✓", primary_key="customer_id",
        description="From dbt: null", dbt_model=DbtModel.objects.for_workspace(workspace).get(name=CUSTOMERS),
    )  # fmt: skip
    contacts = sync_save(
        workspace=workspace, user=owner, name="=cmd|' /C calc'!A0", model=users, destination=destination,
        object_key="contact", behavior="upsert", key_column="email", key_identifier="email",
        mappings=[
            {"target": "name", "field_type": "string", "column": "name", "on_null": "clear"},
            {"target": "signed_up_at", "field_type": "date", "column": "signed_up", "unit": "milliseconds"},
            {"target": "plan", "field_type": "string", "column": "plan", "custom": True},
            *({"target": f"dirty_{i}", "field_type": "string", "constant": v, "custom": True} for i, v in enumerate(DIRTY)),
        ],
        options={"company_id_column": "company_id"},
    )  # fmt: skip
    sync_save(
        workspace=workspace, user=owner, name="dbt customers", model=customers, destination=destination,
        object_key="contact", behavior="upsert", key_column="email", key_identifier="email",
        mappings=[{"target": "name", "field_type": "string", "column": "full_name"}], options={},
    )  # fmt: skip
    companies = sync_save(
        workspace=workspace, user=owner, name="Companies", model=other, destination=destination,
        object_key="company", behavior="upsert", key_column="company_id", key_identifier="company_id",
        mappings=[{"target": "name", "field_type": "string", "column": "name"}], options={},
    )  # fmt: skip
    events = sync_save(
        workspace=workspace, user=owner, name="Events ✓", model=users, destination=destination,
        object_key="event", behavior="send", key_column="event_id", key_identifier="event_id", mappings=[],
        options={"event": {"contact_column": "email", "contact_key": "email", "created_at_column": "happened_at",
                           "event_name_column": "kind", "metadata_columns": ["plan", "name"], "first_run": "skip_existing"}},
    )  # fmt: skip
    deleted = sync_save(
        workspace=workspace, user=owner, name="Forget users", model=users, destination=destination,
        object_key="contact", behavior="delete", key_column="email", key_identifier="email", mappings=[],
        options={"permanent_delete": True},
    )  # fmt: skip
    sync_set_paused(workspace=workspace, sync=deleted, paused=True)
    sync_schedule_set(
        workspace=workspace, sync=companies,
        schedule=Schedule(kind=ScheduleKind.WEEKLY, timezone="Europe/Paris", weekday=2, at=time(9, 30)),
    )  # fmt: skip
    sync_schedule_set(
        workspace=workspace,
        sync=contacts,
        schedule=Schedule(kind=ScheduleKind.CRON, cron="*/15 9-17 * * 1-5"),
    )
    sync_schedule_set(
        workspace=workspace, sync=events, schedule=Schedule(kind=ScheduleKind.AFTER_SYNC), after=contacts
    )
    sync_alert_settings_save(
        workspace=workspace, sync=contacts, enabled=True, use_workspace_recipients=False, member_ids=[owner.pk],
        extra_emails=["oncall@example.com"], rejected_threshold=10, max_duration_minutes=30,
    )  # fmt: skip
    sync_alert_settings_save(workspace=workspace, sync=companies, enabled=False)
    workspace_alert_settings_save(
        workspace=workspace, member_ids=[owner.pk], extra_emails=["data@example.com"]
    )


def _load_dbt(workspace, owner, source) -> None:
    """The dbt project's relations in the warehouse file and its manifest loaded on the source (as the
    dashboard or `dbt_manifest_load` does: never by a file)."""
    catalog = build_warehouse(Path(source.config["path"]))
    content = manifest_bytes(project_models(catalog))
    dbt_manifest_upload(workspace=workspace, user=owner, source=source, content=content)


def _export_text(workspace) -> str:
    out = io.StringIO()
    call_command("syncline", "export", workspace.slug, stdout=out)
    return out.getvalue()


def _write(tmp_path: Path, text: str, name: str = "workspace.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _plan_exit(path: Path, workspace) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("syncline", "plan", str(path), "--workspace", workspace.slug, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def populated(workspace, owner, tmp_path):
    _populate(workspace, owner, _warehouse(tmp_path))
    return workspace


@pytest.fixture
def empty(owner, tmp_path):
    """Another workspace of the same owner, with only its Intercom account connected (OAuth happens in
    the dashboard: a file names it), and its warehouse's dbt manifest loaded (the files name dbt models,
    they never load a manifest)."""
    target = MembershipFactory(user=owner, role=Role.OWNER).workspace
    IntercomConnectionFactory(workspace=target, name="Intercom “EU”", config={"region": "EU"})
    path = tmp_path / "warehouse.duckdb"
    if not path.exists():
        _warehouse(tmp_path)
    source = source_connection_save(
        workspace=target, user=owner, name="yes", type_key="duckdb", values={"path": str(path)}, tested=None
    )
    _load_dbt(target, owner, source)
    return target


@pytest.mark.embedded
def test_round_trip_is_byte_identical_and_plan_after_apply_is_empty(populated, empty, tmp_path):
    exported = _export_text(populated)
    assert exported.startswith("# yaml-language-server: $schema=http")
    for kind in ("sources:", "destinations:", "models:", "syncs:", "alerts:"):
        assert kind in exported
    assert "  dbt:\n    project: 'yes'\n    model: model.jaffle_shop.customers\n" in exported
    assert "token" not in exported  # no secret, no id
    path = _write(tmp_path, exported.replace(f"workspace: {populated.slug}", f"workspace: {empty.slug}"))

    assert _plan_exit(path, empty)[0] == 2
    out = io.StringIO()
    call_command("syncline", "apply", str(path), stdout=out)
    assert out.getvalue().endswith("\n\nApplied: 8 created, 1 changed, 0 deleted.\n")

    again = _export_text(empty)
    assert again == exported.replace(f"workspace: {populated.slug}", f"workspace: {empty.slug}")
    assert _plan_exit(path, empty) == (0, _plan_exit(path, empty)[1])
    assert "No changes" in _plan_exit(path, empty)[1]
    # applied again: idempotent, nothing saved
    before = {s.name: s.updated_at for s in Sync.objects.for_workspace(empty)}
    call_command("syncline", "apply", str(path), stdout=io.StringIO())
    assert {s.name: s.updated_at for s in Sync.objects.for_workspace(empty)} == before


def test_the_export_is_deterministic_and_reads_back_as_written(populated, tmp_path):
    first = _export_text(populated)
    assert first == _export_text(populated)
    document = documents.read(_write(tmp_path, first))
    constants = [m.get("constant") for m in document.objects["syncs"]["=cmd|' /C calc'!A0"]["mappings"]]
    assert [c for c in constants if c is not None] == DIRTY
    assert set(document.objects["models"]) == {"Users: ‘all’ = no", "0x1", "Customers (dbt) ✓"}
    assert document.objects["models"]["Users: ‘all’ = no"]["description"] == "null"
    dbt = document.objects["models"]["Customers (dbt) ✓"]
    assert "sql" not in dbt and "source" not in dbt
    assert dbt["dbt"] == {"project": "yes", "model": "model.jaffle_shop.customers"}
    assert set(document.objects["sources"]) == {"yes"}


def test_export_to_a_folder_reads_back_as_one_document(populated, empty, tmp_path):
    folder = tmp_path / "ws"
    call_command("syncline", "export", populated.slug, "--output", f"{folder}/", stderr=io.StringIO())
    assert sorted(p.name for p in folder.iterdir()) == [
        "alerts.yml", "destinations.yml", "models.yml", "sources.yml", "syncs.yml",
    ]  # fmt: skip
    apply(documents.read(folder), empty)
    assert export_document(empty) | {"workspace": populated.slug} == export_document(populated)


def test_plan_on_a_changed_file_lists_exactly_the_changes(populated, tmp_path):
    document = export_document(populated)
    syncs = {s["name"]: s for s in document["syncs"]}
    syncs["Companies"]["mappings"][0]["column"] = "company_id"
    syncs["Companies"]["schedule"]["at"] = "10:00"
    syncs["Events ✓"]["paused"] = True
    document["syncs"] = [s for s in document["syncs"] if s["name"] != "Forget users"]
    document["models"][0]["description"] = "Companies, one a row"
    new = dict(syncs["Companies"], name="Companies again", schedule={"kind": "manual"})
    new.pop("alerts")
    document["syncs"].append(new)
    plan = make_plan(documents.read(_write(tmp_path, dump(document))), populated)

    assert [(c.action, c.kind, c.name) for c in plan.changes] == [
        (UPDATE, "models", "0x1"),
        (UPDATE, "syncs", "Companies"),
        (CREATE, "syncs", "Companies again"),
        (UPDATE, "syncs", "Events ✓"),
        (DELETE, "syncs", "Forget users"),
    ]
    changes = {c.name: c for c in plan.changes}
    assert changes["0x1"].fields == (FieldChange("description", "", "Companies, one a row"),)
    assert changes["Companies"].fields == (
        FieldChange("mappings[name].column", "name", "company_id"),
        FieldChange("schedule.at", "09:30", "10:00"),
    )
    assert changes["Events ✓"].fields == (FieldChange("paused", False, True),)
    created = {f.path: (f.old, f.new) for f in changes["Companies again"].fields}
    assert created["sync_key.column"] == (ABSENT, "company_id") and created["schedule.kind"] == (
        ABSENT,
        "manual",
    )
    text = plan.text()
    assert '~ update sync “Companies”\n    mappings[name].column: "name" → "company_id"' in text
    assert "- delete sync “Forget users”" in text
    assert "Plan: 1 to create, 3 to change, 1 to delete." in text


def test_apply_makes_exactly_the_planned_changes(populated, tmp_path):
    document = export_document(populated)
    syncs = {s["name"]: s for s in document["syncs"]}
    syncs["Companies"]["schedule"] = {"kind": "interval", "every_minutes": 30, "timezone": "UTC"}
    document["syncs"] = [s for s in document["syncs"] if s["name"] != "Forget users"]
    path = _write(tmp_path, dump(document))
    apply(documents.read(path), populated)
    companies = Sync.objects.for_workspace(populated).get(name="Companies")
    assert (companies.schedule_kind, companies.schedule_every_minutes) == ("interval", 30)
    assert companies.next_run_at is not None
    assert not Sync.objects.for_workspace(populated).filter(name="Forget users").exists()
    assert _plan_exit(path, populated)[0] == 0


@pytest.mark.embedded
def test_an_invalid_file_changes_nothing_and_names_the_file_line_and_field(populated, tmp_path):
    before = export_document(populated)
    text = _export_text(populated)
    # a column the model does not return, on a line we can find
    broken = text.replace("column: signed_up\n", "column: signed_upp\n", 1)
    path = _write(tmp_path, broken)
    line = broken.splitlines().index("    column: signed_upp") + 1
    with pytest.raises(CommandError) as refused:
        call_command("syncline", "apply", str(path), stdout=io.StringIO())
    message = str(refused.value)
    assert f"{path}:{line}: sync “=cmd|' /C calc'!A0”, mappings[1].column: Column “signed_upp”" in message
    assert export_document(populated) == before


def test_an_invalid_file_with_a_valid_part_applies_no_part(populated, tmp_path):
    before = export_document(populated)
    document = export_document(populated)
    document["models"][0]["description"] = "changed"  # valid …
    document["syncs"][0]["behavior"] = "send"  # … and refused by the sync's rules (companies cannot be sent)
    path = _write(tmp_path, dump(document))
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(path), populated)
    assert "cannot use “Send”" in str(refused.value)
    assert export_document(populated) == before


def test_apply_refuses_sql_that_drops_a_column_a_sync_reads(populated, tmp_path):
    document = export_document(populated)
    document["models"][0]["sql"] = "SELECT company_id FROM users"
    path = _write(tmp_path, dump(document))
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(path), populated)
    assert "model “0x1”, sql: the sync “Companies” can no longer run on this SQL" in str(refused.value)
    assert SqlModel.objects.for_workspace(populated).get(name="0x1").sql.startswith("SELECT company_id, name")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: syncline/v2\n", "x.yml:1: version: must be 'syncline/v1', not 'syncline/v2'"),
        ("version: syncline/v1\nsyncs:\n  - name: S\n    modle: M\n", "x.yml:4: sync “S”, modle: “modle” is not expected here"),
        ("version: syncline/v1\nmodels:\n  - name: M\n    source: nowhere\n    sql: SELECT 1 AS id\n    primary_key: id\n",
         "x.yml:4: model “M”, source: there is no source “nowhere” in these files"),
        ("version: syncline/v1\nsyncs:\n  - {name: S, model: M, destination: I, object: company, behavior: upsert,\n     sync_key: {column: id, identifier: company_id}, schedule: {kind: daily, at: '25:00'}}\n",
         "x.yml:4: sync “S”, schedule.at: '25:00' is not in the form HH:MM"),
        ("version: syncline/v1\nversion: syncline/v1\n", "x.yml:2: “version” is given twice"),
        ("version: syncline/v1\nsources: [\n", "x.yml:3: is not valid YAML"),
        ("version: syncline/v1\nmodels:\n  - name: ' padded'\n", "x.yml:3: model “ padded”, name: must not be empty nor start or end"),
        ("version: syncline/v1\nsources:\n  - name: W\n    type: postgres\n    config: {host: h, database: d, user: u, port: 0x10000}\n",
         "x.yml:5: source “W”, config.port"),
        ("version: syncline/v1\nsources:\n  - name: W\n    type: postgres\n    config:\n      host: h\n      password: hunter2\n",
         "x.yml:7: source “W”, config.password: “password” is a secret: never write it in a file"),
    ],
)  # fmt: skip
def test_validate_names_the_line(tmp_path, text, expected):
    path = _write(tmp_path, text, "x.yml")
    with pytest.raises(CommandError) as refused:
        call_command("syncline", "validate", str(path))
    assert expected in str(refused.value).replace(str(tmp_path) + "/", "")


def test_validate_checks_sync_rules_without_the_database(tmp_path):
    text = """version: syncline/v1
sources: [{name: W, type: duckdb, config: {path: /tmp/x.duckdb}}]
destinations: [{name: I, type: intercom}]
models: [{name: M, source: W, sql: SELECT 1 AS id, primary_key: id}]
syncs:
  - name: S
    model: M
    destination: I
    object: company
    behavior: upsert
    sync_key: {column: id, identifier: email}
    schedule: {kind: daily, at: "09:00", every_minutes: 5, timezone: Mars/Olympus}
"""
    with pytest.raises(CommandError) as refused:
        call_command("syncline", "validate", str(_write(tmp_path, text, "x.yml")))
    message = str(refused.value).replace(str(tmp_path) + "/", "")
    assert "x.yml:11: sync “S”, sync_key.identifier: Company records cannot be matched on “email”" in message
    assert "x.yml:12: sync “S”, schedule.timezone: “Mars/Olympus” is not a time zone" in message
    assert "“every_minutes” does not apply to a daily schedule" in message
    out = io.StringIO()
    call_command(
        "syncline",
        "validate",
        str(
            _write(
                tmp_path,
                text.replace("email}", "company_id}").replace(
                    ", every_minutes: 5, timezone: Mars/Olympus", ""
                ),
                "y.yml",
            )
        ),
        stdout=out,
    )
    assert out.getvalue().startswith("Valid: 1 sources, 1 destinations, 1 models, 1 syncs")


def test_apply_with_expect_refuses_a_stale_plan(populated, tmp_path):
    document = export_document(populated)
    document["models"][0]["description"] = "planned"
    path = _write(tmp_path, dump(document))
    plan = make_plan(documents.read(path), populated)
    # someone changes the workspace between plan and apply
    Sync.objects.for_workspace(populated).filter(name="Companies").update(paused=True)
    with pytest.raises(StalePlan):
        apply(documents.read(path), populated, expect=plan.fingerprint)
    assert SqlModel.objects.for_workspace(populated).get(name="0x1").description == ""
    fresh = make_plan(documents.read(path), populated)
    apply(documents.read(path), populated, expect=fresh.fingerprint)
    assert SqlModel.objects.for_workspace(populated).get(name="0x1").description == "planned"


def test_source_credentials_come_from_the_environment_or_the_dashboard(workspace, tmp_path, monkeypatch):
    text = """version: syncline/v1
sources:
  - name: Warehouse
    type: postgres
    config: {host: 127.0.0.1, database: postgres, user: postgres, sslmode: disable}
    credentials: {password: {env: WAREHOUSE_PASSWORD}}
"""
    path = _write(tmp_path, text)
    with pytest.raises(documents.DocumentInvalid) as refused:
        make_plan(documents.read(path), workspace, environ={})
    assert "credentials.password.env: the environment variable WAREHOUSE_PASSWORD is not set" in str(
        refused.value
    )
    apply(documents.read(path), workspace, environ={"WAREHOUSE_PASSWORD": "s3cret"})
    connection = Connection.objects.for_workspace(workspace).get(name="Warehouse")
    assert connection.credentials == {"password": "s3cret"} and "password" not in connection.config
    assert make_plan(documents.read(path), workspace, environ={"WAREHOUSE_PASSWORD": "s3cret"}).changes == []
    changed = make_plan(documents.read(path), workspace, environ={"WAREHOUSE_PASSWORD": "n3w"})
    assert [str(f.path) for f in changed.changes[0].fields] == ["credentials.password"]
    assert "n3w" not in changed.text() and "s3cret" not in changed.text()
    # from the dashboard: the stored password stays, but never goes to another host
    dashboard = _write(
        tmp_path, text.replace("{password: {env: WAREHOUSE_PASSWORD}}", "{from: dashboard}"), "d.yml"
    )
    assert make_plan(documents.read(dashboard), workspace).changes == []
    moved = _write(tmp_path, dashboard.read_text().replace("127.0.0.1", "db.example.com"), "m.yml")
    with pytest.raises(documents.DocumentInvalid) as refused:
        make_plan(documents.read(moved), workspace)
    assert "d.yml" not in str(
        refused.value
    ) and "source “Warehouse”, credentials: Enter the password again" in str(refused.value)


def test_a_new_source_cannot_take_its_credentials_from_the_dashboard(workspace, tmp_path):
    text = "version: syncline/v1\nsources:\n  - name: W\n    type: postgres\n    config: {host: h, database: d, user: u}\n    credentials: {from: dashboard}\n"
    with pytest.raises(documents.DocumentInvalid) as refused:
        make_plan(documents.read(_write(tmp_path, text)), workspace)
    assert ":6: source “W”, credentials: a new source cannot take its credentials from the dashboard" in str(
        refused.value
    )


def test_a_missing_destination_must_be_connected_in_the_dashboard(workspace, tmp_path):
    text = "version: syncline/v1\ndestinations:\n  - name: Intercom\n    type: intercom\n"
    with pytest.raises(documents.DocumentInvalid) as refused:
        make_plan(documents.read(_write(tmp_path, text)), workspace)
    assert ":3: destination “Intercom”, name: no Intercom account of this name is connected" in str(
        refused.value
    )


def test_tenancy_the_file_reaches_only_its_workspace(populated, owner, tmp_path):
    """Names resolve inside the target workspace only, and --user must be an editor there."""
    other = SyncFactory(name="Companies")  # same name, another workspace
    exported = _export_text(populated)
    path = _write(tmp_path, exported)
    viewer = member_of(populated, Role.VIEWER).user
    with pytest.raises(CommandError, match="is not an editor or owner"):
        call_command("syncline", "apply", str(path), "--user", viewer.email)
    with pytest.raises(CommandError, match="There is no workspace “nope”"):
        call_command("syncline", "plan", str(path), "--workspace", "nope")
    out = io.StringIO()
    call_command("syncline", "apply", str(path), "--user", owner.email, stdout=out)
    assert out.getvalue().endswith("No changes: the workspace matches the files.\n")
    other.refresh_from_db()
    assert other.model.name != "0x1" and other.schedule_kind == "manual"


def test_the_schema_is_served_and_written(client, tmp_path):
    response = client.get("/schema/syncline-v1.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["properties"]["version"] == {"const": "syncline/v1"}
    target = tmp_path / "schema.json"
    call_command("syncline", "schema", "--output", str(target))
    assert json.loads(target.read_text()) == schema


def test_the_readme_example_is_valid(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Syncs as code", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    call_command("syncline", "validate", str(_write(tmp_path, example)), stdout=out)
    assert out.getvalue().startswith("Valid: 1 sources, 1 destinations, 1 models, 1 syncs")


def _exit_code(*argv: str) -> int:
    """The exit code `manage.py syncline …` ends with (through Django's own command-line handling, less its
    closing of the database connections, which the test's transaction still needs)."""
    from unittest import mock

    from django.core.management import ManagementUtility

    try:
        with mock.patch("django.db.connections.close_all"):
            ManagementUtility(["manage.py", "syncline", *argv]).execute()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_exit_codes_of_plan(populated, tmp_path, capsys):
    path = _write(tmp_path, _export_text(populated))
    assert _exit_code("plan", str(path)) == 0
    path.write_text(path.read_text().replace("paused: true", "paused: false"))
    assert _exit_code("plan", str(path)) == 2
    assert "paused: true → false" in capsys.readouterr().out
    path.write_text(path.read_text().replace("behavior: delete", "behavior: explode"))
    assert _exit_code("plan", str(path)) == 1
    assert "'explode' is not one of: upsert, update_only, delete, send" in capsys.readouterr().err


def test_alerts_follow_the_dashboard_forms_rules(populated, owner, tmp_path):
    before = export_document(populated)
    text = _export_text(populated)
    # a member's email in another case is the same member; an address the form refuses is refused here
    assert f"      - {owner.email}" in text
    changed = text.replace("      - oncall@example.com", "      - not-an-address").replace(
        f"      - {owner.email}", f"      - {owner.email.upper()}", 1
    )
    path = _write(tmp_path, changed)
    line = changed.splitlines().index("      - not-an-address")
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(path), populated)
    assert (
        f":{line}: sync “=cmd|' /C calc'!A0”, alerts.recipients.emails: “not-an-address” is not an email address"
        in str(refused.value)
    )
    assert export_document(populated) == before
    fixed = _write(tmp_path, changed.replace("not-an-address", "OnCall@Example.com"), "fixed.yml")
    assert make_plan(documents.read(fixed), populated).changes == []


def test_the_schema_is_a_valid_json_schema_and_accepts_every_export(populated):
    from jsonschema import Draft202012Validator

    from apps.ascode.schema import document_schema

    Draft202012Validator.check_schema(document_schema())
    assert list(Draft202012Validator(document_schema()).iter_errors(export_document(populated))) == []


def test_a_name_given_twice_across_files_names_both_places(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    model = "models:\n  - {name: M, source: W, sql: SELECT 1 AS id, primary_key: id}\n"
    (folder / "a.yml").write_text(
        "version: syncline/v1\nsources: [{name: W, type: duckdb, config: {path: x.duckdb}}]\n" + model
    )
    (folder / "b.yml").write_text("version: syncline/v1\n\n" + model)
    with pytest.raises(documents.DocumentInvalid) as refused:
        documents.read(folder)
    assert str(refused.value) == f"{folder}/b.yml:4: model “M”, name: is also the name at {folder}/a.yml:4"


def test_objects_left_out_of_the_files_are_deleted_destinations_never(populated, tmp_path):
    document = export_document(populated)
    document["syncs"] = [s for s in document["syncs"] if s["model"] != "0x1"]
    document["models"] = [m for m in document["models"] if m["name"] not in ("0x1", "Customers (dbt) ✓")]
    document["destinations"] = []
    document["syncs"] = []
    plan = make_plan(documents.read(_write(tmp_path, dump(document))), populated)
    assert {(c.action, c.kind) for c in plan.changes} == {(DELETE, "syncs"), (DELETE, "models")}
    apply(documents.read(_write(tmp_path, dump(document))), populated)
    assert not Sync.objects.for_workspace(populated).exists()
    assert list(SqlModel.objects.for_workspace(populated).values_list("name", flat=True)) == [
        "Users: ‘all’ = no"
    ]
    assert Connection.objects.for_workspace(populated).filter(kind="destination").count() == 1


@pytest.mark.postgres_only(reason="row locks: SQLite locks the whole file, and not with SELECT … FOR UPDATE")
@pytest.mark.django_db(transaction=True)
def test_apply_waits_for_the_workspace_lock_then_plans_again(workspace, owner, tmp_path):
    """An apply holds the workspace's rows from its plan to its commit: a second apply (or a dashboard save
    of a locked row) waits, then plans against what the first one left."""
    import threading

    from django.db import connection, transaction

    from apps.ascode.plan import locked_workspace

    _populate(workspace, owner, _warehouse(tmp_path))
    document = export_document(workspace)
    document["models"][0]["description"] = "second"
    path = _write(tmp_path, dump(document))
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                locked_workspace(workspace)
                Sync.objects.for_workspace(workspace).filter(name="Companies").update(paused=True)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def second_apply():
        try:
            apply(documents.read(path), workspace)
            done.set()
        finally:
            connection.close()

    holder, applier = threading.Thread(target=hold_lock), threading.Thread(target=second_apply)
    holder.start()
    assert locked.wait(10)
    applier.start()
    assert not done.wait(1.5), "apply went on while another transaction held the workspace"
    release.set()
    holder.join(10)
    applier.join(20)
    assert done.is_set()
    assert SqlModel.objects.for_workspace(workspace).get(name="0x1").description == "second"
    # planned after the first transaction's commit: its pause was seen, and undone as the file says
    assert Sync.objects.for_workspace(workspace).get(name="Companies").paused is False
    assert make_plan(documents.read(path), workspace).changes == []


def test_unique_columns_must_be_columns_of_the_model(populated, tmp_path):
    text = _export_text(populated).replace(
        "  unique_columns:\n  - email\n", "  unique_columns:\n  - e_mail\n"
    )
    path = _write(tmp_path, text)
    line = text.splitlines().index("  - e_mail")  # the line of `unique_columns:` (1-based)
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(path), populated)
    assert (
        f":{line}: model “Users: ‘all’ = no”, unique_columns: “e_mail” is not a column of this model"
        in str(refused.value)
    )
    assert SqlModel.objects.for_workspace(populated).get(name="Users: ‘all’ = no").unique_columns == ["email"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
         "is too large or too deeply nested"),
        ("version: syncline/v1\n1: x\n", "x.yml:2: a key must be text, not 1"),
        ("version: !!python/object:os.system x\n", "x.yml:1: the tag tag:yaml.org,2002:python/object:os.system is not supported"),
        ("- version\n", "x.yml: must be a mapping that starts with `version: syncline/v1`"),
    ],
)  # fmt: skip
def test_hostile_yaml_is_refused_with_its_line(tmp_path, text, expected):
    with pytest.raises(documents.DocumentInvalid) as refused:
        documents.read(_write(tmp_path, text, "x.yml"))
    assert expected in str(refused.value).replace(str(tmp_path) + "/", "")


def test_what_the_dashboard_refuses_is_refused_at_its_line(populated, owner, tmp_path):
    """Each refusal of a service or a check lands on the file's line, and nothing is saved."""
    before = export_document(populated)
    exported = _export_text(populated)
    cases = {
        "type: duckdb\n  config:\n": ("type: postgres\n  config: {host: h, database: d, user: u}\n  credentials: {from: dashboard}\n  ignored:\n",
                                      "source “yes”, type: a source's type cannot change"),
        "- name: 'yes'\n": ("- name: Intercom “EU”\n  # …\n", "“Intercom “EU””, name: is also the name at"),
        f"    members:\n    - {owner.email}\n    emails:\n    - data@example.com": (
            f"    members:\n    - {owner.email}\n    - stranger@example.com\n    emails:\n    - data@example.com",
            "alerts.recipients.members: stranger@example.com is not a member",
        ),
        "    path: ": ("    path: /nowhere/x.duckdb\n    # ", "source “yes”, config: the connection test failed"),
        "  sql: SELECT company_id, name FROM users": ("  sql: SELECT nope FROM users", "model “0x1”, sql:"),
        "    kind: manual": ("    kind: after_sync\n    after: Events ✓", "That would make a loop"),
    }  # fmt: skip
    for old, (new, expected) in cases.items():
        assert old in exported, old
        text = exported.replace(old, new, 1)
        if "ignored:" in new:  # the old config's lines go
            text = re.sub(r"  ignored:\n(    .*\n)+", "", text)
        if "name: Intercom" in new:  # the models now name a source that is a destination
            text = text.replace("source: 'yes'", "source: Intercom “EU”")
        if "after: Events ✓" in new:  # "Forget users" after "Events ✓", itself after the contacts sync…
            text = text.replace("    after: =cmd|' /C calc'!A0", "    after: Forget users")
        with pytest.raises(documents.DocumentInvalid) as refused:
            apply(documents.read(_write(tmp_path, text)), populated)
        assert expected in str(refused.value), (old, str(refused.value))
        assert ":None:" not in str(refused.value) and "workspace.yml:" in str(refused.value)
    assert export_document(populated) == before


def test_a_file_with_only_the_destination_empties_the_workspace(populated, tmp_path):
    text = f"version: syncline/v1\nworkspace: {populated.slug}\ndestinations:\n  - {{name: Intercom “EU”, type: intercom, region: EU}}\n"
    apply(documents.read(_write(tmp_path, text)), populated)
    assert export_document(populated)["sources"] == export_document(populated)["models"] == []
    assert Connection.objects.for_workspace(populated).count() == 1


def test_option_problems_point_at_the_option(tmp_path):
    text = """version: syncline/v1
sources: [{name: W, type: duckdb, config: {path: /tmp/x.duckdb}}]
destinations: [{name: I, type: intercom}]
models: [{name: M, source: W, sql: SELECT 1 AS id, primary_key: id}]
syncs:
  - name: Events
    model: M
    destination: I
    object: event
    behavior: send
    sync_key: {column: id, identifier: event_id}
    options:
      company_id_column: id
      event:
        contact_column: id
        created_at_column: id
        event_name: signed up
        event_name_column: id
"""
    with pytest.raises(CommandError) as refused:
        call_command("syncline", "validate", str(_write(tmp_path, text, "x.yml")))
    message = str(refused.value).replace(str(tmp_path) + "/", "")
    assert (
        "x.yml:13: sync “Events”, options.company_id_column: Only contact syncs can attach records" in message
    )
    assert (
        "x.yml:17: sync “Events”, options.event.event_name: Give the event name as a constant or as a column"
        in message
    )


# --- models reading a dbt model ----------------------------------------------------------------------

DBT_MODEL = """version: syncline/v1
sources:
  - name: 'yes'
    type: duckdb
    config: {{path: {path}}}
models:
  - name: From dbt
    dbt:
      project: 'yes'
      model: {model}
    primary_key: {key}
"""


def test_a_dbt_model_that_is_not_loaded_is_refused_at_its_line(populated, tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    before = _export_text(populated)
    file = _write(tmp_path, DBT_MODEL.format(path=path, model="model.jaffle_shop.nope", key="id"))
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(file), populated)
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.field) == (str(file), 10, "model “From dbt”, dbt.model")
    assert "no dbt model “model.jaffle_shop.nope” is loaded for the source “yes”" in problem.message
    assert "dbt_manifest_load" in problem.message
    assert _export_text(populated) == before  # nothing changed


def test_a_dbt_model_gone_from_the_manifest_is_refused(populated, owner, tmp_path):
    source = Connection.objects.for_workspace(populated).get(name="yes")
    dbt_manifest_upload(workspace=populated, user=owner, source=source, content=manifest_bytes([]))
    path = str(tmp_path / "warehouse.duckdb")
    file = _write(tmp_path, DBT_MODEL.format(path=path, model="customers", key="customer_id"))
    with pytest.raises(documents.DocumentInvalid, match="no longer in the last manifest loaded"):
        make_plan(documents.read(file), populated)


def test_a_dbt_model_is_created_by_name_and_relinked_through_the_dbt_services(populated, tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    file = _write(tmp_path, DBT_MODEL.format(path=path, model="customers", key="customer_id"))
    document = documents.read(file)
    plan = make_plan(document, populated)
    created = next(c for c in plan.changes if c.name == "From dbt")
    assert created.action == CREATE
    assert FieldChange("dbt.model", ABSENT, "model.jaffle_shop.customers") in created.fields
    apply(document, populated)
    model = SqlModel.objects.for_workspace(populated).get(name="From dbt")
    assert model.dbt_model.name == "customers" and model.column_names[0] == "customer_id"
    assert model.sql == 'SELECT * FROM "warehouse"."analytics"."customers"'
    # Named by its name or its unique_id: the same model, no change.
    by_id = _write(
        tmp_path, DBT_MODEL.format(path=path, model="model.jaffle_shop.customers", key="customer_id")
    )
    assert not [c for c in make_plan(documents.read(by_id), populated).changes if c.kind == "models"]

    # Re-linked to another dbt model: its SQL follows the new relation.
    orders = _write(tmp_path, DBT_MODEL.format(path=path, model="orders", key="order_id"))
    plan = make_plan(documents.read(orders), populated)
    (change,) = [c for c in plan.changes if c.name == "From dbt"]
    assert change.action == UPDATE
    assert (
        FieldChange("dbt.model", "model.jaffle_shop.customers", "model.jaffle_shop.orders") in change.fields
    )
    apply(documents.read(orders), populated)
    model.refresh_from_db()
    assert model.dbt_model.name == "orders" and model.column_names == ["order_id", "amount"]
    assert model.sql == 'SELECT * FROM "warehouse"."analytics"."order"'
    # The audit trail has the re-link's old and new SQL.
    event = (
        AuditEvent.objects.for_workspace(populated).filter(object_kind="model", object_id=model.pk).first()
    )
    assert event.changes["sql"] == [
        'SELECT * FROM "warehouse"."analytics"."customers"',
        'SELECT * FROM "warehouse"."analytics"."order"',
    ]


def test_the_schema_refuses_sql_beside_dbt_and_a_model_with_neither(tmp_path):
    both = """version: syncline/v1
models:
  - name: Both
    dbt: {project: w, model: customers}
    sql: SELECT 1
    primary_key: id
  - name: Neither
    primary_key: id
"""
    with pytest.raises(documents.DocumentInvalid) as refused:
        documents.read(_write(tmp_path, both))
    problems = {(p.line, p.field, p.message) for p in refused.value.problems}
    assert (
        5,
        "model “Both”, sql",
        "is not expected beside `dbt` (a dbt model's SQL and source are its relation's)",
    ) in problems
    assert (7, "model “Neither”", "“source” is required") in problems


def test_relinking_to_a_dbt_model_without_the_columns_a_sync_reads_changes_nothing(populated, tmp_path):
    before = _export_text(populated)
    text = before.replace("model: model.jaffle_shop.customers", "model: orders").replace(
        "primary_key: customer_id", "primary_key: order_id"
    )
    with pytest.raises(documents.DocumentInvalid) as refused:
        apply(documents.read(_write(tmp_path, text)), populated)
    messages = [str(p) for p in refused.value.problems]
    assert any(
        "the sync “dbt customers” can no longer run" in m and "Customers (dbt) ✓" in m for m in messages
    )
    assert _export_text(populated) == before
    model = SqlModel.objects.for_workspace(populated).get(name="Customers (dbt) ✓")
    assert model.dbt_model.name == CUSTOMERS


def test_a_file_may_give_a_dbt_backed_model_its_own_sql(populated, tmp_path):
    sql = "SELECT customer_id, email, full_name FROM analytics.customers"
    text = _export_text(populated).replace(
        "  dbt:\n    project: 'yes'\n    model: model.jaffle_shop.customers\n",
        f"  source: 'yes'\n  sql: {sql}\n",
    )
    assert sql in text
    plan = make_plan(documents.read(_write(tmp_path, text)), populated)
    (change,) = plan.changes
    assert FieldChange("sql", ABSENT, sql) in change.fields and change.changed("dbt")
    apply(documents.read(_write(tmp_path, text)), populated)
    model = SqlModel.objects.for_workspace(populated).get(name="Customers (dbt) ✓")
    assert model.dbt_model is None and model.sql == sql
    assert model.column_names == ["customer_id", "email", "full_name"]
    assert not make_plan(documents.read(_write(tmp_path, text)), populated).changes
