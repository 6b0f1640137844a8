import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from apps.common.crypto import DecryptionError
from apps.connections.models import Connection
from tests.factories import WorkspaceFactory

SECRET = "p4ssw0rd-that-must-never-leak"


@pytest.fixture
def keys(settings):
    first = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [first]
    return settings


def make_connection():
    return Connection.objects.create(
        workspace=WorkspaceFactory(),
        name="Warehouse",
        kind="source",
        type="postgres",
        config={"host": "db.internal"},
        credentials={"password": SECRET},
    )


def raw_column(pk) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connections_connection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_database_holds_only_ciphertext(keys):
    conn = make_connection()
    assert SECRET not in raw_column(conn.pk)
    fetched = Connection.objects.for_workspace(conn.workspace).get(pk=conn.pk)
    assert fetched.credentials == {"password": SECRET}


@pytest.mark.django_db
def test_a_wrong_key_raises_and_never_returns_ciphertext(keys):
    conn = make_connection()
    keys.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError, match="none of FIELD_ENCRYPTION_KEYS matches"):
        Connection.objects.for_workspace(conn.workspace).get(pk=conn.pk)


@pytest.mark.django_db
def test_rotation_re_encrypts_every_row_with_the_new_key(keys, capsys):
    conns = [make_connection() for _ in range(3)]
    old_key = keys.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    keys.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    assert "3 re-encrypted" in capsys.readouterr().out
    keys.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    for conn in conns:
        fetched = Connection.objects.for_workspace(conn.workspace).get(pk=conn.pk)
        assert fetched.credentials == {"password": SECRET}


def test_a_malformed_key_is_named_at_start(keys):
    from django.core.exceptions import ImproperlyConfigured

    from apps.common import crypto

    keys.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="entry 1 is not a Fernet key"):
        crypto.encrypt(b"x")


@pytest.mark.django_db(transaction=True)
def test_no_secret_in_a_raw_pg_dump(keys):
    make_connection()
    name = db.settings_dict["NAME"]
    dump = subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "db.internal" in dump  # the dump really has the row
    assert SECRET not in dump
