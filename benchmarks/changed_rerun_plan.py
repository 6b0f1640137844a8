"""Reruns of a 1,000,000-row PostgreSQL model where a share of the rows changed: how long planning takes
(the digest, the pass over (key, fingerprint) pairs, reading and building only the changed rows), side by
side with a COPY of the same query. Sending is left out: its time is Intercom's rate limit.

Set-up as in no_change_rerun.py, once (not timed). Then for each share of the sweep (0, 1%, 10% and
100% by default), that share of the users change their sessions_30d, and three times each: the run's plan
consumed to the end in a fresh process that plans twice (a worker's first plan pays for imports and
connections: shown, not counted) and reports its peak resident memory (no call is made: it is a plan),
then a COPY. Medians are printed per share; the last line is the ratio plan / COPY at 1%.

With ``--app-db sqlite`` the ledger lives in an SQLite file, as in the embedded default (``./syncline run``
without a DATABASE_URL): no aggregate compares the ledger as a whole there, so every rerun reads the pairs.

Run: ``.venv/bin/python benchmarks/changed_rerun_plan.py [--users N] [--changed-share 0.01 …] [--repeat 3]
[--app-db sqlite]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter

import no_change_rerun as base
from _harness import (
    ADMIN_DSN,
    database_url,
    django_setup,
    drop_database,
    peak_mb,
    start_emulator,
    workspace_with_sync,
)

TARGET_SHARE = 0.01  # the share whose ratio is the last line (the everyday case)


def worker_plan(sync_id: int, app_db: str) -> dict:
    """Two plans in this fresh process: their times, the counts and the process's peak memory."""
    os.environ["DATABASE_URL"] = database_url(app_db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from apps.syncs.models import Sync
    from apps.syncs.runs.planning import sync_plan

    sync = (
        Sync.objects.across_all_workspaces_unsafe()
        .select_related("workspace", "model__source")
        .get(pk=sync_id)
    )
    seconds = []
    outcome: Counter = Counter()
    for _ in range(2):  # the first as a worker's first plan (imports, connections), the second timed
        started = time.monotonic()
        outcome = Counter()
        for record in sync_plan(sync=sync, full_resync=False):
            outcome[str(record.operation)] += record.rows
        seconds.append(time.monotonic() - started)
    return {
        "seconds": seconds[-1],
        "first_seconds": seconds[0],
        "peak_mb": peak_mb(),
        "outcome": dict(outcome),
    }


def spawn_plan(sync_id: int) -> dict:
    command = [sys.executable, __file__, "plan", str(sync_id), base.APP_DB]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def change(warehouse: str, share: float, sign: int) -> int:
    """Add `sign` to sessions_30d of that share of the users (every n-th); the rows changed."""
    import psycopg

    if share <= 0:
        return 0
    every = round(1 / share)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        changed = conn.execute(
            f"UPDATE demo.users SET sessions_30d = sessions_30d + {sign} WHERE user_id % {every} = 0"  # noqa: S608
        ).rowcount
        conn.execute("VACUUM ANALYZE demo.users")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--changed-share", type=float, nargs="+", default=[0, TARGET_SHARE, 0.1, 1.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--app-db",
        choices=["postgres", "sqlite"],
        default="postgres",
        help="where the ledger lives: PostgreSQL, or the SQLite file of the embedded default",
    )
    args = parser.parse_args()
    if args.app_db == "sqlite":
        base.APP_DB = f"/tmp/syncline_bench_rerun_{os.getpid()}.sqlite3"

    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{base.WAREHOUSE_DB}"')
    server = None
    warehouse = f"host=127.0.0.1 user=postgres dbname={base.WAREHOUSE_DB}"
    ratios: dict[float, float] = {}
    try:
        django_setup(base.APP_DB)
        server, emulator = start_emulator()
        load_into_postgres(warehouse, users=args.users)
        _, sync, _ = workspace_with_sync(
            emulator,
            source_type="postgres",
            source_config=base.SOURCE,
            sql=base.SQL,
            primary_key="external_id",
            columns=base.COLUMNS,
            object_key="user",
            behavior="upsert",
            key_column="external_id",
            key_identifier="external_id",
            mappings=base.MAPPINGS,
            data_attributes=base.ATTRIBUTES,
        )
        base.seed_ledger(sync)
        from django.db import connections

        connections.close_all()
        print(
            f"set-up: {args.users:,} users, ledger seeded in {args.app_db}; {args.repeat} plans and COPYs per "
            "share, medians"
        )
        for share in args.changed_share:
            changed = change(warehouse, share, +1)
            plans, copies = [], []
            for _ in range(args.repeat):
                plans.append(spawn_plan(sync.pk))
                copies.append(base.worker_copy(base.WAREHOUSE_DB)["seconds"])
            change(warehouse, share, -1)
            plan_s = statistics.median(p["seconds"] for p in plans)
            copy_s = statistics.median(copies)
            ratios[share] = plan_s / copy_s
            outcome = ", ".join(f"{op} {n:,}" for op, n in sorted(plans[-1]["outcome"].items()))
            first_s = statistics.median(p["first_seconds"] for p in plans)
            print(
                f"{share:>6.0%} changed ({changed:,} rows): plan {plan_s:.2f} s, a process's first "
                f"{first_s:.2f} s ({outcome}), "
                f"peak {max(p['peak_mb'] for p in plans):.0f} MB; COPY {copy_s:.2f} s; "
                f"ratio {ratios[share]:.2f}",
                flush=True,
            )
        print(f"emulator requests {emulator.request_count()}")
        if TARGET_SHARE in ratios:
            print(f"{ratios[TARGET_SHARE]:.2f}")
    finally:
        if server is not None:
            server.stop()
        drop_database(base.APP_DB)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "plan":
        print(json.dumps(worker_plan(int(sys.argv[2]), sys.argv[3])))
    else:
        main()
