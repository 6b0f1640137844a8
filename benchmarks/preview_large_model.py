"""Preview and extraction of a large model on one source: time and peak memory, side by side.

``--source`` says which (default postgres):
  - postgres:  the demo users (1,000,000 by default, 17 columns) loaded into a scratch database;
  - snowflake: 100,000 users with 10 columns by default, on fakesnow's server (the real connector over
               HTTP; tests/fixtures/fake_snowflake.py, which needs .venv-fakesnow, made by ./syncline test).
               fakesnow sends a whole result as one chunk, where Snowflake splits it into chunks that the
               adapter reads one at a time: the figure here holds the whole result once, as a single
               Snowflake chunk would;
  - bigquery:  100,000 users with 10 columns by default, on bqemulator (the real google-cloud-bigquery
               client over HTTP; tests/fixtures/fake_bigquery.py, which needs .venv-bqemulator);
  - sheets:    100,000 users with 10 columns (1,000,000 cells) in a sheet served by the stand-in of Google's
               token and Sheets endpoints (the real google-api-python-client over HTTP;
               tests/fixtures/fake_sheets.py). A preview, like an extraction, first reads the whole sheet
               into DuckDB, 10,000 rows a request.
Then each measurement runs three times, each in a fresh Python process that reports its own peak resident
memory (VmHWM), and medians are printed:
  - idle:    a process that imports the adapter and runs the connection test, the floor under the others;
  - preview: the adapter's ``preview`` (100 rows of the model, the rest never read; BigQuery dry-runs first);
  - stream:  the adapter's ``stream`` of every row in batches of 10,000 (rows discarded);
  - copy:    PostgreSQL only, ``COPY (same query) TO STDOUT`` through psycopg, bytes discarded: the fastest
             way out of PostgreSQL, against which the ratio stream_time / copy_time is given.
The last line printed is the median peak memory of the streamed extraction, in MB.

Run: ``.venv/bin/python benchmarks/preview_large_model.py [--source postgres|snowflake|bigquery|sheets] [--users N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from _harness import ADMIN_DSN, peak_mb

RUNS = 3

# The same 10 columns on both stand-ins: text with unicode, numbers, a boolean and a NULL.
SNOWFLAKE_USERS = (
    "CREATE OR REPLACE TABLE {table} AS SELECT seq4() + 1 AS id, "
    "'user' || seq4() || '@example.com' AS email, 'User ' || seq4() AS name, "
    "CASE WHEN seq4() % 3 = 0 THEN 'pro' ELSE 'free' END AS plan, (seq4() % 1000) / 7.0 AS mrr, "
    "seq4() % 50 AS seats, md5(seq4()::VARCHAR) AS external_id, 'Zoë 🚀' AS note, "
    "seq4() % 2 = 0 AS active, NULL::VARCHAR AS nothing "
    "FROM TABLE(GENERATOR(ROWCOUNT => {users}))"
)
BIGQUERY_USERS = (
    "CREATE OR REPLACE TABLE {table} AS SELECT x + 1 AS id, "
    "CONCAT('user', CAST(x AS STRING), '@example.com') AS email, CONCAT('User ', CAST(x AS STRING)) AS name, "
    "IF(MOD(x, 3) = 0, 'pro', 'free') AS plan, MOD(x, 1000) / 7.0 AS mrr, "
    "MOD(x, 50) AS seats, TO_HEX(MD5(CAST(x AS STRING))) AS external_id, 'Zoë 🚀' AS note, "
    "MOD(x, 2) = 0 AS active, CAST(NULL AS STRING) AS nothing "
    "FROM UNNEST(GENERATE_ARRAY(0, {last})) AS x"
)


@dataclass(frozen=True)
class Loaded:
    target: str  # what a worker process opens the source with: a database name, or the stand-in's endpoint
    where: str  # for the "loaded … into …" line
    seconds: float


@dataclass(frozen=True)
class Source:
    table: str
    columns: int
    default_users: int
    load: Callable[[int], AbstractContextManager[Loaded]]  # loads the users; cleans up on leaving
    open: Callable[[str], object]  # the adapter, in a worker, from Loaded.target
    kinds: tuple[str, ...] = ("idle", "preview", "stream")

    @property
    def sql(self) -> str:
        return f"SELECT * FROM {self.table}"  # noqa: S608 - a constant


# --- PostgreSQL -------------------------------------------------------------------------------------------


@contextmanager
def _postgres_loaded(users: int) -> Iterator[Loaded]:
    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    database = f"syncline_src_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        started = time.perf_counter()
        dsn = f"host=127.0.0.1 user=postgres dbname={database}"
        load_into_postgres(dsn, schema="demo", users=users, events_per_user=0)
        yield Loaded(database, database, time.perf_counter() - started)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _postgres_open(database: str):
    from apps.connections.sources.registry import open_source

    return open_source(
        "postgres",
        {
            "host": "127.0.0.1",
            "port": 5432,
            "database": database,
            "user": "postgres",
            "sslmode": "disable",
            "search_path": "demo",
        },
    )


# --- the stand-ins --------------------------------------------------------------------------------------------


def _standin_loaded(running: Callable[[], AbstractContextManager], where: str, table: str, statement: str):
    """Loads the users into a stand-in started for the run (the server's start is not timed)."""

    @contextmanager
    def loaded(users: int) -> Iterator[Loaded]:
        with running() as server:
            started = time.perf_counter()
            server.run(statement.format(table=table, users=users, last=users - 1))
            yield Loaded(server.endpoint, where, time.perf_counter() - started)

    return loaded


def _running_fakesnow():
    from tests.fixtures.fake_snowflake import running_fakesnow

    return running_fakesnow()


def _running_bqemulator():
    from tests.fixtures.fake_bigquery import running_bqemulator

    return running_bqemulator()


def _snowflake_open(endpoint: str):
    from apps.connections.sources.registry import open_source

    values = {"account": "bench", "user": "BENCH", "warehouse": "WH", "database": "SYNCLINE_TEST",
              "schema": "PUBLIC", "password": "bench"}  # fmt: skip
    return open_source("snowflake", values, snowflake_endpoint=endpoint)


def _bigquery_open(endpoint: str):
    from apps.connections.sources.registry import open_source
    from tests.fixtures.fake_bigquery import BIGQUERY_PROJECT, service_account_json

    values = {"project": BIGQUERY_PROJECT, "service_account_json": service_account_json()}
    return open_source("bigquery", values, bigquery_endpoint=endpoint)


@contextmanager
def _sheets_loaded(users: int) -> Iterator[Loaded]:
    """The users as a sheet the stand-in serves from this process; a worker gets its endpoint and the
    service account's key (a file) as its target."""
    import hashlib
    import tempfile

    from tests.fixtures.fake_sheets import running_fake_sheets, sheets_service_account

    key = sheets_service_account("syncline-benchmark")
    with running_fake_sheets() as server, tempfile.NamedTemporaryFile("w", suffix=".json") as key_file:
        key_file.write(json.dumps(key))
        key_file.flush()
        started = time.perf_counter()
        server.register_account(key)
        rows = [
            [
                x + 1,
                f"user{x}@example.com",
                f"User {x}",
                "pro" if x % 3 == 0 else "free",
                round((x % 1000) / 7, 4),
                f"{x % 50:,}",
                hashlib.md5(str(x).encode()).hexdigest(),  # noqa: S324 - test data, not security
                "Zoë 🚀",
                x % 2 == 0,
            ]
            for x in range(users)
        ]
        header = ["id", "email", "name", "plan", "mrr", "seats", "external_id", "note", "active", "nothing"]
        server.add_spreadsheet(
            SHEETS_SPREADSHEET, {"Users": [header, *rows]}, shared_with={key["client_email"]}
        )
        yield Loaded(
            f"{server.endpoint} {key_file.name}", "the Sheets stand-in", time.perf_counter() - started
        )


def _sheets_open(target: str):
    from pathlib import Path

    from apps.connections.sources.registry import open_source

    endpoint, key_file = target.split(" ", 1)
    values = {
        "tables": f"users = {SHEETS_SPREADSHEET} Users",
        "service_account_json": Path(key_file).read_text(),
    }
    return open_source("google_sheets", values, google_sheets_endpoint=endpoint)


SHEETS_SPREADSHEET = "1SynclineBenchmarkSpreadsheet0123456789"
SNOWFLAKE_TABLE, BIGQUERY_TABLE = "SYNCLINE_TEST.PUBLIC.users", "syncline.users"
SOURCES = {
    "postgres": Source("users", 17, 1_000_000, _postgres_loaded, _postgres_open,
                       kinds=("idle", "preview", "stream", "copy")),
    "snowflake": Source(SNOWFLAKE_TABLE, 10, 100_000, _standin_loaded(
        _running_fakesnow, "fakesnow", SNOWFLAKE_TABLE, SNOWFLAKE_USERS), _snowflake_open),
    "bigquery": Source(BIGQUERY_TABLE, 10, 100_000, _standin_loaded(
        _running_bqemulator, "bqemulator", BIGQUERY_TABLE, BIGQUERY_USERS), _bigquery_open),
    "sheets": Source("users", 10, 100_000, _sheets_loaded, _sheets_open),
}  # fmt: skip


# --- the measurements ---------------------------------------------------------------------------------------


def worker(kind: str, source_name: str, target: str) -> dict:
    """Run one measurement in this (fresh) process."""
    spec = SOURCES[source_name]
    if kind == "copy":
        return _copy(spec.sql, target)
    source = spec.open(target)
    rows = 0
    started = time.perf_counter()
    if kind == "idle":
        source.test()
    elif kind == "preview":
        preview = source.preview(spec.sql)
        assert len(preview.rows) == 100 and preview.has_more
        rows = len(preview.rows)
    elif kind == "stream":
        for batch in source.stream(spec.sql, batch_size=10_000):
            rows += len(batch.rows)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "rows": rows}


def _copy(sql: str, database: str) -> dict:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(
        f"host=127.0.0.1 user=postgres dbname={database} options=-csearch_path=demo"
    ) as conn:
        with conn.cursor().copy(f"COPY ({sql}) TO STDOUT") as copy:
            for _ in copy:
                pass
        # Counted apart, though inside the timed span (as this benchmark always measured it): a count is
        # milliseconds where the COPY takes seconds.
        rows = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_mb": peak_mb(), "rows": rows}


def measure(kind: str, source_name: str, target: str) -> dict:
    """The medians of RUNS fresh processes."""
    results = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", kind, "--source", source_name, "--target", target],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_mb": statistics.median(r["peak_mb"] for r in results),
        "rows": results[0]["rows"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default="postgres")
    parser.add_argument("--users", type=int, help="default: 1,000,000 on postgres, 100,000 on the stand-ins")
    parser.add_argument("--worker", choices=["idle", "preview", "stream", "copy"])
    parser.add_argument("--target", help="(a worker's) the database or endpoint to read")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.source, args.target)))
        return 0

    spec = SOURCES[args.source]
    users = args.users or spec.default_users
    with spec.load(users) as loaded:
        print(f"loaded {users:,} users into {loaded.where} in {loaded.seconds:.1f} s")
        print(f"model: {spec.sql}   ({spec.columns} columns; medians of {RUNS} fresh processes each)")
        medians = {}
        for kind in spec.kinds:
            m = medians[kind] = measure(kind, args.source, loaded.target)
            print(
                f"{kind:8} rows={m['rows']:>9,}  time={m['seconds']:8.3f} s  peak RSS={m['peak_mb']:7.1f} MB"
            )
    if "copy" in medians:
        print(f"preview time (s): {medians['preview']['seconds']:.3f}")
        print(f"stream_time / copy_time: {medians['stream']['seconds'] / medians['copy']['seconds']:.2f}")
    above = medians["stream"]["peak_mb"] - medians["idle"]["peak_mb"]
    print(f"extraction peak RSS above the idle process (MB): {above:.1f}")
    print("extraction peak RSS (MB), median:")
    print(f"{medians['stream']['peak_mb']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
