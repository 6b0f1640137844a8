"""The worker's CPU per Intercom call and per unchanged row: process CPU time (every thread, user + system;
not wall clock, so the figure holds on a busy machine) of the process that runs the sync, divided by the
calls it made or the rows it found unchanged. Target: ≤ 1.5 ms a call.

Three runs of a User sync (Update or Create) of a DuckDB table against the emulator (50 ms of latency,
Intercom's 10,000 calls/min): a first sync (every row a create: CPU ÷ calls), a rerun with nothing
changed (the digest path: CPU ÷ rows) and a rerun with `--changed-share` of the rows changed (the
row-by-row path: CPU less the calls' share ÷ unchanged rows). Each run also prints the SQL statements and
Redis commands it sent per 1,000 records. `--profile` prints a cProfile of the first sync's every thread.

Run: ``.venv/bin/python benchmarks/cpu_per_call.py [--records N] [--repeat N] [--profile]``.
The last line is the first sync's CPU milliseconds per call (median of `--repeat`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _harness import django_setup, drop_database, duckdb_people, people_sync, run_now, start_emulator
from _probes import Cost, load_average, measured, profiled

DATABASE = "syncline_bench_cpu"


def _changed(path: Path, share: float) -> int:
    """Change the plan of `share` of the people (every k-th id); returns how many."""
    import duckdb

    every = max(1, round(1 / share))
    with duckdb.connect(str(path)) as conn:
        conn.execute("UPDATE people SET plan = 'pro' WHERE id % ? = 0", [every])
        (changed,) = conn.execute("SELECT count(*) FROM people WHERE plan = 'pro'").fetchone()
    return changed


def _line(label: str, cost: Cost, run, per: str, value: float) -> str:
    records = run.counts["source_rows"] or 1
    return (
        f"{label:<22} {run.counts['api_calls']:>6,} calls {cost.wall:6.1f} s wall {cost.cpu:6.2f} s CPU  "
        f"{per}: {value:5.2f} ms  SQL/1k records: {cost.sql * 1000 / records:6.1f}  "
        f"Redis/1k records: {cost.redis * 1000 / records:6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=10_000, help="calls per minute, per app and workspace")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=1, help="first syncs to measure (each from scratch)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first sync, every thread")
    parser.add_argument("--profile-out", default="", help="also write the profile's stats to this file")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()
    django_setup(args.database, redis_db=args.redis_db)
    from django.conf import settings

    settings.INTERCOM_RATE_LIMIT_PER_MINUTE = args.limit
    server, emulator = start_emulator(
        "--latency-ms",
        str(args.latency_ms),
        "--app-rate-limit",
        str(args.limit),
        "--workspace-rate-limit",
        str(max(args.limit, 25_000)),
    )
    print(f"load average before: {load_average()}")
    per_call: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for attempt in range(args.repeat):
                path = Path(tmp) / f"people{attempt}.duckdb"
                duckdb_people(path, args.records)
                workspace, sync = people_sync(emulator, path)
                if args.profile and attempt == 0:
                    with profiled(dump=args.profile_out) as report, measured() as first_cost:
                        first = run_now(workspace, sync)
                    print(report.getvalue())
                else:
                    with measured() as first_cost:
                        first = run_now(workspace, sync)
                calls = first.counts["api_calls"]
                per_call.append(first_cost.cpu * 1000 / calls)
                print(_line("first sync", first_cost, first, "CPU/call", per_call[-1]))
                if first_cost.by_command:
                    print(f"  Redis commands: {first_cost.by_command}")
            with measured() as same_cost:
                same = run_now(workspace, sync)
            rows = same.counts["unchanged"] or 1
            print(_line("rerun, no change", same_cost, same, "CPU/row", same_cost.cpu * 1000 / rows))
            changed = _changed(path, args.changed_share)
            with measured() as rerun_cost:
                rerun = run_now(workspace, sync)
            unchanged = rerun.counts["unchanged"] or 1
            calls_share = statistics.median(per_call) / 1000 * rerun.counts["api_calls"]
            per_row = max(0.0, rerun_cost.cpu - calls_share) * 1000 / unchanged
            print(_line(f"rerun, {changed:,} changed", rerun_cost, rerun, "CPU/unchanged row", per_row))
        print(f"load average after: {load_average()}")
        print(f"first sync, worker CPU per Intercom call (median of {len(per_call)}), ms:")
        print(f"{statistics.median(per_call):.2f}")
    finally:
        server.stop()
        drop_database(args.database)


if __name__ == "__main__":
    main()
