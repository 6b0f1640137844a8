"""A stored warehouse password is only ever sent to the server it was saved for.

The server an editor points a saved connection at is a fake PostgreSQL on localhost: it answers the
startup message with AuthenticationCleartextPassword and records every password it is sent."""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

import pytest
from django.urls import reverse

from apps.connections.models import Connection
from tests.factories import SourceConnectionFactory

STORED = "the-stored-password-5521"
SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


class FakePostgres:
    """Speaks just enough of the protocol to receive a password message."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.listener = socket.create_server((host, port))
        self.host, self.port = self.listener.getsockname()[:2]
        self.passwords: list[str] = []
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            with client, suppress(OSError, struct.error):
                client.settimeout(5)
                self._converse(client)

    def _converse(self, client: socket.socket) -> None:
        while True:
            (length,) = struct.unpack("!i", _read(client, 4))
            body = _read(client, length - 4)
            code = struct.unpack("!i", body[:4])[0]
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                client.sendall(b"N")  # no encryption here; the client goes on in the clear
                continue
            break  # the startup message
        client.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = _read(client, 1)
        (length,) = struct.unpack("!i", _read(client, 4))
        payload = _read(client, length - 4)
        if kind == b"p":
            self.passwords.append(payload.rstrip(b"\0").decode())
        fields = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
        client.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    def close(self) -> None:
        self.listener.close()


def _read(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


@pytest.fixture
def fake_postgres():
    server = FakePostgres()
    yield server
    server.close()


@pytest.fixture
def fake_postgres_elsewhere():
    """Another host: 127.0.0.2 is loopback too on Linux, so the port can stay the same."""
    server = FakePostgres(host="127.0.0.2")
    yield server
    server.close()


def saved(workspace, **config) -> Connection:
    values = {"host": "127.0.0.1", "port": 5432, "database": "analytics", "user": "reader", "sslmode": "disable",
              "search_path": "", "preview_timeout_seconds": 30.0, "extract_timeout_seconds": 3600.0,
              "connect_timeout_seconds": 3.0}  # fmt: skip
    return SourceConnectionFactory(
        workspace=workspace,
        name="Analytics",
        type="postgres",
        config=values | config,
        credentials={"password": STORED},
    )


def edit_form(connection: Connection, **overrides) -> dict:
    data = {"name": connection.name, "password": "", **{k: str(v) for k, v in connection.config.items()}}
    return data | overrides


def edit(client, workspace, connection, data):
    return client.post(reverse("source_edit", args=[workspace.slug, connection.pk]), data)


@pytest.mark.django_db
def test_the_fake_server_receives_the_stored_password_while_nothing_changed(
    owner_client, workspace, fake_postgres
):
    """The control: pointed at the fake server when saved, the kept password goes there, and is recorded."""
    connection = saved(workspace, port=fake_postgres.port)
    response = edit(owner_client, workspace, connection, edit_form(connection, name="Renamed"))
    assert response.status_code == 422  # the fake server refuses every password
    assert fake_postgres.passwords == [STORED]


@pytest.mark.django_db
def test_a_new_host_with_a_blank_password_receives_nothing_and_the_form_asks_for_it(
    owner_client, workspace, fake_postgres_elsewhere
):
    connection = saved(workspace, port=fake_postgres_elsewhere.port)  # saved for 127.0.0.1, same port
    data = edit_form(connection, host="127.0.0.2", name="Renamed", search_path="analytics, public")
    response = edit(owner_client, workspace, connection, data)

    assert response.status_code == 422
    assert fake_postgres_elsewhere.passwords == [] and fake_postgres_elsewhere.connections == 0
    form = response.context["form"]
    assert form.errors["password"] == ["Enter the password again: the host changed."]
    html = response.content.decode()
    assert 'value="127.0.0.2"' in html and 'value="Renamed"' in html and 'value="analytics, public"' in html
    assert STORED not in html
    connection.refresh_from_db()
    assert connection.config["host"] == "127.0.0.1" and connection.name == "Analytics"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"port": "moved"}, "the port changed"),
        ({"user": "someone_else"}, "the user changed"),
        ({"database": "other_db"}, "the database changed"),
        ({"port": "moved", "user": "someone_else"}, "the port and user changed"),
    ],
)
def test_any_change_of_port_user_or_database_asks_for_the_password_again(
    owner_client, workspace, fake_postgres, change, words
):
    # Saved for another port; the fake server is where the port (or user, database) now points.
    connection = saved(workspace, port=fake_postgres.port + 1 if "port" in change else fake_postgres.port)
    change = {k: (str(fake_postgres.port) if v == "moved" else v) for k, v in change.items()}
    response = edit(owner_client, workspace, connection, edit_form(connection, **change))
    assert response.status_code == 422
    assert fake_postgres.passwords == []
    assert response.context["form"].errors["password"] == [f"Enter the password again: {words}."]


@pytest.mark.django_db
def test_saving_anyway_does_not_carry_the_stored_password_to_the_new_host(
    owner_client, workspace, fake_postgres_elsewhere
):
    connection = saved(workspace, port=fake_postgres_elsewhere.port)
    data = edit_form(connection, host="127.0.0.2", save_untested="on")
    assert edit(owner_client, workspace, connection, data).status_code == 422
    connection.refresh_from_db()
    assert connection.config["host"] == "127.0.0.1"
    # and so the on-demand test, which reads what is stored, still goes to the old host only
    owner_client.post(reverse("connection_test", args=[workspace.slug, connection.pk]))
    assert fake_postgres_elsewhere.passwords == []


@pytest.mark.django_db
def test_the_password_typed_again_is_the_one_sent(owner_client, workspace, fake_postgres_elsewhere):
    connection = saved(workspace, port=fake_postgres_elsewhere.port)
    data = edit_form(connection, host="127.0.0.2", password="typed-for-the-new-host")
    edit(owner_client, workspace, connection, data)
    assert fake_postgres_elsewhere.passwords == ["typed-for-the-new-host"]


@pytest.mark.django_db
def test_the_host_is_compared_without_case_or_spaces(owner_client, workspace, fake_postgres):
    connection = saved(workspace, host="LocalHost", port=fake_postgres.port)
    edit(owner_client, workspace, connection, edit_form(connection, host=" localhost "))
    assert fake_postgres.passwords == [STORED]


@pytest.mark.django_db
def test_the_password_field_says_when_it_is_kept(owner_client, workspace):
    connection = saved(workspace)
    page = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert (
        "Leave blank to keep it (only while the host, port, database, user and SSL mode stay the same)."
        in page
    )


@pytest.mark.django_db
def test_lowering_the_ssl_mode_asks_for_the_password_again(owner_client, workspace, fake_postgres):
    """Saved to verify the server's certificate; the stored password must not then go out in clear text
    because only the SSL mode was changed to "disable"."""
    connection = saved(workspace, port=fake_postgres.port, sslmode="verify-full")
    response = edit(owner_client, workspace, connection, edit_form(connection, sslmode="disable"))
    assert response.status_code == 422
    assert fake_postgres.passwords == []
    assert response.context["form"].errors["password"] == ["Enter the password again: the SSL mode changed."]
