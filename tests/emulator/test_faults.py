"""Injected latency, server errors and hanging requests, settable at run time."""

import json
import time

import httpx
import pytest

from tests.emulator.conftest import assert_error
from tests.fixtures.emulator import start_emulator


def test_latency_is_added(intercom_emulator, api):
    intercom_emulator.set_faults(latency_ms=150, jitter_ms=50)
    started = time.perf_counter()
    assert api.get("/me").status_code == 200
    elapsed = time.perf_counter() - started
    assert 0.15 <= elapsed < 1.0


def test_error_rate_answers_500_or_503(intercom_emulator, api):
    intercom_emulator.set_faults(error_rate=1.0)
    statuses = {api.get("/me").status_code for _ in range(20)}
    assert statuses <= {500, 503} and statuses
    response = api.get("/me")
    assert response.json()["type"] == "error.list"
    intercom_emulator.set_faults(error_rate=0.0)
    assert api.get("/me").status_code == 200
    assert intercom_emulator.state()["injected_errors"] == 21


def test_only_503(intercom_emulator, api):
    intercom_emulator.set_faults(error_rate=1.0, error_statuses=[503])
    assert_error(api.get("/me"), 503, "service_unavailable")


def test_partial_error_rate(intercom_emulator, api):
    intercom_emulator.set_faults(error_rate=0.5)
    statuses = [api.get("/me").status_code for _ in range(200)]
    errors = sum(status >= 500 for status in statuses)
    assert 50 < errors < 150


def test_hanging_requests_time_the_client_out(intercom_emulator, api):
    intercom_emulator.set_faults(hang_rate=1.0, hang_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/me", timeout=0.3)
    intercom_emulator.set_faults(hang_rate=0.0)  # also releases the hung request
    assert api.get("/me").status_code == 200
    assert intercom_emulator.state()["hung_requests"] == 1


def test_hang_ends_after_hang_seconds(intercom_emulator, api):
    intercom_emulator.set_faults(hang_rate=1.0, hang_seconds=0.3)
    started = time.perf_counter()
    assert api.get("/me").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_reset_restores_the_start_settings(intercom_emulator, api):
    intercom_emulator.set_faults(error_rate=1.0)
    intercom_emulator.reset()
    settings = intercom_emulator.state()["settings"]
    assert settings["faults"]["error_rate"] == 0.0
    assert settings["rate_limits"] == {
        "app_per_minute": 10000,
        "workspace_per_minute": 25000,
        "window_seconds": 10.0,
    }


def test_faults_and_limits_can_be_set_at_start(tmp_path):
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(
        json.dumps(
            {
                "workspaces": [
                    {"name": "From file", "region": "EU", "id_code": "filed", "tokens": ["tok_file"]}
                ],
                "oauth_clients": [
                    {"client_id": "c2", "client_secret": "s2", "redirect_uris": ["https://x.test/cb"]}
                ],
            }
        )
    )
    server = start_emulator(
        [
            "--seed-file",
            str(seed_file),
            "--latency-ms",
            "100",
            "--error-rate",
            "0",
            "--app-rate-limit",
            "120",
            "--rate-window-seconds",
            "2",
            "--search-lag",
            "150",
            "--deleted-hold",
            "1000",
            "--time-factor",
            "0.01",
            "--workspace",
            "name=Boot,region=AU,id_code=boot,token=tok_boot",
            "--oauth-client",
            "cid:secret:https://app.test/cb,https://app.test/cb2",
        ]
    )
    try:
        control = httpx.get(f"{server.root_url}/_emulator/state").json()
        assert control["settings"]["faults"]["latency_ms"] == 100
        assert control["settings"]["rate_limits"]["app_per_minute"] == 120
        assert control["settings"]["search_lag_seconds"] == 1.5  # scaled by the time factor
        assert control["settings"]["deleted_hold_seconds"] == 10
        assert control["workspaces"]["boot"]["region"] == "AU"
        assert control["oauth_clients"][0]["redirect_uris"] == ["https://app.test/cb", "https://app.test/cb2"]
        assert control["oauth_clients"][1]["client_id"] == "c2"
        assert control["workspaces"]["filed"]["tokens"][0]["token"] == "tok_file"
        started = time.perf_counter()
        response = httpx.get(f"{server.root_url}/au/me", headers={"Authorization": "Bearer tok_boot"})
        assert response.status_code == 200 and time.perf_counter() - started >= 0.1
        assert response.headers["x-ratelimit-limit"] == "20"
        httpx.post(f"{server.root_url}/_emulator/reset")  # a reset keeps what the start options seeded
        assert (
            httpx.get(f"{server.root_url}/au/me", headers={"Authorization": "Bearer tok_boot"}).status_code
            == 200
        )
    finally:
        server.stop()
