"""Every dashboard page with a big history: one sync with 10,000 runs (and a run with 50,000 records that
did not go through, 250,000 in all), 30 other syncs, 30 models, 12 connections. For each page: the median
over N requests through the Django test client (wall clock), the part of it spent in SQL, the CPU this
process spent (Python: view and template; it does not grow when other processes compete for the CPUs, the
wall clock does), and its SQL statements. The slowest page's median (target < 200 ms) is the last line.

Set-up (not timed) fills a scratch app database directly (the pages only read it: no run is executed).
Run: ``.venv/bin/python benchmarks/dashboard_pages.py [--runs 10000] [--requests 20] [--keep | --reuse]``
(--keep leaves the database for a later --reuse, which measures again without the set-up).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time

from _harness import django_setup, drop_database

DATABASE = "syncline_bench_dashboard"
OTHER_SYNCS, MODELS, CONNECTIONS = 30, 30, 12
BIG_RUN_RECORDS, RECORDS_PER_RUN, RUNS_WITH_RECORDS = 50_000, 100, 2_000
CODES = ["parameter_invalid", "conflict", "not_found", "server_error", "unauthorized"]


def populate(runs: int):
    """A workspace with an owner and the history described above; returns (user, workspace, sync, run)."""
    from django.db import connection

    from apps.connections.models import Connection
    from apps.models.models import SqlModel
    from apps.syncs.models import Sync, SyncRun
    from apps.tenancy.models import Membership, Role, User, Workspace

    user = User.objects.create_user(email="bench@example.com", password=secrets.token_urlsafe())
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    source = Connection.objects.create(
        workspace=workspace,
        name="Warehouse",
        kind="source",
        type="postgres",
        config={"host": "db.example"},
        credentials={},
        status="connected",
    )
    destination = Connection.objects.create(
        workspace=workspace,
        name="Intercom",
        kind="destination",
        type="intercom",
        config={"region": "US", "workspace_id": "x"},
        credentials={"access_token": "x"},
        status="connected",
    )
    for n in range(CONNECTIONS - 2):
        Connection.objects.create(
            workspace=workspace,
            name=f"Warehouse {n}",
            kind="source",
            type="duckdb",
            config={"path": f"/data/{n}.duckdb"},
            credentials={},
            status="failing" if n == 0 else "connected",
        )
    columns = [{"name": c, "db_type": "text", "kind": "string"} for c in ("id", "email", "name", "plan")]
    models = [
        SqlModel.objects.create(
            workspace=workspace,
            name=f"Model {n:02}",
            source=source,
            primary_key="id",
            sql="SELECT id, email, name, plan FROM people",
            columns=columns,
        )
        for n in range(MODELS)
    ]
    sync_fields = {"destination": destination, "object_key": "user", "behavior": "upsert", "key_column": "email",
                   "key_identifier": "email", "mappings": [{"target": "name", "field_type": "string",
                                                            "column": "name"}]}  # fmt: skip
    sync = Sync.objects.create(workspace=workspace, name="People", model=models[0], **sync_fields)
    others = [
        Sync.objects.create(workspace=workspace, name=f"Sync {n:02}", model=models[n % MODELS], **sync_fields)
        for n in range(OTHER_SYNCS)
    ]
    statuses = ["succeeded"] * 8 + ["partially_failed", "failed"]
    SyncRun.objects.bulk_create(
        (
            SyncRun(
                workspace=workspace,
                sync=sync,
                status=statuses[i % 10],
                trigger="schedule",
                counts={
                    "source_rows": 5000,
                    "created": i % 7,
                    "updated": 40 + i % 13,
                    "unchanged": 4950,
                    "rejected": (i % 10 == 8) * 5 + (i % 10 == 9) * 45,
                    "api_calls": 50,
                },
            )
            for i in range(runs)
        ),
        batch_size=2000,
    )
    SyncRun.objects.bulk_create(
        SyncRun(workspace=workspace, sync=other, status="succeeded", counts={"updated": 3, "unchanged": 97})
        for other in others
        for _ in range(20)
    )
    with connection.cursor() as cursor:
        # Spread the runs over 60 days, 10 minutes apart, started a few seconds after being queued.
        cursor.execute(
            "UPDATE syncs_syncrun SET created_at = now() - (id % 8640) * interval '10 minutes', "
            "started_at = now() - (id % 8640) * interval '10 minutes' + interval '3 seconds', "
            "finished_at = now() - (id % 8640) * interval '10 minutes' + interval '95 seconds'"
        )
        big = SyncRun.objects.for_workspace(workspace).filter(sync=sync).order_by("-created_at").first()
        cursor.execute(
            "INSERT INTO syncs_recordresult (workspace_id, run_id, key, outcome, code, message, created_at, "
            "destination_id, already_existed, lookup) "
            "SELECT %s, %s, 'person' || i || '@bench.example', CASE WHEN i %% 10 = 0 THEN 'invalid' ELSE "
            "'rejected' END, CASE WHEN i %% 10 = 0 THEN 'invalid' ELSE (%s::text[])[1 + i %% 5] END, "
            "'Custom attribute ''plan'' is of type string, got ' || i, now(), '', false, "
            "'person' || i || '@bench.example' FROM generate_series(1, %s) i",
            [workspace.pk, big.pk, CODES, BIG_RUN_RECORDS],
        )
        cursor.execute(
            "INSERT INTO syncs_recordresult (workspace_id, run_id, key, outcome, code, message, created_at, "
            "destination_id, already_existed, lookup) "
            "SELECT %s, r.id, 'person' || i || '@bench.example', 'rejected', 'conflict', 'A contact matching', "
            "now(), '', false, 'person' || i || '@bench.example' FROM (SELECT id FROM syncs_syncrun WHERE sync_id = %s AND id <> %s ORDER BY id LIMIT %s) r, "
            "generate_series(1, %s) i",
            [workspace.pk, sync.pk, big.pk, RUNS_WITH_RECORDS, RECORDS_PER_RUN],
        )
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a table at rest
    return user, workspace, sync, big


def existing():
    from django.db.models import Count

    from apps.syncs.models import Sync, SyncRun
    from apps.tenancy.models import User, Workspace

    workspace = Workspace.objects.get(slug="bench")
    sync = Sync.objects.for_workspace(workspace).get(name="People")
    run = SyncRun.objects.for_workspace(workspace).annotate(n=Count("record_results")).order_by("-n").first()
    return User.objects.get(email="bench@example.com"), workspace, sync, run


def pages(workspace, sync, run) -> list[tuple[str, str]]:
    from django.urls import reverse

    def url(name, *args):
        return reverse(name, args=[workspace.slug, *args])

    return [
        ("home", url("workspace_home")),
        ("sync list", url("sync_list")),
        ("sync page", url("sync_detail", sync.pk)),
        ("sync page, history page 150", url("sync_detail", sync.pk) + "?page=150"),
        ("runs list", url("run_list")),
        ("runs list, page 150", url("run_list") + "?page=150"),
        ("run page (50,000 records)", url("run_detail", run.pk)),
        ("run page, key search", url("run_detail", run.pk) + "?q=person4242"),
        (
            "run page, one code, page 50",
            url("run_detail", run.pk) + "?outcome=rejected&code=conflict&page=50",
        ),
        ("connections", url("connection_list")),
        ("models", url("model_list")),
    ]


class QueryMeter:
    """Counts the SQL statements run inside it and the time they took (an execute wrapper, so it sees the
    statements of the request however the connection is opened or reset)."""

    def __init__(self):
        self.queries, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            self.seconds += time.perf_counter() - started


def measure(client, path: str, requests: int) -> tuple[float, float, float, int, int]:
    """Medians of GET path: wall ms, SQL ms, this process's CPU ms; then SQL statements and response KB."""
    from django.db import connection

    for _ in range(2):  # warm: templates compiled, plans cached
        assert client.get(path).status_code == 200, path
    timings, sql_timings, cpu_timings, size, queries = [], [], [], 0, 0
    for _ in range(requests):
        meter = QueryMeter()
        with connection.execute_wrapper(meter):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        sql_timings.append(meter.seconds * 1000)
        size, queries = len(response.content), meter.queries
    median = statistics.median
    return median(timings), median(sql_timings), median(cpu_timings), queries, size // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the big sync's history")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="leave the database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure the database a --keep run left")
    args = parser.parse_args()
    django_setup(DATABASE, fresh=not args.reuse)
    try:
        from django.test import Client

        started = time.monotonic()
        user, workspace, sync, run = existing() if args.reuse else populate(args.runs)
        print(
            f"set-up: {args.runs:,} runs, {BIG_RUN_RECORDS + RUNS_WITH_RECORDS * RECORDS_PER_RUN:,} record "
            f"results in {time.monotonic() - started:.1f} s"
        )
        # Not setup_test_environment(): its template instrumentation copies every context (test-only cost).
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        rows = [(name, *measure(client, path, args.requests)) for name, path in pages(workspace, sync, run)]
        load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"medians of {args.requests} requests; load average {load} on {os.cpu_count()} CPUs")
        print(f"{'page':<32} {'median ms':>10} {'SQL ms':>7} {'CPU ms':>7} {'queries':>8} {'KB':>5}")
        for name, median, sql, cpu, queries, size in rows:
            print(f"{name:<32} {median:>10.1f} {sql:>7.1f} {cpu:>7.1f} {queries:>8} {size:>5}")
        slowest = max(rows, key=lambda row: row[1])
        print(f"slowest: {slowest[0]}, median in ms (target < 200):")
        print(f"{slowest[1]:.1f}")
    finally:
        if not (args.keep or args.reuse):
            drop_database(DATABASE)


if __name__ == "__main__":
    main()
