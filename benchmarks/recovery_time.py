"""Recovery time: from a SIGKILL of the worker in the middle of a run to the recovered run sending to
Intercom again (target: under 60 s), median of 3 trials; and that nothing was sent twice.

Set-up (not timed): the run command's embedded stack under supervisord (tests/fixtures/stack.py: SQLite,
the filesystem broker, beat, the emulator with 150 ms of latency per call so that the demo's 1,000-user
sync lasts about a minute, SYNC_CONCURRENCY=2), with the default lease, heartbeat and reaper settings.

Each trial, on a fresh stack: the demo sync starts; once the emulator has received 100 contact writes,
the worker is SIGKILLed (supervisord starts it again at once); the time is taken when the emulator
receives the first contact write after the kill (writes still in flight at the kill are let through for
a second first). Then the recovery run is awaited: the emulator must hold 1,000 contacts, each created
once (no create answered "already exists": a record sent twice would be).

Run: ``.venv/bin/python benchmarks/recovery_time.py [--trials 3]``. The last line is the median in seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fixtures.emulator import IntercomEmulator  # noqa: E402
from tests.fixtures.stack import Stack  # noqa: E402

USERS = 1000
KILL_AFTER_WRITES = 100
WRITES = ("POST /contacts", "PUT /contacts/")


def writes(emulator: IntercomEmulator) -> int:
    by_endpoint = emulator.requests(limit=0)["by_endpoint"]
    return sum(count for endpoint, count in by_endpoint.items() if endpoint.startswith(WRITES))


def trial(number: int) -> float:
    with tempfile.TemporaryDirectory(prefix="syncline-recovery-") as folder:
        stack = Stack(
            Path(folder) / "var",
            env={"SYNCLINE_EMULATOR_FLAGS": "--no-validate --latency-ms 150", "SYNC_CONCURRENCY": "2"},
            once={"demo-sync": "python manage.py demo_sync"},
        ).start()
        try:
            emulator = IntercomEmulator(stack.emulator_url)
            stack.wait_for(lambda: stack.get(stack.emulator_url + "/_emulator/health") == 200, "emulator", 60)
            stack.wait_for(lambda: writes(emulator) >= KILL_AFTER_WRITES, "the demo run sending", 120)
            worker = stack.pid("worker")
            killed_at = time.monotonic()
            os.kill(worker, signal.SIGKILL)
            time.sleep(1.0)  # writes in flight at the kill land meanwhile
            before = writes(emulator)
            stack.wait_for(lambda: writes(emulator) > before, "the recovered run sending", 180)
            recovered = time.monotonic() - killed_at
            stack.wait_for(lambda: len(emulator.contacts("acme-us")) >= USERS, "every contact", 240)
            conflicts = emulator.request_count("POST /contacts", status=409)
            print(
                f"trial {number}: sending again {recovered:.1f} s after the kill; "
                f"{len(emulator.contacts('acme-us'))} contacts; {conflicts} creates answered 'already exists'",
                flush=True,
            )
            return recovered
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    times = [trial(n + 1) for n in range(args.trials)]
    print(
        f"recovery after a worker's SIGKILL, median of {len(times)}: {statistics.median(times):.1f} s (target < 60 s)"
    )
    print(f"{statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
