"""The autouse spec check (tests/fixtures/intercom_requests.py) sees every exchange and fails bad ones."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from apps.connections.intercom.client import REDACTED, Accepted, Rejected
from tests.fixtures.emulator import REPO_ROOT


def test_every_exchange_is_recorded_without_the_token(intercom, intercom_emulator, intercom_requests):
    intercom.me()
    intercom.create_contact({"role": "user", "external_id": "s-1"})
    intercom.create_contact({"role": "user", "external_id": "s-1", "name": "again"})  # 409, then PUT
    intercom.send_event({"event_name": "signed-up", "created_at": 1_700_000_000, "user_id": "s-1"})

    recorded = [(e.method, e.path, e.status) for e in intercom_requests.exchanges]
    assert len(recorded) == intercom_emulator.request_count() == 5
    assert recorded[2][1:] == ("/contacts", 409) and recorded[3][0] == "PUT"
    assert all(e.request_headers["Authorization"] == REDACTED for e in intercom_requests.exchanges)
    assert all(e.request_headers["Intercom-Version"] == "2.16" for e in intercom_requests.exchanges)
    assert intercom_requests.violations() == []


def test_a_request_the_spec_refuses_is_reported(intercom, intercom_requests):
    outcome = intercom.create_contact({"email": 12345})  # email must be a string
    assert isinstance(outcome, Rejected)  # the emulator refuses it too

    problems = intercom_requests.violations()
    assert len(problems) == 1
    assert problems[0].startswith("POST /contacts -> 400: the request does not match the spec")
    intercom_requests.accept_violations()  # sent on purpose; any other test would fail here


def test_a_response_the_spec_refuses_is_reported(intercom, intercom_requests):
    from apps.connections.intercom.client import Exchange

    assert isinstance(intercom.me(), Accepted)
    good = intercom_requests.exchanges[0]
    bad_body = good.response_body.replace(b'"type":"admin"', b'"type":"admin","id":12').replace(
        b'"id":"', b'"x":"'
    )
    intercom_requests.add(Exchange(**{**good.__dict__, "response_body": bad_body}))
    assert any("the response does not match the spec" in p for p in intercom_requests.violations())
    intercom_requests.accept_violations()


def test_a_test_sending_an_invalid_request_fails(tmp_path, client_workspace):
    """End to end: a separate pytest run whose only test sends a bad body must fail, in teardown."""
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import os

            from apps.connections.intercom.client import IntercomClient, Rejected
            from apps.connections.intercom.ratelimit import LocalRateLimiter

            def test_sends_a_bad_event():
                client = IntercomClient(
                    os.environ["INNER_BASE_URL"], os.environ["INNER_TOKEN"], "inner", LocalRateLimiter()
                )
                outcome = client.send_event({"event_name": "x", "user_id": "u"})  # no created_at
                assert isinstance(outcome, Rejected)
            """
        )
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django",
               "--rootdir", str(REPO_ROOT), "-c", str(REPO_ROOT / "pyproject.toml"),
               "-p", "tests.fixtures.intercom_requests", str(test_file)]  # fmt: skip
    env = {
        **os.environ,
        "INNER_BASE_URL": client_workspace.base_url,
        "INNER_TOKEN": client_workspace.token,
    }
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "1 passed" in summary and "1 error" in summary, result.stdout
    assert "POST /events -> 400: the request does not match the spec" in result.stdout
