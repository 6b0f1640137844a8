"""Preview and extraction of a 1,000,000-row model on PostgreSQL: time and peak memory, side by side.

Loads the demo users (1M rows by default) into a scratch database, then runs each measurement three
times, each in a fresh Python process that reports its own peak resident memory (VmHWM), and prints
medians:
  - idle:    a process that imports the adapter and connects, the floor under the figures below;
  - preview: ``PostgresSource.preview`` (100 rows of the model, the rest never read);
  - stream:  ``PostgresSource.stream`` of every row in batches of 10,000 (rows discarded);
  - copy:    ``COPY (same query) TO STDOUT`` through psycopg, bytes discarded: the fastest way out of
             PostgreSQL, against which the ratio stream_time / copy_time is given.
The last line printed is the median peak memory of the streamed extraction, in MB.

Run: ``.venv/bin/python benchmarks/preview_large_model.py [--users N] [--dsn DSN]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL_SQL = "SELECT * FROM users"
RUNS = 3
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _source(database: str):
    from apps.connections.sources.registry import open_source

    return open_source(
        "postgres",
        {"host": "127.0.0.1", "port": 5432, "database": database, "user": "postgres", "sslmode": "disable",
         "search_path": "demo"},
    )  # fmt: skip


def worker(kind: str, database: str) -> dict:
    """Run one measurement in this (fresh) process."""
    import psycopg

    source = _source(database)
    rows = 0
    started = time.perf_counter()
    if kind == "idle":
        source.test()
    elif kind == "preview":
        preview = source.preview(MODEL_SQL)
        assert len(preview.rows) == 100 and preview.has_more
        rows = len(preview.rows)
    elif kind == "stream":
        for batch in source.stream(MODEL_SQL, batch_size=10_000):
            rows += len(batch.rows)
    elif kind == "copy":
        with psycopg.connect(
            f"host=127.0.0.1 user=postgres dbname={database} options=-csearch_path=demo"
        ) as conn:
            with conn.cursor().copy(f"COPY ({MODEL_SQL}) TO STDOUT") as copy:  # noqa: S608 (a constant)
                for _ in copy:
                    pass
            rows = conn.execute("SELECT count(*) FROM users").fetchone()[0]  # counted apart, not timed
            elapsed = time.perf_counter() - started
            return {"seconds": elapsed, "peak_mb": _peak_mb(), "rows": rows}
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "rows": rows}


def _peak_mb() -> float:
    """Peak resident memory of this process. VmHWM belongs to the address space made at exec, whereas
    ru_maxrss keeps the high-water mark of the parent that forked us (Linux carries it across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, database: str) -> list[dict]:
    results = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", kind, "--database", database],
            capture_output=True, text=True, check=True, timeout=900,
        )  # fmt: skip
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--worker", choices=["idle", "preview", "stream", "copy"])
    parser.add_argument("--database")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.database)))
        return 0

    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    database = f"syncline_src_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        started = time.perf_counter()
        load_into_postgres(
            f"host=127.0.0.1 user=postgres dbname={database}",
            schema="demo",
            users=args.users,
            events_per_user=0,
        )
        print(f"loaded {args.users:,} users into {database} in {time.perf_counter() - started:.1f} s")
        print(f"model: {MODEL_SQL}   (17 columns; medians of {RUNS} fresh processes each)")
        medians = {}
        for kind in ("idle", "preview", "stream", "copy"):
            results = measure(kind, database)
            medians[kind] = {
                "seconds": statistics.median(r["seconds"] for r in results),
                "peak_mb": statistics.median(r["peak_mb"] for r in results),
                "rows": results[0]["rows"],
            }
            m = medians[kind]
            print(
                f"{kind:8} rows={m['rows']:>9,}  time={m['seconds']:8.3f} s  peak RSS={m['peak_mb']:7.1f} MB"
            )
        ratio = medians["stream"]["seconds"] / medians["copy"]["seconds"]
        print(f"preview time (s): {medians['preview']['seconds']:.3f}")
        print(f"stream_time / copy_time: {ratio:.2f}")
        print(
            f"extraction peak RSS above the idle process (MB): {medians['stream']['peak_mb'] - medians['idle']['peak_mb']:.1f}"
        )
        print("extraction peak RSS (MB), median:")
        print(f"{medians['stream']['peak_mb']:.1f}")
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
