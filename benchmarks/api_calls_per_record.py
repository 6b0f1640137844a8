"""API calls per record: a first sync into an empty Intercom workspace, then a run where every record
changed. Targets: ≤ 1.05 for the first sync (creates, and the odd 409 → update), ≤ 1.0 for the update run.

Run: ``.venv/bin/python benchmarks/api_calls_per_record.py [--records N]``. The last line is the worse ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _harness import django_setup, drop_database, duckdb_people, people_sync, run_now, start_emulator

DATABASE = "syncline_bench_calls"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args()
    django_setup(DATABASE)
    server, emulator = start_emulator("--app-rate-limit", "600000", "--workspace-rate-limit", "600000")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "people.duckdb"
            duckdb_people(path, args.records)
            workspace, sync = people_sync(emulator, path)
            first = run_now(workspace, sync)
            duckdb_people(path, args.records, plan="pro")
            update = run_now(workspace, sync)
        ratios = []
        for label, run in (("first sync", first), ("update run", update)):
            records = run.counts["created"] + run.counts["updated"]
            ratio = run.counts["api_calls"] / records
            ratios.append(ratio)
            print(f"{label:<11} {records:>7,} records  {run.counts['api_calls']:>7,} calls  "
                  f"{ratio:.3f} calls/record  ({run.get_status_display()})")  # fmt: skip
        counted = first.counts["api_calls"] + update.counts["api_calls"]
        print(
            f"the emulator received {emulator.request_count():,} requests in all; the runs counted {counted:,}"
        )
        print(f"{max(ratios):.3f}")
    finally:
        server.stop()
        drop_database(DATABASE)


if __name__ == "__main__":
    main()
