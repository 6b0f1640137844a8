"""Rate use: first syncs against the emulator set to Intercom's 10,000 calls/min (10-second windows, a sixth
of the limit each) with 50 ms of latency per call: the calls made divided by the calls the allowance
grants in the run's time, from "Run now" to the run's end (target ≥ 0.95, with no 429).

Cases: a first User sync (Update or Create) of each `--records` count (5,000 and 20,000 by default), and
`--events` events sent by an Event sync to contacts already in Intercom (5,000; 0 leaves it out), each
`--repeat` times from scratch (a new Intercom workspace, so a fresh allowance). Each run prints where its
time went: before its first call (start-up), after its last answer (the end), the time the shared rate
limiter held calls back (the run's `rate_limit_wait_ms`), the worker's CPU per call, and the 429s.

Run: ``.venv/bin/python benchmarks/first_sync_throughput.py [--records N …] [--events N] [--repeat N]``.
The machine is often shared: the load average is printed before and after. The last line is the worst
case's median ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import django_setup, drop_database, duckdb_people, people_sync, run_now, start_emulator
from _probes import load_average, measured

DATABASE = "syncline_bench_throughput"
EVENT_CONTACTS = 50


@dataclass
class Measure:
    ratio: float
    calls: int
    rate_limited: int
    elapsed: float
    line: str


class CallTimes:
    """When the run's first request went out and its last answer came (the client's `request`, wrapped)."""

    def __init__(self) -> None:
        from apps.connections.intercom.client import IntercomClient

        self.first = self.last = 0.0
        self._lock = threading.Lock()
        self._original = IntercomClient.request
        times = self

        def request(client, *args, **kwargs):
            started = time.monotonic()
            with times._lock:
                times.first = times.first or started
            try:
                return times._original(client, *args, **kwargs)
            finally:
                answered = time.monotonic()
                with times._lock:
                    times.last = max(times.last, answered)

        IntercomClient.request = request  # type: ignore[method-assign]

    def reset(self) -> None:
        self.first = self.last = 0.0


def _event_sync(emulator, path: Path, events: int):
    """Contacts in Intercom (a first User sync of EVENT_CONTACTS people), then an Event sync of `events`
    events spread over them, one second apart."""
    import duckdb

    from apps.models.models import SqlModel
    from apps.syncs import services

    duckdb_people(path, EVENT_CONTACTS)
    workspace, people = people_sync(emulator, path)
    run_now(workspace, people)
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE events AS SELECT 'e' || i AS event_id, i % ? + 1 AS person_id, "
            "TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL 1 SECOND AS happened_at FROM range(?) t(i)",
            [EVENT_CONTACTS, events],
        )
    model = SqlModel.objects.create(
        workspace=workspace,
        name="Events",
        source=people.model.source,
        sql="SELECT * FROM events",
        primary_key="event_id",
        columns=[
            {"name": c, "db_type": "", "kind": "string"} for c in ("event_id", "person_id", "happened_at")
        ],
    )
    options = {"event": {"contact_column": "person_id", "contact_key": "user_id",
                         "created_at_column": "happened_at", "event_name": "ordered"}}  # fmt: skip
    sync = services.sync_save(
        workspace=workspace,
        user=None,
        name="Bench events",
        model=model,
        destination=people.destination,
        object_key="event",
        behavior="send",
        key_column="event_id",
        key_identifier="event_id",
        mappings=[],
        options=options,
    )
    return workspace, sync


def _measure(label: str, workspace, sync, times: CallTimes, allowed: float) -> Measure:
    times.reset()
    with measured() as cost:
        started = time.monotonic()
        run = run_now(workspace, sync)
        ended = time.monotonic()
    counts = run.counts
    calls, limited = counts["api_calls"], counts["rate_limited"]
    elapsed = ended - started
    ratio = calls / elapsed / allowed
    done = counts["created"] + counts["updated"] + counts["sent"]
    line = (
        f"{label:<18} {run.get_status_display():<10} {done:>6,} done {counts['rejected']:>3} rejected  "
        f"{calls:>6,} calls in {elapsed:6.1f} s = {calls / elapsed:6.1f}/s  ratio {ratio:.3f}  429s {limited}  "
        f"start-up {times.first - started:4.2f} s  end {ended - times.last:4.2f} s  "
        f"limiter held {counts['rate_limit_wait_ms'] / 1000:5.1f} s  CPU {cost.cpu * 1000 / max(calls, 1):4.2f} ms/call"
    )
    print(line, flush=True)
    return Measure(ratio, calls, limited, elapsed, line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, nargs="*", default=[5000, 20_000], help="contacts per first sync"
    )
    parser.add_argument("--events", type=int, default=5000, help="events sent by an Event sync (0: none)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--limit", type=int, default=10_000, help="calls per minute, per app and workspace")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument(
        "--concurrency", type=int, default=0, help="calls in flight per run (SYNC_CONCURRENCY)"
    )
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()
    django_setup(args.database, redis_db=args.redis_db)
    from django.conf import settings

    settings.INTERCOM_RATE_LIMIT_PER_MINUTE = args.limit
    if args.concurrency:
        settings.SYNC_CONCURRENCY = args.concurrency
    server, emulator = start_emulator(
        "--latency-ms",
        str(args.latency_ms),
        "--app-rate-limit",
        str(args.limit),
        "--workspace-rate-limit",
        str(max(args.limit, 25_000)),
    )
    allowed = args.limit / 60
    times = CallTimes()
    cases = [(f"{n:,} contacts", n, False) for n in args.records]
    if args.events:
        cases.append((f"{args.events:,} events", args.events, True))
    print(
        f"allowed {allowed:.1f} calls/s; {settings.SYNC_CONCURRENCY} calls in flight per run; "
        f"load average before: {load_average()}",
        flush=True,
    )
    medians: dict[str, float] = {}
    refused = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # A worker serves many runs: its imports and connections are warm before the one measured.
            warm = Path(tmp) / "warm.duckdb"
            duckdb_people(warm, 20)
            run_now(*people_sync(emulator, warm))
            for label, count, events in cases:
                measures = []
                for attempt in range(args.repeat):
                    path = Path(tmp) / f"{'events' if events else 'people'}-{count}-{attempt}.duckdb"
                    if events:
                        workspace, sync = _event_sync(emulator, path, count)
                    else:
                        duckdb_people(path, count)
                        workspace, sync = people_sync(emulator, path)
                    measures.append(_measure(label, workspace, sync, times, allowed))
                medians[label] = statistics.median(m.ratio for m in measures)
                refused += sum(m.rate_limited for m in measures)
        print(f"load average after: {load_average()}")
        for label, ratio in medians.items():
            print(f"{label:<18} median ratio {ratio:.3f} of {args.repeat}")
        print(f"429s received in all: {refused}")
        print(f"{min(medians.values()):.3f}")
    finally:
        server.stop()
        drop_database(args.database)


if __name__ == "__main__":
    main()
