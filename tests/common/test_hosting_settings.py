"""The hosting-mode settings as a deployment meets them: a wrong value, a replaced setting or the unsafe
loopback allowance in production stop the process at start, with what to do."""

import os
import subprocess
import sys

from tests.test_settings import PRODUCTION_ENV, ROOT

SHOW = "from django.conf import settings; print(settings.HOSTING_MODE, settings.DUCKDB_DATA_DIR)"


def start(extra: dict[str, str]):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= PRODUCTION_ENV | extra
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_team_is_the_default_and_the_data_folder_is_under_var():
    result = start({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["team", str(ROOT / "var" / "duckdb")]


def test_shared_hosting_and_the_data_folder_come_from_the_environment():
    result = start({"SYNCLINE_HOSTING_MODE": "shared", "DUCKDB_DATA_DIR": "/srv/syncline/duckdb"})
    assert result.stdout.split() == ["shared", "/srv/syncline/duckdb"], result.stderr


def test_an_unknown_mode_stops_the_start():
    result = start({"SYNCLINE_HOSTING_MODE": "multi"})
    assert result.returncode != 0
    assert 'SYNCLINE_HOSTING_MODE is "multi"; set it to "team" or "shared".' in result.stderr


def test_a_replaced_guard_setting_is_not_dropped_silently():
    for name in ("SOURCES_BLOCK_PRIVATE_HOSTS", "WEBHOOKS_BLOCK_PRIVATE_HOSTS"):
        result = start({name: "true"})
        assert result.returncode != 0
        assert f"{name} was replaced by SYNCLINE_HOSTING_MODE" in result.stderr


def test_production_refuses_the_unsafe_loopback_allowance():
    result = start({"UNSAFE_ALLOW_LOOPBACK_WEBHOOKS": "true"})
    assert result.returncode != 0
    assert "UNSAFE_ALLOW_LOOPBACK_WEBHOOKS lets webhooks reach this server's own services" in result.stderr
