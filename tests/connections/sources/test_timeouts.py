"""Queries that run too long are cancelled at the connection's limit, say so, and leave nothing running."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from apps.connections.sources.errors import QueryTimeout

from .conftest import PG_ADMIN_DSN, TEST_TIMEOUT_SECONDS, mysql_query


def pg_backends_running(marker: str) -> list[tuple]:
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            [f"%{marker}%"],
        ).fetchall()


def wait_until_gone(probe, seconds: float = 5.0) -> list:
    deadline = time.monotonic() + seconds
    while (left := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_pg_sleep_preview_is_cancelled_at_the_timeout_and_leaves_no_backend(pg_backend):
    marker = f"syncline_probe_{uuid.uuid4().hex}"
    source = pg_backend.make_source(preview_timeout_seconds=TEST_TIMEOUT_SECONDS)
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as timed_out:
        source.preview(f"SELECT pg_sleep(600) AS {marker}")
    elapsed = time.monotonic() - started
    assert TEST_TIMEOUT_SECONDS <= elapsed < TEST_TIMEOUT_SECONDS + 3
    assert "cancelled after 2 seconds" in str(timed_out.value)
    assert timed_out.value.seconds == TEST_TIMEOUT_SECONDS
    assert wait_until_gone(lambda: pg_backends_running(marker)) == []


def syncline_backends(database: str) -> list[tuple]:
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity WHERE datname = %s AND application_name = 'syncline'",
            [database],
        ).fetchall()


def test_pg_stream_dropped_midway_leaves_no_backend(pg_backend, pg_database):
    earlier = {pid for pid, _, _ in syncline_backends(pg_database)}  # another test's, still ending
    stream = pg_backend.make_source().stream("SELECT id, payload FROM big", batch_size=100)
    next(stream)

    def this_streams():
        return [row for row in syncline_backends(pg_database) if row[0] not in earlier]

    (backend,) = this_streams()  # after FETCH its last query is the FETCH
    assert backend[1] == "idle in transaction"
    stream.close()
    assert wait_until_gone(this_streams) == []


def test_pg_stream_is_bounded_by_the_extraction_timeout(pg_backend):
    source = pg_backend.make_source(extract_timeout_seconds=TEST_TIMEOUT_SECONDS)
    with pytest.raises(QueryTimeout, match="2 seconds"):
        list(source.stream("SELECT pg_sleep(600)"))


def mysql_sessions_running(marker: str) -> list[tuple]:
    return list(
        mysql_query(
            "SELECT id, info FROM information_schema.processlist WHERE info LIKE %s AND id <> CONNECTION_ID()",
            [f"%{marker}%"],
        )
    )


def test_mysql_sleep_preview_is_cancelled_at_the_timeout_and_leaves_no_session(mysql_backend):
    marker = f"syncline_probe_{uuid.uuid4().hex}"
    source = mysql_backend.make_source(preview_timeout_seconds=TEST_TIMEOUT_SECONDS)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="cancelled after 2 seconds"):
        source.preview(f"SELECT SLEEP(600) AS {marker}")
    assert time.monotonic() - started < TEST_TIMEOUT_SECONDS + 3
    assert wait_until_gone(lambda: mysql_sessions_running(marker)) == []


def test_mysql_stream_dropped_midway_leaves_no_session(mysql_backend):
    marker = f"syncline_probe_{uuid.uuid4().hex}"
    stream = mysql_backend.make_source().stream(f"SELECT id, payload AS {marker} FROM big", batch_size=100)  # noqa: S608
    next(stream)
    assert mysql_sessions_running(marker), "the extraction should be open while it is being read"
    stream.close()
    assert wait_until_gone(lambda: mysql_sessions_running(marker)) == []


def test_duckdb_long_query_is_interrupted_at_the_timeout(duckdb_backend):
    source = duckdb_backend.make_source(preview_timeout_seconds=TEST_TIMEOUT_SECONDS)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="cancelled after 2 seconds"):
        source.preview("SELECT count(*) FROM range(1000000000) a, range(1000) b")
    assert time.monotonic() - started < TEST_TIMEOUT_SECONDS + 3
    # the file is free again: a new read works at once
    assert duckdb_backend.make_source().preview("SELECT 1").rows == [(1,)]


# --- the schema browser and the key check: within the preview time limit, not the extraction's ------------


def test_the_catalog_and_the_key_check_stop_at_the_preview_time_limit(pg_backend, monkeypatch):
    from apps.connections.sources.postgres import PostgresSource

    source = pg_backend.make_source(preview_timeout_seconds=TEST_TIMEOUT_SECONDS, extract_timeout_seconds=600)
    # A catalog that takes far longer than a person waits (a warehouse with a huge catalog, say).
    monkeypatch.setattr(
        PostgresSource,
        "_catalog_sql",
        lambda self, search, limit: "SELECT 's', 't', 'c', 'x', 1 FROM pg_sleep(60)",
    )
    for call in (source.catalog, lambda: source.key_check("SELECT 1 AS id FROM pg_sleep(60)", "id")):
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="cancelled after 2 seconds"):
            call()
        assert time.monotonic() - started < TEST_TIMEOUT_SECONDS + 3
