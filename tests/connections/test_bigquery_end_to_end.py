"""BigQuery through the dashboard, against bqemulator (the real google-cloud-bigquery client over HTTP):
connect through the form (the service-account key uploaded as a file) and a model through the editor (a
write refused there with the user's message, the preview saying what the query scans). A sync of a
BigQuery model into the Intercom emulator, its unchanged rerun without a call and its rerun after a
change, are in the source contract (sources/test_source_contract.py), with every other source."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.connections.models import Connection
from apps.models.models import SqlModel
from tests.fixtures.fake_bigquery import BIGQUERY_DATASET, BIGQUERY_PROJECT, service_account_json

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


def test_connect_and_a_model_through_the_dashboard(owner_client, workspace, people):
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
