"""A warehouse that restarts does not fail the run: a transient error (connection refused) before anything
was sent is retried with backoff, within a bounded time; a wrong query is not retried. The warehouse is a
real PostgreSQL behind a local TCP port that refuses connections until the test opens it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid

import psycopg
import pytest

from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.factories import SourceConnectionFactory, SqlModelFactory
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(scope="module")
def pg_warehouse():
    name = f"syncline_retry_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}", autocommit=True) as conn:
            conn.execute("CREATE TABLE people (id int, email text, name text)")
            conn.execute(
                "INSERT INTO people VALUES (1, 'ada@example.com', 'Ada'), (2, 'bo@example.com', 'Bø')"
            )
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Gate:
    """A local port that refuses connections until `open()`; then it forwards them to PostgreSQL."""

    def __init__(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens: connections are refused
        self.server: socket.socket | None = None
        self.connections = 0

    def open(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", 5432))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
def gate():
    g = Gate()
    yield g
    g.close()


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.SYNC_SOURCE_RETRY_ATTEMPTS = 4
    settings.SYNC_SOURCE_RETRY_BACKOFF_SECONDS = 0.5
    settings.SYNC_SOURCE_RETRY_SECONDS = 5


def pg_sync(workspace, destination, database, port, sql="SELECT id, email, name FROM people"):
    source = SourceConnectionFactory(
        workspace=workspace,
        type="postgres",
        config={
            "host": "127.0.0.1",
            "port": port,
            "database": database,
            "user": "postgres",
            "sslmode": "disable",
        },
        credentials={"password": ""},
    )
    model = SqlModelFactory(
        workspace=workspace,
        source=source,
        sql=sql,
        primary_key="id",
        unique_columns=["email"],
        columns=[{"name": c, "db_type": "", "kind": "string"} for c in ("id", "email", "name")],
    )
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )


def execute(workspace, sync):
    return sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
    )


def test_a_warehouse_that_comes_back_is_retried_and_the_run_succeeds(
    workspace, destination, intercom_emulator, intercom_workspace, pg_warehouse, gate
):
    sync = pg_sync(workspace, destination, pg_warehouse, gate.port)
    threading.Timer(1.0, gate.open).start()  # refused for the first attempts (0.5 s, then 1 s of pause)
    started = time.monotonic()
    run = execute(workspace, sync)
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    assert time.monotonic() - started >= 1.0 and gate.connections >= 1
    contacts = intercom_emulator.contacts(intercom_workspace.id_code)
    assert sorted((c["email"], c["name"]) for c in contacts) == [
        ("ada@example.com", "Ada"),
        ("bo@example.com", "Bø"),
    ]


def test_a_warehouse_that_stays_down_fails_the_run_after_a_bounded_time(
    workspace, destination, pg_warehouse, gate
):
    sync = pg_sync(workspace, destination, pg_warehouse, gate.port)
    started = time.monotonic()
    run = execute(workspace, sync)
    took = time.monotonic() - started
    assert run.status == RunStatus.FAILED and "refused the connection" in run.first_error
    assert 0.5 + 1 + 2 <= took < 5 + 3  # three pauses (four attempts), within the bound


def test_a_wrong_query_is_not_retried(workspace, destination, pg_warehouse, gate):
    gate.open()
    sync = pg_sync(
        workspace, destination, pg_warehouse, gate.port, sql="SELECT id, emial AS email, name FROM people"
    )
    started = time.monotonic()
    run = execute(workspace, sync)
    assert run.status == RunStatus.FAILED and "emial" in run.first_error
    assert time.monotonic() - started < 0.5 and gate.connections == 1  # one attempt, no pause
