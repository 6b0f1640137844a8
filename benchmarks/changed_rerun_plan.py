"""A rerun of a 1,000,000-row PostgreSQL model where 1% of the rows changed: how long planning it takes
(the (key, fingerprint) pass, the ledger lookups, then reading and building only the changed rows), side
by side with a COPY of the same query. Sending is left out: its time is Intercom's rate limit.

Set-up as in no_change_rerun.py (not timed), then 1% of the users change their sessions_30d. Three
times each, in this process: the run's plan consumed to the end (no call is made: it is a plan), and
a COPY. Medians are printed; the last line is the ratio plan / COPY.

Run: ``.venv/bin/python benchmarks/changed_rerun_plan.py [--users N] [--changed-share 0.01]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import no_change_rerun as base
from _harness import ADMIN_DSN, django_setup, drop_database, start_emulator, workspace_with_sync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--profile", action="store_true", help="profile one plan instead")
    args = parser.parse_args()

    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{base.WAREHOUSE_DB}"')
    server = None
    warehouse = f"host=127.0.0.1 user=postgres dbname={base.WAREHOUSE_DB}"
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
        every = round(1 / args.changed_share)
        with psycopg.connect(warehouse, autocommit=True) as conn:
            changed = conn.execute(
                f"UPDATE demo.users SET sessions_30d = sessions_30d + 1 WHERE user_id % {every} = 0"  # noqa: S608
            ).rowcount
            conn.execute("VACUUM ANALYZE demo.users")
        print(f"set-up: {args.users:,} users, {changed:,} changed ({changed / args.users:.1%})")

        from apps.syncs.runs.planning import sync_plan

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: sum(1 for _ in sync_plan(sync=sync, full_resync=False)))
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            return
        plans, copies, outcome = [], [], Counter()
        for _ in range(3):
            started = time.monotonic()
            outcome = Counter()
            for record in sync_plan(sync=sync, full_resync=False):
                outcome[record.operation] += record.rows
            plans.append(time.monotonic() - started)
            copies.append(base.worker_copy(base.WAREHOUSE_DB)["seconds"])
        plan_s, copy_s = statistics.median(plans), statistics.median(copies)
        print(
            f"plan: {plan_s:.2f} s median ({', '.join(f'{op} {n:,}' for op, n in sorted(outcome.items()))}); "
            f"emulator requests {emulator.request_count()}"
        )
        print(f"COPY: {copy_s:.2f} s median")
        print(f"{plan_s / copy_s:.2f}")
    finally:
        if server is not None:
            server.stop()
        drop_database(base.APP_DB)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
