"""Google Sheets end to end, against the stand-in of Google's token and Sheets endpoints (the real
google-api-python-client over HTTP) and the Intercom emulator: connect through the dashboard form (the
service-account key uploaded as a file, a spreadsheet's URL pasted), a model through the editor (a write
refused there, the preview showing the types inferred from the cells), a sync, and a rerun without changes
that makes no call and is proven unchanged by the digest alone (with a sheet's own dirt: a number typed as
text, a formula, a ragged row, a blank row). The source contract (sources/test_source_contract.py) syncs a
Google Sheets model too, with every other source, and a rerun after a change."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.connections.models import Connection
from apps.connections.sources import duckdb as duckdb_source
from apps.models.models import SqlModel
from apps.syncs.runs.planning import sync_plan
from tests.fixtures.fake_sheets import Formula, sheets_service_account
from tests.fixtures.syncs import m, make_sync
from tests.syncs.test_runs import run

pytestmark = pytest.mark.django_db

PEOPLE = [
    ["id", "email", "name", "plan", "seats"],
    [1, "ada@example.com", "Ada Lovelace", "pro", "1,200"],  # a number typed as text, with a separator
    [2, "zoe@example.com", "Zoë 🚀 <b>bold</b>"],  # ragged: Sheets drops the trailing blank cells
    [],  # a blank row
    [3, "grace@example.com", "Grace", "team", Formula("=4*3", 12)],
]


def sheets_form(tables: str, **overrides) -> dict:
    return {
        "type": "google_sheets",
        "name": "Sheets",
        "tables": tables,
        "service_account_json": "",
        "connect_timeout_seconds": "10",
        "preview_timeout_seconds": "30",
        "extract_timeout_seconds": "3600",
    } | overrides


@pytest.fixture
def people(sheets_endpoint) -> str:
    spreadsheet_id = "1People" + uuid.uuid4().hex
    sheets_endpoint.add_spreadsheet(
        spreadsheet_id, {"People": PEOPLE}, shared_with={sheets_service_account()["client_email"]}
    )
    return spreadsheet_id


@pytest.fixture
def reads(monkeypatch):
    """The passes of fingerprinted reads (the DuckDB adapter runs them over the sheet's copy)."""
    made = Counter()
    for name in ("keys", "rows", "digest"):
        method = getattr(duckdb_source._FingerprintedRead, name)

        def counted(self, *args, _method=method, _name=name, **kwargs):
            made[_name] += 1
            return _method(self, *args, **kwargs)

        monkeypatch.setattr(duckdb_source._FingerprintedRead, name, counted)
    return made


def test_connect_model_sync_and_an_unchanged_rerun_without_calls(
    owner_client,
    workspace,
    people,
    sheets_endpoint,
    destination,
    intercom_emulator,
    intercom_workspace,
    reads,
):
    key = json.dumps(sheets_service_account())
    url = f"https://docs.google.com/spreadsheets/d/{people}/edit#gid=0"
    data = sheets_form(f"people = {url} People!A1:E")
    data["service_account_json_file"] = SimpleUploadedFile("key.json", key.encode())
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.for_workspace(workspace).get(name="Sheets")
    assert connection.status == "connected", connection.status_message
    assert connection.credentials == {"service_account_json": key.strip()}
    assert "service_account_json" not in connection.config
    assert connection.config["tables"] == f"people = {url} People!A1:E"
    edit = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "BEGIN PRIVATE KEY" not in edit and "Stored: ••••••••" in edit
    new = owner_client.get(
        reverse("source_create", args=[workspace.slug]), {"type": "google_sheets"}
    ).content.decode()
    assert "Share each spreadsheet with the service account" in new

    def editor(sql, action, **extra):
        data = {"name": "People", "description": "", "source": connection.pk, "sql": sql, "primary_key": "email",
                "action": action}  # fmt: skip
        return owner_client.post(reverse("model_create", args=[workspace.slug]), data, **extra)

    refused = editor("DELETE FROM people", "preview", headers={"HX-Request": "true"}).content.decode()
    assert "Syncline only runs a single read-only query" in refused
    preview = editor(
        "SELECT * FROM people ORDER BY id", "preview", headers={"HX-Request": "true"}
    ).content.decode()
    assert "Zoë 🚀 &lt;b&gt;bold&lt;/b&gt;" in preview
    assert "BIGINT" in preview and "VARCHAR" in preview  # the inferred types, under the column names
    assert editor("SELECT * FROM people", "save").status_code == 302
    model = SqlModel.objects.for_workspace(workspace).get(name="People")
    types = {c["name"]: c["db_type"] for c in model.columns}
    assert types == {
        "id": "BIGINT",
        "email": "VARCHAR",
        "name": "VARCHAR",
        "plan": "VARCHAR",
        "seats": "BIGINT",
    }

    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[
            m("name", "string", "name"),
            m("plan", "string", "plan", custom=True),
            m("seats", "integer", "seats", custom=True),
        ],
    )
    first = run(workspace, sync)
    assert (first.status, first.counts["created"]) == ("succeeded", 3), first.first_error
    state = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert state["zoe@example.com"]["name"] == "Zoë 🚀 <b>bold</b>"
    assert state["ada@example.com"]["custom_attributes"]["seats"] == 1200
    assert state["grace@example.com"]["custom_attributes"]["seats"] == 12  # the formula's value
    assert state["zoe@example.com"]["custom_attributes"] == {}  # the ragged row's blank cells: NULL, not sent

    reads.clear()
    calls = intercom_emulator.request_count()
    reads_of_the_sheet = sheets_endpoint.count("/values/")
    rerun = run(workspace, sync)
    assert (rerun.status, rerun.counts["source_rows"], rerun.counts["unchanged"]) == ("succeeded", 3, 3)
    assert intercom_emulator.request_count() == calls
    assert reads == Counter({"digest": 1})
    assert (
        sheets_endpoint.count("/values/") > reads_of_the_sheet
    )  # the sheet was read again, and found unchanged
    assert [(r.operation, r.rows) for r in sync_plan(sync=sync, full_resync=False)] == [("unchanged", 3)]


def test_an_edit_keeps_the_stored_key_and_shows_the_tables_back(
    owner_client, workspace, people, sheets_endpoint
):
    url = f"https://docs.google.com/spreadsheets/d/{people}/edit"
    data = sheets_form(
        f"people = {url} People!A1:E", service_account_json=json.dumps(sheets_service_account())
    )
    assert owner_client.post(reverse("source_create", args=[workspace.slug]), data).status_code == 302
    connection = Connection.objects.for_workspace(workspace).get(name="Sheets")
    edit_url = reverse("source_edit", args=[workspace.slug, connection.pk])
    assert f"people = {url} People!A1:E</textarea>" in owner_client.get(edit_url).content.decode()

    both = f"people = {url} People!A1:E\nsame = {people} People!A1:B"
    response = owner_client.post(edit_url, sheets_form(both))  # the key left blank: keep the stored one
    assert response.status_code == 302, response.content.decode()[:3000]
    connection.refresh_from_db()
    assert connection.status == "connected", connection.status_message
    assert connection.config["tables"] == both
    assert connection.status_message == "Google Sheets: people (5 columns), same (2 columns)"


def test_a_sheet_not_shared_is_shown_next_to_the_tables_with_the_email(
    owner_client, workspace, sheets_endpoint
):
    spreadsheet_id = "1Private" + uuid.uuid4().hex
    sheets_endpoint.add_spreadsheet(spreadsheet_id, {"S": [["a"], [1]]}, shared_with={"owner@example.com"})
    data = sheets_form(f"s = {spreadsheet_id} S", name="Sheets (not shared)")
    data["service_account_json"] = json.dumps(sheets_service_account())
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert f"Share it with {sheets_service_account()['client_email']}" in page
