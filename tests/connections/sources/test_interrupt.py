"""A query can be stopped from another thread (a run's Cancel, a worker's shutdown) within seconds, on the
real servers, and leaves nothing running: PostgreSQL's cancel request, MySQL's KILL QUERY, DuckDB's
interrupt."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from apps.connections.sources.errors import QueryInterrupted

from .test_timeouts import mysql_sessions_running, syncline_backends, wait_until_gone

LONG = 600.0  # the time limits are far away: only the interrupt can stop these queries


def run_in_thread(call):
    """Start `call` in a thread; the returned dict gets "error" (or "result") and "elapsed"."""
    outcome: dict = {}

    def target():
        started = time.monotonic()
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 - the test looks at it
            outcome["error"] = error
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def interrupted_after_it_started(source, call, started) -> dict:
    thread, outcome = run_in_thread(call)
    wait_for(started)
    asked = time.monotonic()
    source.interrupt()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the query went on after the interrupt"
    assert isinstance(outcome.get("error"), QueryInterrupted), outcome
    outcome["after_interrupt"] = time.monotonic() - asked
    return outcome


def test_a_postgres_stream_is_stopped_by_a_cancel_request_and_leaves_no_backend(pg_backend, pg_database):
    source = pg_backend.make_source(extract_timeout_seconds=LONG)
    # Another test's backend may still be ending in this database: only this stream's own one counts.
    earlier = {pid for pid, _, _ in syncline_backends(pg_database)}

    def sleeping():  # the cursor's FETCH is what runs the sleep
        return [
            pid
            for pid, state, query in syncline_backends(pg_database)
            if pid not in earlier and state == "active" and query.lstrip().upper().startswith("FETCH")
        ]

    outcome = interrupted_after_it_started(
        source, lambda: list(source.stream("SELECT 1 AS id, pg_sleep(600) AS nap")), sleeping
    )
    assert outcome["after_interrupt"] < 5
    assert wait_until_gone(lambda: syncline_backends(pg_database)) == []


def test_a_mariadb_sleep_is_stopped_by_kill_query_from_another_thread(mysql_backend):
    marker = f"syncline_probe_{uuid.uuid4().hex}"
    source = mysql_backend.make_source(extract_timeout_seconds=LONG)
    outcome = interrupted_after_it_started(
        source,
        lambda: list(source.stream(f"SELECT 1 AS id, SLEEP(600) AS {marker}")),
        lambda: mysql_sessions_running(marker),
    )
    assert outcome["after_interrupt"] < 5
    assert wait_until_gone(lambda: mysql_sessions_running(marker)) == []


def test_a_long_duckdb_query_is_interrupted(duckdb_backend):
    source = duckdb_backend.make_source(extract_timeout_seconds=LONG)
    stream = source.stream("SELECT sum(hash(range)) AS total FROM range(100000000000)")
    # DuckDB runs the query inside the first fetch: give it a moment to be under way.
    thread, outcome = run_in_thread(lambda: list(stream))
    time.sleep(0.5)
    assert thread.is_alive()
    source.interrupt()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the query went on after the interrupt"
    assert isinstance(outcome.get("error"), QueryInterrupted), outcome
    assert outcome["elapsed"] < 5


@pytest.mark.parametrize("name", ["pg_backend", "mysql_backend", "duckdb_backend"])
def test_an_interrupted_adapter_runs_nothing_more(request, name):
    source = request.getfixturevalue(name).make_source()
    source.interrupt()
    with pytest.raises(QueryInterrupted):
        source.preview("SELECT id FROM canary")
