"""First sync of 20,000 contacts to the emulator set to Intercom's 10,000 calls/min (10-second windows) with
50 ms of latency per call: achieved calls/s divided by the allowed rate (target ≥ 0.9), and the 429s.

Run: ``.venv/bin/python benchmarks/first_sync_throughput.py [--records N] [--limit PER_MINUTE]``.
The last line is the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _harness import django_setup, drop_database, duckdb_people, people_sync, run_now, start_emulator

DATABASE = "syncline_bench_throughput"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=10_000, help="calls per minute, per app and workspace")
    args = parser.parse_args()
    django_setup(DATABASE)
    from django.conf import settings

    settings.INTERCOM_RATE_LIMIT_PER_MINUTE = args.limit
    server, emulator = start_emulator(
        "--latency-ms",
        "50",
        "--app-rate-limit",
        str(args.limit),
        "--workspace-rate-limit",
        str(max(args.limit, 25_000)),
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "people.duckdb"
            duckdb_people(path, args.records)
            workspace, sync = people_sync(emulator, path)
            started = time.monotonic()
            run = run_now(workspace, sync)
            elapsed = time.monotonic() - started
        calls, limited = run.counts["api_calls"], run.counts["rate_limited"]
        allowed = args.limit / 60
        achieved = calls / elapsed
        print(
            f"run: {run.get_status_display()}, created {run.counts['created']:,}, rejected {run.counts['rejected']:,}"
        )
        print(
            f"calls: {calls:,} in {elapsed:.1f} s = {achieved:.1f} calls/s; allowed {allowed:.1f} calls/s; "
            f"429s received: {limited}"
        )
        print(f"{achieved / allowed:.3f}")
    finally:
        server.stop()
        drop_database(DATABASE)


if __name__ == "__main__":
    main()
