"""The run command's stack (embedded default: SQLite, filesystem broker) under supervisord: a killed web,
worker, beat or emulator process comes back on its own, the others keep answering, and the emulator's data
outlives its own restart."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.emulator import IntercomEmulator, _free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


class Stack:
    def __init__(self, var: Path):
        self.var = var
        self.port, self.emulator_port = _free_port(), _free_port()
        self.url, self.emulator_url = (
            f"http://127.0.0.1:{self.port}",
            f"http://127.0.0.1:{self.emulator_port}",
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "SYNCLINE_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var / 'syncline.sqlite3'}",
            "REDIS_URL": "",
            "PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus"),
            "SYNCLINE_PORT": str(self.port),
            "SYNCLINE_EMULATOR_PORT": str(self.emulator_port),
            "SYNCLINE_EMULATOR_URL": self.emulator_url,
            "SYNCLINE_SITE_URL": self.url,
            "SYNCLINE_EMULATOR_FLAGS": "--no-validate",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "METRICS_TOKEN": "stack-test",
        }
        (var / "prometheus").mkdir(parents=True)
        self.log = (var / "stack.log").open("w+")
        self.process: subprocess.Popen | None = None

    def run(self, *command: str) -> str:
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> "Stack":
        python = sys.executable
        self.run(python, "manage.py", "migrate", "--no-input", "-v", "0")
        self.run(python, "manage.py", "demo_setup")
        self.run(python, "tools/emulator_seed.py")
        self.process = subprocess.Popen(
            [python, "tools/supervise.py"], cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.wait_for(lambda: self.get(self.url + "/healthz") == 200, "web answers")
        return self

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(self.var / "supervisord.conf"), *args],
            env=self.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return done.stdout.strip()

    def pid(self, name: str) -> int:
        return int(self.ctl("pid", name) or 0)

    @staticmethod
    def get(url: str, **kwargs) -> int:
        try:
            return httpx.get(url, timeout=5, **kwargs).status_code
        except httpx.TransportError:
            return 0

    def wait_for(self, condition, what: str, seconds: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if condition():
                return time.monotonic() - started
            time.sleep(0.2)
        self.log.seek(0)
        raise AssertionError(f"not within {seconds} s: {what}\n{self.log.read()[-4000:]}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl+C does
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise


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
