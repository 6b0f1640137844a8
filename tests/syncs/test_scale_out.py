"""Scale-out and fairness with real worker processes on the real Redis and the emulator over HTTP.

The emulator allows a sixth of a per-minute limit per window: ``PER_MINUTE = 180`` with 2-second windows is
30 calls per window. The workers are told the same limit (as a deployment sets
``INTERCOM_RATE_LIMIT_PER_MINUTE``), so their shared Redis window for the Intercom workspace grants at most
30 calls in any 2.2 seconds (the window plus its guard) of the limiter's clock, however many workers draw
from it. Each run alone sends with 16 threads and would go far faster without the limiter.
"""

from __future__ import annotations

import bisect
import itertools
import time
from pathlib import Path

import pytest

from apps.syncs.models import ACTIVE_STATUSES, RunStatus, SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.tasks import execute_sync_run_task
from tests.factories import IntercomConnectionFactory, WorkspaceFactory
from tests.fixtures.syncs import Warehouse, m, make_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PER_MINUTE = 180
WINDOW = 2.0
PER_WINDOW = PER_MINUTE // 6  # 30
RATE = (PER_WINDOW - 1) / WINDOW  # the bucket's refill: 14.5 calls/s after a burst of 1
# The limiter grants calls on Redis's clock; the emulator stamps each one when it answers it. Calls whose
# grant-to-answer delay (loopback, threads waiting for the GIL, the emulator's queue) differs by s seconds
# can land s·RATE extra calls in one window of the emulator's stamps: 3 calls is ~0.2 s of spread.
TOLERANCE = 3
RUN_TIMEOUT = 180.0


def _people(warehouse: Warehouse, prefix: str, count: int):
    rows = [(f"{prefix}-{n}", f"{prefix}-{n}@example.com", f"Person {prefix}-{n}") for n in range(count)]
    warehouse.table("people", "external_id VARCHAR, email VARCHAR, name VARCHAR", rows)
    return warehouse.model(
        "SELECT * FROM people", "external_id", ["external_id", "email", "name"], unique=("email",)
    )


def _user_sync(workspace, warehouse: Warehouse, destination, prefix: str, count: int):
    return make_sync(
        workspace,
        _people(warehouse, prefix, count),
        destination,
        object_key="user",
        behavior="upsert",
        key_column="external_id",
        key_identifier="external_id",
        mappings=[m("email", "string", "email"), m("name", "string", "name")],
    )


def _warehouse(workspace, tmp_path: Path, name: str) -> Warehouse:
    return Warehouse(workspace, tmp_path / f"{name}.duckdb")


def _worker_env(intercom_emulator) -> dict[str, str]:
    """What a deployment's environment tells the workers: where Intercom is and its rate limit."""
    return {
        **{f"INTERCOM_API_BASE_URL_{region}": url for region, url in intercom_emulator.base_urls.items()},
        "INTERCOM_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "INTERCOM_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
    }


def _enqueue(workspace, sync, queue: str) -> SyncRun:
    """As "Run now" does, on this test's own queue."""
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    execute_sync_run_task.apply_async(args=[run.pk], queue=queue)
    return run


def _wait_until_finished(*runs: SyncRun) -> list[SyncRun]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        fresh = [SyncRun.objects.for_workspace(run.workspace_id).get(pk=run.pk) for run in runs]
        if all(run.status not in ACTIVE_STATUSES for run in fresh):
            return fresh
        time.sleep(0.25)
    raise AssertionError(f"runs still active after {RUN_TIMEOUT:.0f} s: {[r.status for r in fresh]}")


def _busiest_window(times: list[float], length: float) -> int:
    """The most requests in any interval [t, t + length) (a sliding window, every alignment)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + length) - i for i, t in enumerate(times)), default=0)


def _request_log(intercom_emulator) -> list[dict]:
    log = intercom_emulator.requests()
    assert log["total"] == len(log["recent"]), "the emulator's log dropped requests: use fewer records"
    return log["recent"]


def test_two_worker_processes_on_one_intercom_workspace_stay_under_its_limit(
    workspace, destination, intercom_workspace, intercom_emulator, celery_workers, celery_queue, tmp_path
):
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    records = 120  # per sync: both runs' calls fit the emulator's log of the last 1,000 requests
    syncs = [
        _user_sync(workspace, _warehouse(workspace, tmp_path, name), destination, name, records)
        for name in ("alpha", "beta")
    ]
    celery_workers(2, env=_worker_env(intercom_emulator))  # one task at a time each: one run per process

    runs = _wait_until_finished(*[_enqueue(workspace, sync, celery_queue) for sync in syncs])

    for run in runs:
        assert run.status == RunStatus.SUCCEEDED, run.first_error
        assert run.counts["created"] == records and run.counts["rejected"] == 0
    first, second = sorted(runs, key=lambda r: r.started_at)
    assert second.started_at < first.finished_at  # the two processes ran at the same time
    overlap = (min(r.finished_at for r in runs) - second.started_at).total_seconds()
    assert overlap > 3 * WINDOW, f"the runs overlapped for {overlap:.1f} s only"

    contacts = intercom_emulator.contacts(intercom_workspace.id_code)
    expected = {f"{name}-{n}" for name in ("alpha", "beta") for n in range(records)}
    assert sorted(c["external_id"] for c in contacts) == sorted(expected)  # each record once

    requests = _request_log(intercom_emulator)
    answered = [r["at"] for r in requests if r["workspace"] == intercom_workspace.id_code]
    busiest = _busiest_window(answered, WINDOW)
    refused = sum(1 for r in requests if r["status"] == 429)
    print(
        f"\n[2 workers, 1 Intercom workspace] requests={len(answered)} busiest {WINDOW:g}s window={busiest} "
        f"limit={PER_WINDOW} 429s={refused} overlap={overlap:.1f}s"
    )
    assert busiest <= PER_WINDOW + TOLERANCE
    assert busiest >= PER_WINDOW - TOLERANCE  # the workers did press on the limit: the check could fail
    assert refused <= TOLERANCE
    assert sum(run.counts["rate_limited"] for run in runs) == refused


def test_runs_of_two_workspaces_progress_side_by_side_on_one_worker(
    workspace, destination, intercom_workspace, intercom_emulator, celery_workers, celery_queue, tmp_path
):
    """One worker process as the Procfile starts it (threads, 4 at a time); each workspace has its own
    Intercom workspace, so neither run waits for the other's rate limit nor for its task to end."""
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    other = WorkspaceFactory()
    other_intercom = intercom_emulator.seed_workspace(name="Globex", region="US")
    other_destination = IntercomConnectionFactory(
        workspace=other,
        config={"region": "US", "workspace_id": other_intercom.id_code, "workspace_name": "Globex"},
        credentials={"access_token": other_intercom.token},
    )
    records = 100  # ~7 s each at 14.5 calls/s: one after the other, the second would start that late
    ours = _user_sync(workspace, _warehouse(workspace, tmp_path, "ours"), destination, "ours", records)
    theirs = _user_sync(other, _warehouse(other, tmp_path, "theirs"), other_destination, "theirs", records)
    celery_workers(1, pool="threads", concurrency=4, env=_worker_env(intercom_emulator))

    runs = _wait_until_finished(
        _enqueue(workspace, ours, celery_queue), _enqueue(other, theirs, celery_queue)
    )

    for run in runs:
        assert run.status == RunStatus.SUCCEEDED, run.first_error
        assert run.counts["created"] == records
    ours_run, theirs_run = runs
    start_gap = abs((ours_run.started_at - theirs_run.started_at).total_seconds())
    shortest = min(run.duration.total_seconds() for run in runs)
    print(f"\n[1 worker, 2 workspaces] start gap={start_gap:.2f}s shortest run={shortest:.1f}s")
    assert start_gap <= 2.0
    assert shortest > 2 * start_gap  # a start gap this small could not come from running them in turn
    requests = _request_log(intercom_emulator)
    for ws, rival in ((intercom_workspace, other_intercom), (other_intercom, intercom_workspace)):
        mine = [r["at"] for r in requests if r["workspace"] == ws.id_code]
        theirs_times = [r["at"] for r in requests if r["workspace"] == rival.id_code]
        assert len(mine) >= records
        assert min(mine) < max(theirs_times)  # each sent calls while the other was still sending


def test_one_workspaces_many_runs_leave_worker_threads_to_other_workspaces(
    workspace, destination, intercom_workspace, intercom_emulator, celery_workers, celery_queue, tmp_path
):
    """Four syncs of one workspace on a worker of four threads: two run, two wait in the queue (the
    workspace's cap), so another workspace's small run starts at once instead of after a big one."""
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    busy = [
        _user_sync(workspace, _warehouse(workspace, tmp_path, f"busy{n}"), destination, f"busy{n}", 40)
        for n in range(4)
    ]  # 160 calls on one Intercom workspace's 14.5 calls/s: a run lasts several seconds
    other = WorkspaceFactory()
    other_intercom = intercom_emulator.seed_workspace(name="Globex", region="US")
    other_destination = IntercomConnectionFactory(
        workspace=other,
        config={"region": "US", "workspace_id": other_intercom.id_code, "workspace_name": "Globex"},
        credentials={"access_token": other_intercom.token},
    )
    small = _user_sync(other, _warehouse(other, tmp_path, "small"), other_destination, "small", 10)
    env = _worker_env(intercom_emulator) | {
        "SYNC_MAX_RUNNING_PER_WORKSPACE": "2",
        "SYNC_BUSY_WORKSPACE_RETRY_SECONDS": "1",
    }
    celery_workers(1, pool="threads", concurrency=4, env=env)
    busy_runs = [_enqueue(workspace, sync, celery_queue) for sync in busy]
    deadline = time.monotonic() + RUN_TIMEOUT
    while not SyncRun.objects.for_workspace(workspace).filter(status=RunStatus.RUNNING).count() >= 2:
        assert time.monotonic() < deadline, "the busy workspace's runs never started"
        time.sleep(0.1)
    triggered = time.time()
    small_run = _enqueue(other, small, celery_queue)

    small_run, *busy_runs = _wait_until_finished(small_run, *busy_runs)

    assert all(run.status == RunStatus.SUCCEEDED for run in [small_run, *busy_runs])
    waited = small_run.started_at.timestamp() - triggered
    print(f"\n[cap 2 of 4 threads] the other workspace's run started {waited:.2f}s after its trigger")
    assert waited <= 2.0
    assert small_run.finished_at < max(run.finished_at for run in busy_runs)
    moments = sorted([(r.started_at, 1) for r in busy_runs] + [(r.finished_at, -1) for r in busy_runs])
    at_once = max(itertools.accumulate(step for _, step in moments))
    assert at_once == 2  # the cap held, and was used
