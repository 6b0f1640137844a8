"""The run command's stack (embedded default: SQLite, filesystem broker) under supervisord: a killed web,
worker, beat or emulator process comes back on its own, the others keep answering, and the emulator's data
outlives its own restart."""

import os
import signal

import pytest

from tests.fixtures.emulator import IntercomEmulator
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path):
    started = Stack(tmp_path / "var").start()
    yield started
    started.stop()


def test_killed_processes_come_back_and_ctrl_c_stops_everything(stack):
    # Everything up: /readyz sees the worker's heartbeat through the file cache.
    stack.wait_for(lambda: stack.get(stack.url + "/readyz") == 200, "ready", seconds=90)
    emulator = IntercomEmulator(stack.emulator_url)
    acme = emulator.seed_workspace(name="Durable", region="EU")
    with emulator.client(acme.token, region="EU") as api:
        assert (
            api.post("/contacts", json={"external_id": "kept", "email": "kept@example.com"}).status_code
            == 200
        )

    for name in ("worker", "beat", "emulator", "web"):
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
    assert stack.get(stack.url + "/metrics", headers={"Authorization": "Bearer stack-test"}) == 200

    pids = [stack.pid(name) for name in ("web", "worker", "beat", "emulator")]
    stack.stop()
    assert stack.process.returncode == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
