"""Fairness: while one workspace runs a 200,000-record sync, how long a 10-record sync of another workspace
waits to start and to finish (target: finished in under 10 s).

Set-up (not timed): a scratch app database, a scratch PostgreSQL warehouse with a 200,000-row table and one
10-row table per trial, the emulator at Intercom's own limits (10,000 calls/min per app, 25,000 per
workspace, 10-second windows) with 50 ms of latency per call, and the worker process started exactly as
``./syncline run`` starts it (the Procfile's ``worker`` line: a thread pool of 4), on a Redis database of
its own. Each Bench workspace has its own Intercom workspace.

Each trial: "Run now" on the big sync; once it is sending, "Run now" on a small sync of another workspace;
the small run's start and end are measured from its trigger; then the big run is cancelled (the next
trial's big run continues from the ledger). Medians are printed; the last line is the small sync's
time to finish in seconds.

``--big-syncs N`` runs N big syncs of the one workspace at once (several syncs scheduled at the same hour):
with as many as the worker has threads and no cap on one workspace's running runs, the small run has no
thread left to start on until a big one ends (``--small-timeout`` bounds the wait; "inf" is printed).

Run: ``.venv/bin/python benchmarks/fairness.py [--records N] [--trials N] [--workers N] [--big-syncs N]``
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from _harness import (
    ADMIN_DSN,
    PEOPLE_ATTRIBUTES,
    PEOPLE_COLUMNS,
    PEOPLE_MAPPINGS,
    ROOT,
    django_setup,
    drop_database,
    start_emulator,
    workspace_with_sync,
)

APP_DB, WAREHOUSE_DB = "syncline_bench_fairness", "syncline_bench_fairness_warehouse"
REDIS_DB = 12  # the worker's broker and the rate limiter, apart from the other benchmarks' database 13
SMALL_RECORDS = 10
GOING_AFTER_CALLS = 500  # the big run counts as "going" once it has sent this many calls
TIMEOUT = 300.0
BIG_START_TIMEOUT = 20.0  # past the first, a big run not sending by then is held in the queue


def warehouse_dsn() -> str:
    return f"host=127.0.0.1 user=postgres dbname={WAREHOUSE_DB}"


def create_warehouse(records: int, trials: int) -> None:
    """``people`` with ``records`` rows, and ``small_<n>`` with 10 other people for each trial."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{WAREHOUSE_DB}"')
    people = (
        "SELECT i AS id, '{prefix}' || i || '@bench.example' AS email, 'Person ' || i AS name, "
        "'free'::text AS plan FROM generate_series(1, {count}) AS i"
    )
    with psycopg.connect(warehouse_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE people AS {people.format(prefix='big', count=records)}")  # noqa: S608
        conn.execute("ALTER TABLE people ADD PRIMARY KEY (id)")
        for trial in range(1, trials + 1):
            small = people.format(prefix=f"small{trial}-", count=SMALL_RECORDS)
            conn.execute(f"CREATE TABLE small_{trial} AS {small}")  # noqa: S608


def people_sync(emulator, table: str):
    source = {"host": "127.0.0.1", "port": 5432, "database": WAREHOUSE_DB, "user": "postgres",
              "sslmode": "disable"}  # fmt: skip
    workspace, sync, _ = workspace_with_sync(
        emulator,
        source_type="postgres",
        source_config=source,
        sql=f"SELECT * FROM {table}",  # noqa: S608
        primary_key="id",
        columns=PEOPLE_COLUMNS,
        object_key="user",
        behavior="upsert",
        key_column="id",
        key_identifier="external_id",
        mappings=PEOPLE_MAPPINGS,
        data_attributes=PEOPLE_ATTRIBUTES,
    )
    return workspace, sync


def sync_of(workspace, like, name: str):
    """Another sync of the same model to the same Intercom workspace (its own ledger, so it sends too)."""
    from apps.syncs import services

    return services.sync_save(
        workspace=workspace,
        user=None,
        name=name,
        model=like.model,
        destination=like.destination,
        object_key=like.object_key,
        behavior=like.behavior,
        key_column=like.key_column,
        key_identifier=like.key_identifier,
        mappings=like.mappings,
        options=like.options,
    )


def procfile_worker_command() -> list[str]:
    """The Procfile's worker line, run with this interpreter."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "worker":
            words = shlex.split(command)
            assert words[0] == "celery", words
            return [sys.executable, "-m", *words]
    raise SystemExit("the Procfile has no worker line")


def start_workers(count: int, emulator, log) -> list[subprocess.Popen]:
    env = os.environ | {f"INTERCOM_API_BASE_URL_{region}": url for region, url in emulator.base_urls.items()}
    command = procfile_worker_command()
    workers = [
        subprocess.Popen([*command, f"--hostname=fairness{n}@%h"], cwd=ROOT, env=env, stdout=log, stderr=log)
        for n in range(count)
    ]
    from apps.common.tasks import ping

    for _ in workers:  # a worker answers: the runs below are not timed against a worker's start-up
        ping.delay().get(timeout=120)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def reload(run):
    from apps.syncs.models import SyncRun

    return SyncRun.objects.for_workspace(run.workspace_id).get(pk=run.pk)


def wait_for(run, done, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = reload(run)
        if done(run):
            return run
        time.sleep(0.02)
    raise TimeoutError(f"run {run.pk} did not {what} within {timeout:.0f} s (status {run.status})")


@dataclass
class Trial:
    start_delay: float  # trigger → the small run is running (inf: not within the small timeout)
    finish: float  # trigger → the small run has finished (inf: not within the small timeout)
    small_status: str
    small_created: int
    big_calls_per_second: float
    big_sent_before: int  # calls the big run(s) had sent when the small one was triggered
    big_running: int  # big runs running (not queued) when the small one was triggered
    cancel_delay: float  # cancel → the big run has stopped


def trial(big_workspace, big_syncs, small_workspace, small_sync, small_timeout: float) -> Trial:
    from apps.syncs.models import ACTIVE_STATUSES, RunStatus
    from apps.syncs.runs import services as run_services

    bigs = [run_services.sync_run_start(workspace=big_workspace, sync=sync) for sync in big_syncs]
    going = lambda r: (r.counts or {}).get("api_calls", 0) >= GOING_AFTER_CALLS  # noqa: E731
    bigs[0] = wait_for(bigs[0], going, "start sending")
    for index, big in enumerate(bigs[1:], start=1):  # the others, unless held in the queue
        try:
            bigs[index] = wait_for(big, going, "start sending", timeout=BIG_START_TIMEOUT)
        except TimeoutError:
            bigs[index] = reload(big)
    big_sent_before = sum(big.counts.get("api_calls", 0) for big in bigs)
    big_running = sum(1 for big in bigs if big.status == RunStatus.RUNNING)

    triggered = time.time()
    small = run_services.sync_run_start(workspace=small_workspace, sync=small_sync)
    try:
        small = wait_for(small, lambda r: r.status not in ACTIVE_STATUSES, "finish", timeout=small_timeout)
    except TimeoutError:
        small = reload(small)
        run_services.sync_run_cancel(workspace=small_workspace, run=small)

    cancelled = time.time()
    for big in bigs:
        run_services.sync_run_cancel(workspace=big_workspace, run=big)
    bigs = [wait_for(big, lambda r: r.status not in ACTIVE_STATUSES, "stop after the cancel") for big in bigs]
    assert all(big.status == RunStatus.CANCELLED for big in bigs), [big.status for big in bigs]
    if small.status in ACTIVE_STATUSES:  # a cancelled queued run may still sit in the queue: let it drain
        small = wait_for(small, lambda r: r.status not in ACTIVE_STATUSES, "end")
    return Trial(
        start_delay=small.started_at.timestamp() - triggered if small.started_at else math.inf,
        finish=small.finished_at.timestamp() - triggered if small.status == RunStatus.SUCCEEDED else math.inf,
        small_status=small.status,
        small_created=small.counts.get("created", 0),
        big_calls_per_second=sum(
            big.counts.get("api_calls", 0) / (big.finished_at - big.started_at).total_seconds()
            for big in bigs
            if big.started_at
        ),
        big_sent_before=big_sent_before,
        big_running=big_running,
        cancel_delay=max(big.finished_at.timestamp() for big in bigs) - cancelled,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="rows of the big sync")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (the Procfile starts one)")
    parser.add_argument("--big-syncs", type=int, default=1, help="big syncs of the one workspace run at once")
    parser.add_argument("--small-timeout", type=float, default=120.0, help="seconds to wait for a small run")
    args = parser.parse_args()

    set_up = time.monotonic()
    django_setup(APP_DB, redis_db=REDIS_DB)
    create_warehouse(args.records, args.trials)
    server, emulator = start_emulator("--latency-ms", "50")
    workers: list[subprocess.Popen] = []
    try:
        with tempfile.NamedTemporaryFile(prefix="fairness-worker-", suffix=".log", delete=False) as log:
            big_workspace, big_sync = people_sync(emulator, "people")
            big_syncs = [big_sync] + [
                sync_of(big_workspace, big_sync, f"Big sync {n}") for n in range(2, args.big_syncs + 1)
            ]
            smalls = [people_sync(emulator, f"small_{n}") for n in range(1, args.trials + 1)]
            workers = start_workers(args.workers, emulator, log)
            print(
                f"set-up: {args.big_syncs} sync(s) of a {args.records:,}-row model, {args.trials} ten-row models in other workspaces, "
                f"{args.workers} worker process(es): {shlex.join(procfile_worker_command()[3:])}; "
                f"{time.monotonic() - set_up:.0f} s; worker log {log.name}"
            )
            trials = []
            for number, (small_workspace, small_sync) in enumerate(smalls, start=1):
                result = trial(big_workspace, big_syncs, small_workspace, small_sync, args.small_timeout)
                trials.append(result)
                print(
                    f"trial {number}: {result.big_running} big run(s) running had sent {result.big_sent_before:,} calls "
                    f"({result.big_calls_per_second:.0f} calls/s; Intercom allows {10_000 / 60:.0f}/s); "
                    f"the small run ({result.small_status}, {result.small_created} created) started "
                    f"{result.start_delay:.2f} s and finished {result.finish:.2f} s after its trigger; "
                    f"the big run(s) stopped {result.cancel_delay:.2f} s after the cancel"
                )
    finally:
        stop_workers(workers)
        server.stop()
        drop_database(APP_DB)
        import psycopg

        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')
    start = statistics.median(t.start_delay for t in trials)
    finish = statistics.median(t.finish for t in trials)
    print(
        f"small sync, median of {len(trials)}: started {start:.2f} s, finished {finish:.2f} s after its "
        f"trigger (target: finished in under 10 s)"
    )
    print(f"{finish:.2f}")


if __name__ == "__main__":
    main()
