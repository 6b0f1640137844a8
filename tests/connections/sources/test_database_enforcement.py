"""The database refuses writes too, not only Syncline's parser: here the parser check is bypassed (the
adapters' ``_preview`` and lower) or blind (a function with side effects), and nothing is written."""

from __future__ import annotations

import psycopg
import pymysql
import pytest
from pymysql.constants import CLIENT

from apps.connections.sources.errors import QueryError, SourceError, UnsafeQueryError

from .conftest import CANARY_ROWS
from .test_refusals import ATTACKS, assert_untouched

# What each database refuses by itself. MySQL/MariaDB commits implicitly before DDL, so there the
# session's own read-only setting (not only the transaction's) is what refuses DROP and CREATE.


def test_postgres_function_with_side_effects_is_refused_by_the_read_only_transaction(pg_backend):
    source = pg_backend.make_source()
    with pytest.raises(UnsafeQueryError) as refused:
        source.preview("SELECT writer_fn()")  # a plain SELECT to any parser
    assert refused.value.refused_by == "database"
    assert "read-only transaction" in str(refused.value)
    assert_untouched(pg_backend)


def test_mysql_function_with_side_effects_is_refused_by_the_read_only_transaction(mysql_backend):
    source = mysql_backend.make_source()
    with pytest.raises(UnsafeQueryError) as refused:
        source.preview("SELECT writer_fn()")
    assert refused.value.refused_by == "database"
    assert "READ ONLY transaction" in str(refused.value)
    assert_untouched(mysql_backend)


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_postgres_refuses_every_attack_without_the_parser(pg_backend, attack):
    with pytest.raises((UnsafeQueryError, QueryError)):
        pg_backend.make_source()._preview(attack)
    assert_untouched(pg_backend)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_mysql_refuses_attacks_without_the_parser(mysql_backend, name):
    with pytest.raises((UnsafeQueryError, QueryError)):
        mysql_backend.make_source()._preview(ATTACKS[name])
    assert_untouched(mysql_backend)


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_duckdb_refuses_every_attack_without_sqlglot(duckdb_backend, attack):
    with pytest.raises(SourceError):
        duckdb_backend.make_source()._preview(attack)
    assert_untouched(duckdb_backend)


@pytest.mark.parametrize(
    "name",
    [
        "insert",
        "update",
        "delete",
        "drop",
        "create",
        "call_writing_procedure",
        "select_then_drop",
        "commit_then_delete",
    ],
)
def test_mysql_refusals_come_from_the_server(mysql_backend, name):
    with pytest.raises(UnsafeQueryError) as refused:
        mysql_backend.make_source()._preview(ATTACKS[name])
    assert refused.value.refused_by == "database"


@pytest.mark.parametrize(
    "name", ["insert", "delete", "drop", "call_writing_procedure", "select_then_drop", "writable_cte"]
)
def test_postgres_refusals_come_from_the_server(pg_backend, name):
    with pytest.raises(UnsafeQueryError) as refused:
        pg_backend.make_source()._preview(ATTACKS[name])
    assert refused.value.refused_by == "database"


def test_postgres_transaction_stays_read_only_for_plain_statements(pg_backend):
    """Below the cursor: inside the adapter's transaction, plain DML and attempts to switch back to
    read-write are refused by PostgreSQL."""
    source = pg_backend.make_source()
    conn = source._connect()
    try:
        source._begin_read_only(conn, 5)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            # simple query protocol: both statements reach the server; the default applies to later
            # transactions only, so the DELETE is still refused
            conn.execute("SET default_transaction_read_only = off; DELETE FROM canary")
        conn.execute("ROLLBACK")
        source._begin_read_only(conn, 5)
        conn.execute("SELECT 1")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("SET transaction_read_only = off")
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert_untouched(pg_backend)


def test_postgres_server_cursor_refuses_multiple_statements(pg_backend):
    with pytest.raises(UnsafeQueryError, match="multiple commands"):
        pg_backend.make_source()._preview("SELECT 1; DELETE FROM canary")
    assert pg_backend.read_canary() == CANARY_ROWS


def test_mysql_session_is_read_only_and_single_statement(mysql_backend):
    source = mysql_backend.make_source()
    conn = source._connect()
    try:
        assert not conn.client_flag & CLIENT.MULTI_STATEMENTS
        source._start_read_only(conn, 5)
        with conn.cursor() as cursor:
            with pytest.raises(pymysql.OperationalError) as refused:
                cursor.execute("DELETE FROM canary")
            assert refused.value.args[0] == 1792  # cannot execute statement in a READ ONLY transaction
            with pytest.raises(pymysql.MySQLError):
                cursor.execute("SET TRANSACTION READ WRITE")  # not while the transaction is open
            with pytest.raises(pymysql.ProgrammingError):
                cursor.execute("SELECT 1; DELETE FROM canary")
    finally:
        conn.close()
    assert_untouched(mysql_backend)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM canary",
        "INSERT INTO canary VALUES (99, 'x')",
        "DROP TABLE canary",
        "CREATE TABLE intruder (id INTEGER)",
        "COPY canary TO '/tmp/syncline_src_test_copy.csv'",
        "ATTACH '/tmp/syncline_src_test_attached.duckdb' AS other",
        "SET enable_external_access = true",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_duckdb_connection_itself_refuses(duckdb_backend, statement):
    """Below every check: the connection the adapter opens (read-only file, external access off,
    configuration locked) refuses these on its own."""
    import duckdb

    source = duckdb_backend.make_source()
    with source._connection() as conn, pytest.raises(duckdb.Error):
        conn.execute(statement)
    assert_untouched(duckdb_backend)
