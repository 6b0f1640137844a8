"""BigQuery end to end, against bqemulator (the real google-cloud-bigquery client over HTTP) and the
Intercom emulator: connect through the dashboard form (the service-account key uploaded as a file), a
model through the editor (a write refused there with the user's message, the preview saying what the
query scans), a sync, and a rerun without changes that makes no call and is proven unchanged by the
digest alone."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.connections.models import Connection
from apps.connections.sources import bigquery
from apps.models.models import SqlModel
from apps.syncs.runs.planning import sync_plan
from tests.fixtures.fake_bigquery import BIGQUERY_DATASET, BIGQUERY_PROJECT, service_account_json
from tests.fixtures.syncs import m, make_sync
from tests.syncs.test_runs import run

pytestmark = pytest.mark.django_db

ROWS = [
    (1, "ada@example.com", "Ada Lovelace", "pro", 3),
    (2, "zoe@example.com", "Zoë 🚀 <b>bold</b>", "free", None),
    (3, "grace@example.com", "Grace", "team", 12),
]


def bigquery_form(**overrides) -> dict:
    return {
        "type": "bigquery",
        "name": "BigQuery",
        "project": BIGQUERY_PROJECT,
        "location": "US",
        "dataset": BIGQUERY_DATASET,
        "service_account_json": "",
        "connect_timeout_seconds": "10",
        "preview_timeout_seconds": "30",
        "extract_timeout_seconds": "3600",
    } | overrides


@pytest.fixture
def people(bigquery_endpoint):
    table = f"people_{uuid.uuid4().hex[:8]}"

    def text(value):
        return (
            "NULL"
            if value is None
            else repr(value)
            if isinstance(value, int)
            else "'" + value.replace("'", "\\'") + "'"
        )

    values = ", ".join("(" + ", ".join(text(v) for v in row) + ")" for row in ROWS)
    bigquery_endpoint.run(
        f"CREATE OR REPLACE TABLE {BIGQUERY_DATASET}.{table} (id INT64, email STRING, name STRING, plan STRING, seats INT64)",
        f"INSERT INTO {BIGQUERY_DATASET}.{table} VALUES {values}",  # noqa: S608 - the test's own values
    )
    return table


@pytest.fixture
def reads(monkeypatch):
    made = Counter()
    for name in ("keys", "rows", "digest"):
        method = getattr(bigquery._FingerprintedRead, name)

        def counted(self, *args, _method=method, _name=name, **kwargs):
            made[_name] += 1
            return _method(self, *args, **kwargs)

        monkeypatch.setattr(bigquery._FingerprintedRead, name, counted)
    return made


def test_connect_model_sync_and_an_unchanged_rerun_without_calls(
    owner_client, workspace, people, destination, intercom_emulator, intercom_workspace, reads
):
    key = service_account_json()
    data = bigquery_form()
    data["service_account_json_file"] = SimpleUploadedFile("key.json", key.encode())
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.for_workspace(workspace).get(name="BigQuery")
    assert connection.status == "connected", connection.status_message
    assert connection.credentials == {"service_account_json": key.strip()}
    assert "service_account_json" not in connection.config
    edit = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "BEGIN PRIVATE KEY" not in edit and "Stored: ••••••••" in edit
    new = owner_client.get(
        reverse("source_create", args=[workspace.slug]), {"type": "bigquery"}
    ).content.decode()
    assert "BigQuery Job User" in new  # the roles the form recommends

    def editor(sql, action, **extra):
        data = {"name": "People", "description": "", "source": connection.pk, "sql": sql, "primary_key": "email",
                "action": action}  # fmt: skip
        return owner_client.post(reverse("model_create", args=[workspace.slug]), data, **extra)

    delete = f"DELETE FROM {people} WHERE true"  # noqa: S608
    refused = editor(delete, "preview", headers={"HX-Request": "true"}).content.decode()
    assert "DELETE removes rows" in refused and "Syncline only runs a single read-only query" in refused
    select = f"SELECT * FROM {people} ORDER BY id"  # noqa: S608
    preview = editor(select, "preview", headers={"HX-Request": "true"}).content.decode()
    assert "Zoë 🚀 &lt;b&gt;bold&lt;/b&gt;" in preview
    assert "This query scans 0" in preview  # bqemulator's dry run says 0 bytes
    assert editor(f"SELECT * FROM {people}", "save").status_code == 302  # noqa: S608
    model = SqlModel.objects.for_workspace(workspace).get(name="People")
    assert [c["name"] for c in model.columns] == ["id", "email", "name", "plan", "seats"]

    sync = make_sync(
        workspace, model, destination, object_key="user", behavior="upsert", key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name"), m("plan", "string", "plan", custom=True),
                  m("seats", "integer", "seats", custom=True)],
    )  # fmt: skip
    first = run(workspace, sync)
    assert (first.status, first.counts["created"]) == ("succeeded", 3), first.first_error
    state = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert state["zoe@example.com"]["name"] == "Zoë 🚀 <b>bold</b>"
    assert state["grace@example.com"]["custom_attributes"]["seats"] == 12

    reads.clear()
    calls = intercom_emulator.request_count()
    rerun = run(workspace, sync)
    assert (rerun.status, rerun.counts["source_rows"], rerun.counts["unchanged"]) == ("succeeded", 3, 3)
    assert intercom_emulator.request_count() == calls
    assert reads == Counter({"digest": 1})
    assert [(r.operation, r.rows) for r in sync_plan(sync=sync, full_resync=False)] == [("unchanged", 3)]


def test_a_key_that_is_not_a_service_account_key_is_shown_next_to_the_field(
    owner_client, workspace, bigquery_endpoint
):
    response = owner_client.post(
        reverse("source_create", args=[workspace.slug]),
        bigquery_form(name="BigQuery (wrong)", service_account_json='{"type": "authorized_user"}'),
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "is not a service-account key" in page
