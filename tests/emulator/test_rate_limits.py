"""Rate limits per app and per workspace, in short windows for the test's sake."""

import time

from tests.emulator.conftest import assert_error


def _wait_for_window_start(window: float = 1.0) -> None:
    # Start right after a window boundary so a burst does not straddle two windows.
    time.sleep(window - (time.time() % window) + 0.02)


def test_app_limit_gives_429_with_intercoms_message(intercom_emulator, api):
    intercom_emulator.set_rate_limit(app_per_minute=60, window_seconds=1)  # 60/6 = 10 per window
    _wait_for_window_start()
    statuses = []
    for _ in range(10):
        response = api.get("/me")
        statuses.append(response.status_code)
    assert statuses == [200] * 10
    assert response.headers["x-ratelimit-limit"] == "10"
    assert response.headers["x-ratelimit-remaining"] == "0"
    limited = api.get("/me")
    body = assert_error(limited, 429, "rate_limit_exceeded")
    assert body["errors"][0]["message"] == "Exceeded rate limit of 10 in 1_seconds"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    reset = int(limited.headers["x-ratelimit-reset"])
    assert reset >= time.time()
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert api.get("/me").status_code == 200


def test_default_window_message_names_10_seconds(intercom_emulator, api):
    intercom_emulator.set_rate_limit(app_per_minute=6)  # 1 per 10-second window
    responses = [api.get("/me") for _ in range(3)]  # 3, not 2: a burst may straddle a window edge
    limited = [r for r in responses if r.status_code == 429]
    body = assert_error(limited[0], 429, "rate_limit_exceeded")
    assert body["errors"][0]["message"] == "Exceeded rate limit of 1 in 10_seconds"


def test_workspace_limit_is_shared_by_the_workspaces_apps(intercom_emulator, workspace, api):
    intercom_emulator.set_rate_limit(app_per_minute=600, workspace_per_minute=60, window_seconds=1)
    second_app = intercom_emulator.add_token(workspace.id_code)
    _wait_for_window_start()
    with intercom_emulator.client(second_app) as other:
        for _ in range(5):
            assert api.get("/me").status_code == 200
            assert other.get("/me").status_code == 200
        body = assert_error(other.get("/me"), 429, "rate_limit_exceeded")
    assert body["errors"][0]["message"] == "Exceeded rate limit of 10 in 1_seconds"


def test_apps_in_other_workspaces_are_not_affected(intercom_emulator, api):
    intercom_emulator.set_rate_limit(app_per_minute=60, window_seconds=1)
    other = intercom_emulator.seed_workspace(name="Other")
    _wait_for_window_start()
    for _ in range(11):
        api.get("/me")
    assert api.get("/me").status_code == 429
    with intercom_emulator.client(other.token) as client:
        assert client.get("/me").status_code == 200


def test_rate_limited_requests_are_counted_in_the_log(intercom_emulator, api):
    intercom_emulator.set_rate_limit(app_per_minute=6, window_seconds=5)
    api.get("/me")
    api.get("/me")
    assert intercom_emulator.request_count("GET /me", 429) == 1
    assert intercom_emulator.request_count(status=429) == 1
