"""Drift and its restore: calls per record when Intercom lost records behind Syncline's back.

A first sync of N people, then two cases. A workspace reset (every contact wiped in the emulator): the next
run checks its sample (SYNC_DRIFT_SAMPLE calls) and reports drift; "Restore missing records" creates every
record first, target 1.0 call per restored record. A few records deleted in Intercom (`--deleted`, 10%
by default): the restore updates by id and creates the ones answered 404, target 1.0 per record Intercom
still had plus 2.0 per missing one, printed as calls per record sent.

Run: ``.venv/bin/python benchmarks/drift_restore.py [--records N] [--deleted N] [--redis-db N]``. The last
line is the reset's calls per restored record.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _harness import django_setup, drop_database, duckdb_people, people_sync, run_now, start_emulator

DATABASE = "syncline_bench_drift"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--deleted", type=int, default=None, help="records deleted in Intercom (10%%)")
    parser.add_argument("--sample", type=int, default=5, help="SYNC_DRIFT_SAMPLE")
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()
    deleted = args.records // 10 if args.deleted is None else args.deleted
    django_setup(DATABASE, redis_db=args.redis_db)
    from django.conf import settings

    settings.SYNC_DRIFT_SAMPLE = args.sample
    server, emulator = start_emulator("--app-rate-limit", "600000", "--workspace-rate-limit", "600000")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "people.duckdb"
            duckdb_people(path, args.records)
            rows = []

            def report(label, run):
                counts = run.counts
                sent = counts["created"] + counts["updated"]
                per = counts["api_calls"] / sent if sent else 0.0
                rows.append(per)
                print(
                    f"{label:<34} {counts['created']:>6,} created ({counts['restored']:,} restored) "
                    f"{counts['updated']:>6,} updated  {counts['api_calls']:>6,} calls  {per:.3f} calls/record  "
                    f"drift {counts['drift_missing']}/{counts['drift_checked']}  ({run.get_status_display()})"
                )

            # A workspace reset.
            workspace, sync = people_sync(emulator, path)
            run_now(workspace, sync)
            intercom_id = sync.destination.config["workspace_id"]
            emulator.wipe_workspace(intercom_id)
            drifted = run_now(workspace, sync)
            report("after a reset: the next run", drifted)
            restore = run_now(workspace, sync, full_resync=True, restores=drifted)
            report("after a reset: the restore", restore)
            reset_ratio = rows[-1]
            assert len(emulator.contacts(intercom_id)) == args.records

            # A few records deleted in Intercom (a new sync and Intercom workspace).
            workspace, sync = people_sync(emulator, path)
            run_now(workspace, sync)
            intercom_id = sync.destination.config["workspace_id"]
            token = sync.destination.credentials["access_token"]
            with emulator.client(token) as api:
                for contact in emulator.contacts(intercom_id)[:deleted]:
                    api.delete(f"/contacts/{contact['id']}")
            settings.SYNC_DRIFT_SAMPLE = args.records  # this case's decision must not depend on the draw
            drifted = run_now(workspace, sync)
            report(f"{deleted:,} deleted: the next run", drifted)
            restore = run_now(workspace, sync, full_resync=True, restores=drifted)  # as Restore starts it
            report(f"{deleted:,} deleted: the restore", restore)
            assert len(emulator.contacts(intercom_id)) == args.records
        print(f"{reset_ratio:.3f}")
    finally:
        server.stop()
        drop_database(DATABASE)


if __name__ == "__main__":
    main()
