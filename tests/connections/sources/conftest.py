"""Real servers on localhost, each test session in its own scratch databases (dropped at the end).

PostgreSQL 127.0.0.1:5432 (trust auth, user postgres), MariaDB 127.0.0.1:3306 (root, no password), DuckDB
temporary files, and for what trust auth cannot show (wrong password, a server that requires SSL) a
private PostgreSQL cluster started from the installed binaries on a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pymysql
import pytest

from apps.connections.sources.duckdb import DuckDbSource
from apps.connections.sources.mysql import MySqlSource
from apps.connections.sources.postgres import PostgresSource
from apps.connections.sources.registry import clean_config

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
MYSQL_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
TEST_TIMEOUT_SECONDS = 2.0
BIG_ROWS = 200_000
CANARY_ROWS = [(1, "alpha"), (2, "beta"), (3, "gamma")]


def scratch_name() -> str:
    return f"syncline_src_test_{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Backend:
    """One database under test, as the tests need to see it."""

    name: str
    make_source: Callable[..., Any]
    read_canary: Callable[[], list[tuple]]
    table_exists: Callable[[str], bool]
    # Statements run as the administrator, where the tests' tables are (autocommitted)
    execute: Callable[..., None]
    # For the app (a Connection of type `name`): its values, and the settings that point it at a stand-in
    connection: Callable[[], dict]
    app_settings: dict[str, str] = field(default_factory=dict)
    # Snowflake, BigQuery: how many abort (cancel) requests the stand-in has received (neither can stop a
    # running statement itself)
    abort_requests: Callable[[], int] = lambda: 0


# --- PostgreSQL ----------------------------------------------------------------------------------------

PG_FIXTURE_SQL = f"""
CREATE TABLE canary (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO canary VALUES {", ".join(f"({i}, '{n}')" for i, n in CANARY_ROWS)};
CREATE FUNCTION writer_fn() RETURNS int LANGUAGE plpgsql AS $$
BEGIN INSERT INTO canary VALUES (100, 'written by a function'); RETURN 1; END $$;
CREATE PROCEDURE writer_proc() LANGUAGE sql AS $$ DELETE FROM canary $$;
CREATE TABLE big AS SELECT i AS id, md5(i::text) AS payload FROM generate_series(1, {BIG_ROWS}) i;
"""  # noqa: S608


@pytest.fixture(scope="session")
def pg_database():
    name = scratch_name()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}", autocommit=True) as conn:
            conn.execute(PG_FIXTURE_SQL)
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_config(database: str, **overrides) -> dict:
    values = {
        "host": "127.0.0.1",
        "port": 5432,
        "database": database,
        "user": "postgres",
        "password": "",
        "sslmode": "disable",
        "preview_timeout_seconds": TEST_TIMEOUT_SECONDS,
        "connect_timeout_seconds": 2,
    }
    values.update(overrides)
    return clean_config("postgres", values)


@pytest.fixture
def pg_backend(pg_database) -> Backend:
    def query(sql: str, params=()):
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={pg_database}") as conn:
            return conn.execute(sql, params).fetchall()

    def execute(*statements: str) -> None:
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={pg_database}", autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    return Backend(
        name="postgres",
        make_source=lambda **overrides: PostgresSource(pg_config(pg_database, **overrides)),
        read_canary=lambda: query("SELECT id, note FROM canary ORDER BY id"),
        table_exists=lambda table: bool(query("SELECT to_regclass(%s) IS NOT NULL", [table])[0][0]),
        execute=execute,
        connection=lambda: pg_config(pg_database),
    )


# --- MariaDB / MySQL ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql_database():
    name = scratch_name()
    admin = pymysql.connect(**MYSQL_ADMIN, autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
            cursor.execute(f"USE `{name}`")
            cursor.execute("CREATE TABLE canary (id INT PRIMARY KEY, note VARCHAR(100) NOT NULL)")
            cursor.executemany("INSERT INTO canary VALUES (%s, %s)", CANARY_ROWS)
            cursor.execute(
                "CREATE FUNCTION writer_fn() RETURNS INT MODIFIES SQL DATA "
                "BEGIN INSERT INTO canary VALUES (100, 'written by a function'); RETURN 1; END"
            )
            cursor.execute("CREATE PROCEDURE writer_proc() MODIFIES SQL DATA DELETE FROM canary")
            cursor.execute(
                f"CREATE TABLE big AS SELECT seq AS id, md5(seq) AS payload FROM seq_1_to_{BIG_ROWS}"  # noqa: S608
            )
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def mysql_config(database: str, **overrides) -> dict:
    values = {
        "host": "127.0.0.1",
        "port": 3306,
        "database": database,
        "user": "root",
        "password": "",
        "ssl_mode": "disabled",
        "preview_timeout_seconds": TEST_TIMEOUT_SECONDS,
        "connect_timeout_seconds": 2,
    }
    values.update(overrides)
    return clean_config("mysql", values)


def mysql_query(sql: str, params=(), database: str | None = None):
    conn = pymysql.connect(**MYSQL_ADMIN, database=database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params or None)  # no params: a literal '%' stays as it is
            return cursor.fetchall()
    finally:
        conn.close()


def mysql_execute(database: str, *statements: str) -> None:
    conn = pymysql.connect(**MYSQL_ADMIN, database=database, autocommit=True, charset="utf8mb4")
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@pytest.fixture
def mysql_backend(mysql_database) -> Backend:
    return Backend(
        name="mysql",
        make_source=lambda **overrides: MySqlSource(mysql_config(mysql_database, **overrides)),
        read_canary=lambda: [
            tuple(row)
            for row in mysql_query("SELECT id, note FROM canary ORDER BY id", database=mysql_database)
        ],
        table_exists=lambda table: bool(
            mysql_query(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                [mysql_database, table],
            )[0][0]
        ),
        execute=lambda *statements: mysql_execute(mysql_database, *statements),
        connection=lambda: mysql_config(mysql_database),
    )


# --- DuckDB ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def duckdb_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("duck") / "warehouse.duckdb")
    with duckdb.connect(path) as conn:
        conn.execute("CREATE TABLE canary (id INTEGER PRIMARY KEY, note VARCHAR NOT NULL)")
        conn.executemany("INSERT INTO canary VALUES (?, ?)", CANARY_ROWS)
        conn.execute(
            f"CREATE TABLE big AS SELECT range + 1 AS id, md5(range::VARCHAR) AS payload FROM range({BIG_ROWS})"  # noqa: S608
        )
    return path


def duckdb_config(path: str, **overrides) -> dict:
    values = {"path": path, "preview_timeout_seconds": TEST_TIMEOUT_SECONDS}
    values.update(overrides)
    return clean_config("duckdb", values)


@pytest.fixture
def duckdb_backend(duckdb_path) -> Backend:
    def query(sql: str, params=()):
        with duckdb.connect(duckdb_path, read_only=True) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(*statements: str) -> None:
        with duckdb.connect(duckdb_path) as conn:
            for statement in statements:
                conn.execute(statement)

    return Backend(
        name="duckdb",
        make_source=lambda **overrides: DuckDbSource(duckdb_config(duckdb_path, **overrides)),
        read_canary=lambda: query("SELECT id, note FROM canary ORDER BY id"),
        table_exists=lambda table: bool(
            query("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])[0][0]
        ),
        execute=execute,
        connection=lambda: duckdb_config(duckdb_path),
    )


@pytest.fixture(params=["postgres", "mysql", "duckdb"])
def backend(request) -> Backend:
    return request.getfixturevalue({"postgres": "pg_backend"}.get(request.param, f"{request.param}_backend"))


# --- a PostgreSQL that checks passwords and requires SSL --------------------------------------------------


@dataclass
class SecurePostgres:
    port: int
    user: str
    password: str


@pytest.fixture(scope="session")
def secure_postgres():
    """A private cluster: scram-sha-256 passwords, SSL on, and only SSL connections accepted (hostssl)."""
    bindir = Path("/usr/lib/postgresql") / sorted(os.listdir("/usr/lib/postgresql"))[-1] / "bin"
    base = Path(tempfile.mkdtemp(prefix="syncline_src_test_pg_"))
    data = base / "data"
    port = free_port()
    user, password = "syncline_admin", f"pw-{uuid.uuid4().hex}"
    (base / "pwfile").write_text(password + "\n")
    shutil.chown(base, "postgres", "postgres")
    shutil.chown(base / "pwfile", "postgres", "postgres")

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60
        )

    as_postgres(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        user,
        "--pwfile",
        str(base / "pwfile"),
        "-A",
        "scram-sha-256",
        "--no-sync",
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(data / "server.key"),
            "-out",
            str(data / "server.crt"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for name in ("server.key", "server.crt"):
        shutil.chown(data / name, "postgres", "postgres")
    os.chmod(data / "server.key", 0o600)
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 scram-sha-256\n")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
            "ssl = on\nfsync = off\nshared_buffers = 16MB\n"
        )
    as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "start")
    try:
        yield SecurePostgres(port=port, user=user, password=password)
    finally:
        as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def silent_server():
    """A port that accepts TCP connections (the kernel completes the handshake) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener


# --- Snowflake (fakesnow's server, tests/fixtures/fake_snowflake.py) -------------------------------------------


@pytest.fixture(scope="session")
def snowflake_tables(fake_snowflake):
    from tests.fixtures.fake_snowflake import SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA

    where = f"{SNOWFLAKE_DATABASE}.{SNOWFLAKE_SCHEMA}"
    fake_snowflake.run(
        f"CREATE OR REPLACE TABLE {where}.canary (id INT PRIMARY KEY, note VARCHAR NOT NULL)",
        f"INSERT INTO {where}.canary VALUES {', '.join(f'({i}, {n!r})' for i, n in CANARY_ROWS)}",  # noqa: S608
        f"CREATE OR REPLACE TABLE {where}.big AS SELECT seq4() + 1 AS id, md5(seq4()::VARCHAR) AS payload "  # noqa: S608
        f"FROM TABLE(GENERATOR(ROWCOUNT => {BIG_ROWS}))",
    )
    return fake_snowflake


def snowflake_config(server, **overrides) -> dict:
    values = server.config(preview_timeout_seconds=TEST_TIMEOUT_SECONDS, connect_timeout_seconds=5)
    values.update(overrides)
    return clean_config("snowflake", values)


@pytest.fixture
def snowflake_backend(snowflake_tables) -> Backend:
    from apps.connections.sources.snowflake import SnowflakeSource

    server = snowflake_tables
    return Backend(
        name="snowflake",
        make_source=lambda **overrides: SnowflakeSource(
            snowflake_config(server, **overrides), endpoint=server.endpoint
        ),
        read_canary=lambda: [
            tuple(row) for row in server.run("SELECT id, note FROM SYNCLINE_TEST.PUBLIC.canary ORDER BY id")
        ],
        table_exists=lambda table: bool(
            server.run(
                "SELECT count(*) FROM SYNCLINE_TEST.information_schema.tables "  # noqa: S608
                f"WHERE lower(table_name) = lower('{table}')"
            )[0][0]
        ),
        execute=server.run,
        connection=lambda: snowflake_config(server),
        app_settings={"SNOWFLAKE_ENDPOINT": server.endpoint},
        abort_requests=lambda: server.requests("/queries/v1/abort-request"),
    )


@pytest.fixture(params=["postgres", "mysql", "duckdb", "snowflake", "bigquery", "google_sheets"])
def every_source(request) -> Backend:
    """Every source type: the contract suite (test_source_contract.py) runs against each."""
    return request.getfixturevalue({"postgres": "pg_backend"}.get(request.param, f"{request.param}_backend"))


# --- BigQuery (bqemulator, tests/fixtures/fake_bigquery.py) -----------------------------------------------


@pytest.fixture(scope="session")
def bigquery_tables(fake_bigquery):
    from tests.fixtures.fake_bigquery import BIGQUERY_DATASET as where

    fake_bigquery.run(
        f"CREATE OR REPLACE TABLE {where}.canary (id INT64 NOT NULL, note STRING NOT NULL)",
        f"INSERT INTO {where}.canary VALUES {', '.join(f'({i}, {n!r})' for i, n in CANARY_ROWS)}",  # noqa: S608
        f"CREATE OR REPLACE TABLE {where}.big AS SELECT x + 1 AS id, TO_HEX(MD5(CAST(x AS STRING))) AS payload "  # noqa: S608
        f"FROM UNNEST(GENERATE_ARRAY(0, {BIG_ROWS - 1})) AS x",
    )
    return fake_bigquery


def bigquery_config(server, **overrides) -> dict:
    from tests.fixtures.fake_bigquery import BIGQUERY_DATASET

    values = server.config(
        dataset=BIGQUERY_DATASET, preview_timeout_seconds=TEST_TIMEOUT_SECONDS, connect_timeout_seconds=5
    )
    values.update(overrides)
    return clean_config("bigquery", values)


@pytest.fixture
def bigquery_backend(bigquery_tables) -> Backend:
    from apps.connections.sources.bigquery import BigQuerySource

    server = bigquery_tables
    return Backend(
        name="bigquery",
        make_source=lambda **overrides: BigQuerySource(
            bigquery_config(server, **overrides), endpoint=server.endpoint
        ),
        read_canary=lambda: server.run("SELECT id, note FROM syncline.canary ORDER BY id"),
        table_exists=lambda table: bool(
            server.run(
                "SELECT count(*) FROM syncline.INFORMATION_SCHEMA.TABLES "  # noqa: S608
                f"WHERE lower(table_name) = lower('{table}')"
            )[0][0]
        ),
        execute=server.run,
        connection=lambda: bigquery_config(server),
        app_settings={"BIGQUERY_ENDPOINT": server.endpoint},
        abort_requests=server.cancel_requests,
    )


# --- Google Sheets (the Sheets API's stand-in, tests/fixtures/fake_sheets.py) --------------------------------

SHEETS_SPREADSHEET = "1SynclineContractTestSpreadsheet0123456789"


@pytest.fixture(scope="session")
def sheets_tables(fake_sheets):
    import hashlib

    from tests.fixtures.fake_sheets import sheets_service_account

    big = [["id", "payload"]] + [[i + 1, hashlib.md5(str(i).encode()).hexdigest()] for i in range(BIG_ROWS)]  # noqa: S324
    fake_sheets.add_spreadsheet(
        SHEETS_SPREADSHEET,
        {"canary": [["id", "note"], *map(list, CANARY_ROWS)], "big": big},
        shared_with={sheets_service_account()["client_email"]},
    )
    return fake_sheets


def sheets_config(**overrides) -> dict:
    import json

    from tests.fixtures.fake_sheets import sheets_service_account

    url = f"https://docs.google.com/spreadsheets/d/{SHEETS_SPREADSHEET}/edit#gid=0"
    values = {
        "tables": f"canary = {url} canary!A1:B\nbig = {SHEETS_SPREADSHEET} big\npeople = {SHEETS_SPREADSHEET} people",
        "service_account_json": json.dumps(sheets_service_account()),
        # A preview reads the sheets its SQL names first: `big` (200,000 rows) takes seconds, past the 2
        # seconds the other sources get. The time-limit test sets its own 2 seconds.
        "preview_timeout_seconds": 60,
        "connect_timeout_seconds": 5,
    }
    values.update(overrides)
    return clean_config("google_sheets", values)


@pytest.fixture
def google_sheets_backend(sheets_tables) -> Backend:
    from apps.connections.sources.google_sheets import GoogleSheetsSource, _api

    server = sheets_tables
    _api(server.endpoint)  # the client's one-time set-up (once a process), not any read's
    # What the tests run "as the administrator" (CREATE, INSERT, UPDATE, DROP) runs in a DuckDB mirror;
    # every table of the mirror is then written to the spreadsheet as a sheet (header row, then the rows),
    # as a person editing the spreadsheet would, and a dropped table's sheet is removed.
    mirror = duckdb.connect()

    def sheet(title: str):
        spreadsheet = server.spreadsheets[SHEETS_SPREADSHEET]
        return next((s for s in spreadsheet.sheets if s.title == title), None)

    def tables() -> set[str]:
        return {
            row[0] for row in mirror.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }

    def execute(*statements: str) -> None:
        before = tables()
        for statement in statements:
            mirror.execute(statement)
        for table in tables():
            result = mirror.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - the mirror's own tables
            header = [column[0] for column in result.description]
            server.put_sheet(SHEETS_SPREADSHEET, table, [header, *map(list, result.fetchall())])
        for table in before - tables():
            server.drop_sheet(SHEETS_SPREADSHEET, table)

    return Backend(
        name="google_sheets",
        make_source=lambda **overrides: GoogleSheetsSource(
            sheets_config(**overrides), endpoint=server.endpoint
        ),
        read_canary=lambda: [tuple(row) for row in sheet("canary").rows[1:]],
        table_exists=lambda table: sheet(table) is not None,
        execute=execute,
        connection=sheets_config,
        app_settings={"GOOGLE_SHEETS_ENDPOINT": server.endpoint},
    )
