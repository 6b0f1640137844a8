"""A no-change rerun of a 1,000,000-row PostgreSQL model: zero API calls, peak memory (target < 300 MB),
and its wall time divided by the time to read the same query with COPY … TO STDOUT (target ≤ 3).

Set-up (not timed): the demo users are loaded into a scratch warehouse database, a User sync keyed on
external_id is created in a scratch app database, and its ledger and run history are filled as a
completed first run would leave them (the planner's payload hashes, the warehouse's row fingerprints).
Then, three times each, in fresh processes that report their own peak resident memory (VmHWM): a real
run (fingerprints read and compared, nothing to send) and a COPY of the model's query. Medians are printed; the last line is the ratio rerun / COPY.

Run: ``.venv/bin/python benchmarks/no_change_rerun.py [--users N]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time

from _harness import ADMIN_DSN, django_setup, drop_database, peak_mb, start_emulator, workspace_with_sync

# Per-process database names: several people may run benchmarks on one PostgreSQL server at once.
APP_DB, WAREHOUSE_DB = f"syncline_bench_rerun_{os.getpid()}", f"syncline_bench_warehouse_{os.getpid()}"
SQL = "SELECT external_id, email, name, plan, mrr, signed_up_at, last_seen_at, sessions_30d FROM users"
COLUMNS = ["external_id", "email", "name", "plan", "mrr", "signed_up_at", "last_seen_at", "sessions_30d"]
MAPPINGS = [
    {"target": "email", "field_type": "string", "column": "email"},
    {"target": "name", "field_type": "string", "column": "name"},
    {"target": "signed_up_at", "field_type": "date", "column": "signed_up_at"},
    {"target": "last_seen_at", "field_type": "date", "column": "last_seen_at"},
    {"target": "plan", "field_type": "string", "column": "plan", "custom": True},
    {"target": "mrr", "field_type": "float", "column": "mrr", "custom": True},
    {"target": "sessions_30d", "field_type": "integer", "column": "sessions_30d", "custom": True},
]
ATTRIBUTES = [{"name": "plan", "data_type": "string"}, {"name": "mrr", "data_type": "float"},
              {"name": "sessions_30d", "data_type": "integer"}]  # fmt: skip
SOURCE = {"host": "127.0.0.1", "port": 5432, "database": WAREHOUSE_DB, "user": "postgres", "sslmode": "disable",
          "search_path": "demo"}  # fmt: skip


def worker_rerun(sync_id: int, emulator_url: str, app_db: str) -> dict:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{app_db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from _harness import run_now
    from django.conf import settings

    from apps.syncs.models import Sync

    settings.INTERCOM_API_BASE_URLS = {r: f"{emulator_url}/{r.lower()}" for r in ("US", "EU", "AU")}
    sync = Sync.objects.across_all_workspaces_unsafe().select_related("workspace").get(pk=sync_id)
    started = time.monotonic()
    run = run_now(sync.workspace, sync)
    return {"seconds": time.monotonic() - started, "peak_mb": peak_mb(), "counts": run.counts,
            "status": run.status}  # fmt: skip


def worker_copy(warehouse_db: str) -> dict:
    import psycopg

    started = time.monotonic()
    size = 0
    dsn = f"host=127.0.0.1 user=postgres dbname={warehouse_db} options=-csearch_path=demo"
    with psycopg.connect(dsn) as conn, conn.cursor().copy(f"COPY ({SQL}) TO STDOUT") as copy:
        for chunk in copy:
            size += len(chunk)
    return {"seconds": time.monotonic() - started, "peak_mb": peak_mb(), "bytes": size}


def spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed_ledger(sync) -> int:
    """Fill the ledger as a finished first run would: the planner's hashes and the warehouse's row
    fingerprints, one fake Intercom id per key."""
    from django.db import connection

    from apps.syncs.runs.planning import sync_plan

    planned = sync_plan(
        sync=sync, full_resync=False
    )  # the sync never ran: a first run's plan, every row read
    rows = 0
    # In chunks: the plan queries the ledger on the same connection, which a COPY in progress holds.
    while chunk := list(itertools.islice(planned, 50_000)):
        if connection.vendor != "postgresql":  # the embedded SQLite database: the ORM
            from django.utils import timezone

            from apps.syncs.models import LedgerEntry

            LedgerEntry.objects.bulk_create(
                [
                    LedgerEntry(
                        workspace_id=sync.workspace_id, sync=sync, key=record.key, payload_hash=record.payload_hash,
                        row_hash=record.row_hash, destination_id=f"c{rows + n}", synced_at=timezone.now(),
                    )
                    for n, record in enumerate(chunk)
                ],
                batch_size=5000,
            )  # fmt: skip
            rows += len(chunk)
            continue
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY syncs_ledgerentry (workspace_id, sync_id, key, payload_hash, row_hash, destination_id, "
                "company_id, last_rejection, rejected_hash, rejection_code, retry_stopped, synced_at) FROM STDIN"
            ) as copy,
        ):
            for record in chunk:
                copy.write_row(
                    (
                        sync.workspace_id,
                        sync.pk,
                        record.key,
                        record.payload_hash,
                        record.row_hash,
                        f"c{rows}",
                        "",
                        "",
                        "",
                        "",
                        False,
                        "now",
                    )
                )
                rows += 1
    # … and a run history that says so, as the first run leaves it.
    from apps.syncs.engine.outcomes import RunCounts
    from apps.syncs.models import RunStatus
    from apps.syncs.runs import services as run_services

    first = run_services.sync_run_start(workspace=sync.workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=first)
    run_services.run_finish(
        run=first, status=RunStatus.SUCCEEDED, counts=RunCounts(source_rows=rows, created=rows)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE syncs_ledgerentry")  # as autovacuum would after a first run's inserts
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--worker", choices=["rerun", "copy"])
    parser.add_argument("--sync-id", type=int)
    parser.add_argument("--emulator")
    parser.add_argument("--database", help="workers: the app or warehouse database to use")
    parser.add_argument("--profile", action="store_true", help="profile one rerun in this process instead")
    args = parser.parse_args()
    if args.worker == "rerun":
        print(json.dumps(worker_rerun(args.sync_id, args.emulator, args.database)))
        return
    if args.worker == "copy":
        print(json.dumps(worker_copy(args.database)))
        return

    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{WAREHOUSE_DB}"')
    server = None
    try:
        django_setup(APP_DB)
        server, emulator = start_emulator()
        started = time.monotonic()
        load_into_postgres(f"host=127.0.0.1 user=postgres dbname={WAREHOUSE_DB}", users=args.users)
        _, sync, _ = workspace_with_sync(
            emulator,
            source_type="postgres",
            source_config=SOURCE,
            sql=SQL,
            primary_key="external_id",
            columns=COLUMNS,
            object_key="user",
            behavior="upsert",
            key_column="external_id",
            key_identifier="external_id",
            mappings=MAPPINGS,
            data_attributes=ATTRIBUTES,
        )
        seeded = seed_ledger(sync)
        print(
            f"set-up: {args.users:,} users loaded, {seeded:,} ledger entries, {time.monotonic() - started:.0f} s"
        )
        if args.profile:
            import cProfile
            import pstats

            from _harness import run_now

            profiler = cProfile.Profile()
            profiler.runcall(run_now, sync.workspace, sync)
            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(40)
            return
        reruns, copies = [], []
        for _ in range(3):
            reruns.append(
                spawn(
                    "--worker",
                    "rerun",
                    "--sync-id",
                    str(sync.pk),
                    "--emulator",
                    server.root_url,
                    "--database",
                    APP_DB,
                )
            )
            copies.append(spawn("--worker", "copy", "--database", WAREHOUSE_DB))
        calls = sorted({r["counts"]["api_calls"] for r in reruns})
        unchanged = sorted({r["counts"]["unchanged"] for r in reruns})
        rerun_s = statistics.median(r["seconds"] for r in reruns)
        copy_s = statistics.median(c["seconds"] for c in copies)
        print(
            f"rerun: {rerun_s:.2f} s median, peak {statistics.median(r['peak_mb'] for r in reruns):.0f} MB, "
            f"API calls {calls}, unchanged {unchanged}, emulator requests {emulator.request_count()}"
        )
        print(f"COPY:  {copy_s:.2f} s median, peak {statistics.median(c['peak_mb'] for c in copies):.0f} MB")
        print(f"{rerun_s / copy_s:.2f}")
    finally:
        if server is not None:
            server.stop()
        drop_database(APP_DB)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
