"""Fuzzing the REST API: schemathesis reads /api/v1/openapi.json from the app and, for every operation in
it, generates requests that fit the description and requests that do not; each is sent with a valid key
and without one. No answer may be a 5xx. Bounded (EXAMPLES per operation and mode; fewer without a key, where
every request stops at the key check): about a minute for the 17 operations on an idle machine.

(Hypothesis drives schemathesis's strategies directly: schemathesis's own pytest loader relies on a pytest
internal that pytest 9 removed.)"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from apps.api import waiting
from apps.api.services import api_key_create
from tests.factories import SyncRunFactory

EXAMPLES = {True: 40, False: 10}  # with a key, without one


@pytest.fixture
def api_secret(owner_membership, settings, monkeypatch):
    settings.API_RATE_LIMIT = "100000/min"  # the fuzzer's requests must reach the endpoints, not the limit
    # A generated `wait` holds the answer for that long on a run no worker takes: cut every wait short.
    monkeypatch.setattr(waiting, "MAX_WAIT_SECONDS", 0.01)
    workspace, owner = owner_membership.workspace, owner_membership.user
    SyncRunFactory(workspace=workspace)  # a sync and a run exist, so some generated ids are found
    return api_key_create(workspace=workspace, user=owner, name="Fuzzer")[1]


@pytest.fixture
def api_schema(db):
    # The app is called through WSGI, as a server calls it, inside the test's transaction: the end of a
    # request must not close the database connection (Django's test client keeps it open the same way).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("with_key", [True, False], ids=["valid key", "no key"])
def test_no_operation_answers_a_server_error(api_schema, api_secret, with_key):
    headers = {"Authorization": f"Bearer {api_secret}"} if with_key else {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 17

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES[with_key],
                deadline=None,
                database=None,
                derandomize=True,  # the same examples on every run: CI passes or fails for a reason
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            def no_server_error(case):
                response = case.call(headers=headers)
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} → {response.status_code}\n"
                    f"{case.as_curl_command(headers=headers)}\n{response.text[:500]}"
                )

            no_server_error()
