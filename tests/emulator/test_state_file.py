"""--state-file: the emulator's workspaces, tokens and records survive a restart, even a SIGKILL (the run
command's demo Intercom); without it, state lives in memory only (the tests' mode)."""

import signal
import time

from emulators.intercom import persistence
from tests.fixtures.emulator import IntercomEmulator, start_emulator


def test_state_survives_a_kill_and_a_restart(tmp_path):
    state_file = tmp_path / "emulator-state.pickle"
    server = start_emulator(["--no-validate", "--state-file", str(state_file)])
    try:
        emulator = IntercomEmulator(server.root_url)
        acme = emulator.seed_workspace(name="Acme", region="EU")
        with emulator.client(acme.token, region="EU") as api:
            assert (
                api.post("/contacts", json={"external_id": "u-1", "email": "ü@example.com"}).status_code
                == 200
            )
        time.sleep(persistence.SAVE_EVERY_SECONDS * 2)  # what a killed emulator may lose: the last second
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()

    again = start_emulator(["--no-validate", "--state-file", str(state_file)])
    try:
        emulator = IntercomEmulator(again.root_url)
        assert [c["email"] for c in emulator.contacts(acme.id_code)] == ["ü@example.com"]
        with emulator.client(acme.token, region="EU") as api:  # the token still works
            found = api.get("/contacts")
            assert found.status_code == 200 and found.json()["total_count"] == 1
            assert (
                api.post(
                    "/data_attributes", json={"name": "plan", "model": "contact", "data_type": "string"}
                ).status_code
                == 200
            )
        again.process.terminate()  # a clean stop saves at once
        again.process.wait(timeout=10)
    finally:
        again.stop()
    assert any(
        a.name == "plan" for a in persistence.load(state_file).workspaces[acme.id_code].attributes.values()
    )


def test_without_a_state_file_a_restart_forgets(tmp_path):
    server = start_emulator(["--no-validate"])
    try:
        emulator = IntercomEmulator(server.root_url)
        acme = emulator.seed_workspace(name="Acme")
    finally:
        server.stop()
    again = start_emulator(["--no-validate"])
    try:
        assert acme.id_code not in IntercomEmulator(again.root_url).state()["workspaces"]
    finally:
        again.stop()
