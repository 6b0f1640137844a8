"""Snowflake through the dashboard, against fakesnow's server (the real connector over HTTP): connect
through the form (password, then a key pair uploaded as a file) and a model through the editor (a write
refused there with the user's message). A sync of a Snowflake model into the Intercom emulator, its
unchanged rerun without a call and its rerun after a change, are in the source contract
(sources/test_source_contract.py), with every other source."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.connections.models import Connection
from apps.models.models import SqlModel
from tests.fixtures.fake_snowflake import SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA

pytestmark = pytest.mark.django_db

SECRET = "a-snowflake-password-5821"
ROWS = [
    (1, "ada@example.com", "Ada Lovelace", "pro", 3),
    (2, "zoe@example.com", "Zoë 🚀 <b>bold</b>", "free", None),
    (3, "grace@example.com", "Grace", "team", 12),
]


def snowflake_form(**overrides) -> dict:
    return {
        "type": "snowflake",
        "name": "Snowflake",
        "account": "https://syncline-test.snowflakecomputing.com/",  # a pasted URL works
        "user": "SYNCLINE",
        "role": "SYNCLINE_READER",
        "warehouse": "SYNCLINE_WH",
        "database": SNOWFLAKE_DATABASE,
        "schema": SNOWFLAKE_SCHEMA,
        "authentication": "password",
        "password": SECRET,
        "private_key": "",
        "private_key_passphrase": "",
        "connect_timeout_seconds": "10",
        "preview_timeout_seconds": "30",
        "extract_timeout_seconds": "3600",
    } | overrides


def connect(client, workspace, data) -> Connection:
    response = client.post(reverse("source_create", args=[workspace.slug]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Connection.objects.for_workspace(workspace).get(name=data["name"])


@pytest.fixture
def people(snowflake_endpoint):
    table = f"{SNOWFLAKE_DATABASE}.{SNOWFLAKE_SCHEMA}.people_{uuid.uuid4().hex[:8]}"
    values = ", ".join(
        "("
        + ", ".join("NULL" if v is None else repr(v) if isinstance(v, int) else _text(v) for v in row)
        + ")"
        for row in ROWS
    )
    snowflake_endpoint.run(
        f"CREATE OR REPLACE TABLE {table} (id INT, email VARCHAR, name VARCHAR, plan VARCHAR, seats INT)",
        f"INSERT INTO {table} VALUES {values}",  # noqa: S608 - the test's own values
    )
    return table


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def test_connect_and_a_model_through_the_dashboard(owner_client, workspace, people):
    table = people
    connection = connect(owner_client, workspace, snowflake_form())
    assert connection.status == "connected", connection.status_message
    assert "Snowflake" in connection.status_message
    assert connection.credentials == {"password": SECRET, "private_key": "", "private_key_passphrase": ""}
    assert "password" not in connection.config and connection.config["account"].startswith("https://")
    edit = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert SECRET not in edit and "Stored: ••••••••" in edit
    assert "USAGE ON WAREHOUSE" in edit  # the role the page recommends

    # The model, through the editor: a write is refused with the user's message, the query saved.
    def editor(sql, action, **extra):
        data = {"name": "People", "description": "", "source": connection.pk, "sql": sql, "primary_key": "EMAIL",
                "action": action}  # fmt: skip
        return owner_client.post(reverse("model_create", args=[workspace.slug]), data, **extra)

    refused = editor(f"DELETE FROM {table}", "preview", headers={"HX-Request": "true"}).content.decode()  # noqa: S608
    assert "DELETE removes rows" in refused and "Syncline only runs a single read-only query" in refused
    preview = editor(f"SELECT * FROM {table} ORDER BY id", "preview", headers={"HX-Request": "true"})  # noqa: S608
    assert "Zoë 🚀 &lt;b&gt;bold&lt;/b&gt;" in preview.content.decode()  # escaped, not rendered as HTML
    assert editor(f"SELECT * FROM {table}", "save").status_code == 302  # noqa: S608
    model = SqlModel.objects.for_workspace(workspace).get(name="People")
    assert [c["name"] for c in model.columns] == ["ID", "EMAIL", "NAME", "PLAN", "SEATS"]


def _key_pair(passphrase: bytes | None = None) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def test_key_pair_authentication_with_an_uploaded_encrypted_key(owner_client, workspace, snowflake_endpoint):
    pem = _key_pair(b"open sesame")
    data = snowflake_form(
        name="Snowflake (key)", authentication="key_pair", password="", private_key_passphrase="open sesame"
    )
    data["private_key_file"] = SimpleUploadedFile("rsa_key.p8", pem)
    connection = connect(owner_client, workspace, data)
    assert connection.status == "connected", connection.status_message
    assert connection.credentials["private_key"] == pem.decode().strip()
    assert "private_key" not in connection.config
    edit = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "BEGIN ENCRYPTED PRIVATE KEY" not in edit and "open sesame" not in edit

    # a wrong passphrase is caught before anything is sent, next to the key
    wrong = snowflake_form(
        name="Snowflake (wrong)",
        authentication="key_pair",
        password="",
        private_key=pem.decode(),
        private_key_passphrase="wrong",
    )
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), wrong)
    page = response.content.decode()
    assert response.status_code == 422
    assert "could not be decrypted: check its passphrase" in page
    assert "BEGIN ENCRYPTED PRIVATE KEY" not in page  # a secret is never rendered back
