"""The run command's stack (embedded default: SQLite, filesystem broker) under supervisord: the worker
and beat killed in the middle of the demo run are back within 10 s and the run is continued to its end (each
contact once in Intercom); a killed web or emulator process comes back on its own while the others keep
answering; the emulator's data outlives its own restart; metrics add up every process's counters; Ctrl+C
stops everything."""

import os
import signal
import time

import httpx
import pytest

from apps.syncs.runs.recorder import WRITE_EVERY_RECORDS
from emulators.intercom import persistence
from tests.fixtures.emulator import IntercomEmulator
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow


# Short lease and reaper pass so that the killed worker's run goes on within seconds; slow enough Intercom
# (the emulator) that the demo's 1,000-user run is still sending when the worker is killed.
FAST_RECOVERY = {"SYNC_RUN_HEARTBEAT_SECONDS": "0.5", "SYNC_RUN_LEASE_SECONDS": "3", "SYNC_REAP_EVERY_SECONDS": "1",
                 "SYNC_CONCURRENCY": "4", "SYNCLINE_EMULATOR_FLAGS": "--no-validate --latency-ms 15"}  # fmt: skip
USERS = 1000  # the demo warehouse's users


@pytest.fixture
def stack(tmp_path):
    started = Stack(
        tmp_path / "var", env=FAST_RECOVERY, once={"demo-sync": "python manage.py demo_sync"}
    ).start()
    yield started
    started.stop()


def contact_writes(emulator) -> int:
    counts = emulator.requests(limit=0)["by_endpoint"]
    return counts.get("POST /contacts", 0) + counts.get("PUT /contacts/{id}", 0)


def metric(stack, line_start: str) -> float:
    response = httpx.get(stack.url + "/metrics", headers={"Authorization": "Bearer stack-test"}, timeout=10)
    assert response.status_code == 200
    values = [
        float(line.rsplit(" ", 1)[1]) for line in response.text.splitlines() if line.startswith(line_start)
    ]
    return sum(values)


def test_killed_processes_come_back_and_ctrl_c_stops_everything(stack):
    # Everything up: /readyz sees the worker's heartbeat through the file cache.
    stack.wait_for(lambda: stack.get(stack.url + "/readyz") == 200, "ready", seconds=90)
    emulator = IntercomEmulator(stack.emulator_url)

    # The worker and beat (whose reaper pass continues the run) die in the middle of the demo run: they
    # are back at once, and the run goes on to the end.
    stack.wait_for(lambda: contact_writes(emulator) >= 100, "the demo run sending", seconds=90)
    for name in ("worker", "beat"):
        before = stack.pid(name)
        os.kill(before, signal.SIGKILL)
        assert stack.get(stack.url + "/healthz") == 200
        took = stack.wait_for(
            lambda name=name, before=before: stack.pid(name) not in (0, before), f"{name} back"
        )
        assert took < 10, f"{name} came back after {took:.1f} s"
        assert f"exited: {name} (terminated by SIGKILL; not expected)" in stack.output()
    assert contact_writes(emulator) < USERS, "the run ended before the kills: they were not mid-run"
    stack.wait_for(
        lambda: len(emulator.contacts("acme-us")) >= USERS, "every contact in Intercom", seconds=120
    )
    stack.wait_for(
        lambda: metric(stack, 'syncline_runs_finished_total{status="succeeded"}') == 1, "run done", 30
    )
    assert len(emulator.contacts("acme-us")) == USERS
    # Ended by the reaper, continued by a recovery run (more than once only if a heartbeat came late).
    assert metric(stack, "syncline_runs_reaped_total") >= 1
    # Only creates in flight when the worker died, or accepted since the recorder's last ledger write (at
    # most WRITE_EVERY_RECORDS, or WRITE_EVERY_SECONDS' worth), reach Intercom a second time ("already
    # exists": an update, never a second contact).
    in_flight = 2 * int(FAST_RECOVERY["SYNC_CONCURRENCY"])
    assert emulator.request_count("POST /contacts", status=409) <= in_flight + WRITE_EVERY_RECORDS
    # Records counted once at most (what the dead worker sent after its last saved progress is in no count).
    assert 0 < metric(stack, 'syncline_records_total{outcome="created"}') <= USERS
    acme = emulator.seed_workspace(name="Durable", region="EU")
    with emulator.client(acme.token, region="EU") as api:
        assert (
            api.post("/contacts", json={"external_id": "kept", "email": "kept@example.com"}).status_code
            == 200
        )
    time.sleep(2 * persistence.SAVE_EVERY_SECONDS)  # a killed emulator loses at most its last second

    for name in ("emulator", "web"):  # the worker and beat were killed above
        before = stack.pid(name)
        assert before, stack.ctl("status")
        os.kill(before, signal.SIGKILL)
        if name != "web":
            assert stack.get(stack.url + "/healthz") == 200  # web answers meanwhile
        took = stack.wait_for(
            lambda name=name, before=before: stack.pid(name) not in (0, before), f"{name} back"
        )
        assert took < 10, f"{name} came back after {took:.1f} s"
        assert f"exited: {name} (terminated by SIGKILL; not expected)" in stack.output()

    stack.wait_for(lambda: stack.get(stack.url + "/healthz") == 200, "web answers again")
    stack.wait_for(
        lambda: stack.get(stack.emulator_url + "/_emulator/health") == 200, "emulator answers again"
    )
    assert [c["email"] for c in IntercomEmulator(stack.emulator_url).contacts(acme.id_code)] == [
        "kept@example.com"
    ]
    # The restarted worker beats again; metrics add up every process's counters.
    stack.wait_for(lambda: stack.get(stack.url + "/readyz") == 200, "ready after the restarts", seconds=30)

    pids = [stack.pid(name) for name in ("web", "worker", "beat", "emulator")]
    stack.stop()
    assert stack.process.returncode == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
