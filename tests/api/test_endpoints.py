"""The REST API through the test client with bearer keys: auth, tenancy, triggers and runs."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.utils import timezone

from apps.api.models import ApiKey
from apps.api.services import api_key_create, api_key_revoke
from apps.api.throttle import PerApiKeyThrottle
from apps.syncs.models import RunStatus, SyncRun
from apps.syncs.runs.execute import sync_run_execute
from config.celery import app as celery_app
from tests.api.conftest import ApiClient
from tests.factories import MembershipFactory, SyncFactory, SyncRunFactory
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db

SYNCS = "/api/v1/syncs"


def trigger_url(sync_id):
    return f"/api/v1/syncs/{sync_id}/trigger"


def run_url(run_id):
    return f"/api/v1/sync_runs/{run_id}"


# --- authentication -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Token abc"}, "malformed_authorization"),
        ({"Authorization": "Bearer"}, "malformed_authorization"),
        ({"Authorization": "Bearer sl_not-a-key-of-anyone"}, "invalid_api_key"),
    ],
)
def test_every_endpoint_requires_a_valid_key(client, workspace, headers, code):
    sync = SyncFactory(workspace=workspace)
    run = SyncRunFactory(workspace=workspace, sync=sync)
    for method, path in [("get", SYNCS), ("post", trigger_url(sync.pk)), ("get", run_url(run.pk))]:
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 401, path
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"] == code
        assert "Settings → API keys" in response.json()["message"] or code == "malformed_authorization"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not SyncRun.objects.for_workspace(workspace).exclude(pk=run.pk).exists()


def test_a_session_cookie_does_not_authenticate(owner_client, workspace):
    sync = SyncFactory(workspace=workspace)
    assert owner_client.get(SYNCS).status_code == 401
    response = owner_client.post(trigger_url(sync.pk))
    assert response.status_code == 401 and response.json()["error"] == "missing_api_key"
    assert not SyncRun.objects.for_workspace(workspace).exists()


def test_a_revoked_key_is_refused_at_once(workspace, owner, api, api_key_and_secret):
    assert api.get(SYNCS).status_code == 200
    api_key_revoke(workspace=workspace, api_key=api_key_and_secret[0], user=owner)
    response = api.get(SYNCS)
    assert response.status_code == 401
    assert response.json()["error"] == "revoked_api_key"
    assert "revoked on" in response.json()["message"]


def test_last_use_is_recorded(api, api_key_and_secret):
    api_key = api_key_and_secret[0]
    assert api_key.last_used_at is None
    api.get(SYNCS)
    api_key.refresh_from_db()
    assert timezone.now() - api_key.last_used_at < timedelta(seconds=10)


# --- tenancy ------------------------------------------------------------------------------------------


@pytest.fixture
def other_workspace_objects():
    other = MembershipFactory().workspace
    sync = SyncFactory(workspace=other, name="Their sync")
    return sync, SyncRunFactory(workspace=other, sync=sync)


def test_objects_of_another_workspace_answer_like_missing_ones(api, workspace, other_workspace_objects):
    their_sync, their_run = other_workspace_objects
    missing_id = max(their_sync.pk, their_run.pk) + 1000

    for path_of in (trigger_url, run_url):
        theirs = (
            api.post(path_of(their_sync.pk)) if path_of is trigger_url else api.get(path_of(their_run.pk))
        )
        missing = api.post(path_of(missing_id)) if path_of is trigger_url else api.get(path_of(missing_id))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["error"] == missing.json()["error"] == "not_found"
        assert theirs.json()["message"].replace(
            str(their_sync.pk if path_of is trigger_url else their_run.pk), "ID"
        ) == missing.json()["message"].replace(str(missing_id), "ID")
    assert not SyncRun.objects.for_workspace(their_sync.workspace).exclude(pk=their_run.pk).exists()


def test_the_list_holds_only_the_keys_workspace(api, workspace, other_workspace_objects):
    mine = SyncFactory(workspace=workspace, name="Companies", paused=True)
    run = SyncRunFactory(workspace=workspace, sync=mine, status=RunStatus.FAILED)
    body = api.get(SYNCS).json()
    assert [s["name"] for s in body["syncs"]] == ["Companies"]
    listed = body["syncs"][0]
    assert listed["id"] == mine.pk and listed["object"] == "company" and listed["behavior"] == "upsert"
    assert listed["paused"] is True
    assert listed["last_run"]["id"] == run.pk and listed["last_run"]["status"] == "failed"
    assert listed["trigger_url"] == f"http://testserver{trigger_url(mine.pk)}"
    assert listed["dashboard_url"] == f"http://testserver/w/{workspace.slug}/syncs/{mine.pk}/"


def test_a_sync_never_run_has_no_last_run(api, workspace):
    SyncFactory(workspace=workspace)
    assert api.get(SYNCS).json()["syncs"][0]["last_run"] is None


def test_keys_of_two_workspaces_see_their_own(api, workspace, other_workspace_objects):
    their_sync, _ = other_workspace_objects
    _, their_secret = api_key_create(workspace=their_sync.workspace, user=None, name="Theirs")
    SyncFactory(workspace=workspace, name="Mine")
    assert [s["name"] for s in ApiClient(their_secret).get(SYNCS).json()["syncs"]] == ["Their sync"]
    assert [s["name"] for s in api.get(SYNCS).json()["syncs"]] == ["Mine"]


# --- triggers -----------------------------------------------------------------------------------------


@pytest.fixture
def routed_to(celery_queue):
    """Send the run task to this test's own queue on the real broker, and give that queue to the test."""
    conf, amqp = celery_app.conf, celery_app.amqp
    saved = conf.task_routes
    conf.task_routes = {"apps.syncs.tasks.execute_sync_run_task": {"queue": celery_queue}}
    amqp.flush_routes()
    amqp.__dict__.pop("router", None)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield broker
    broker.delete(celery_queue)
    conf.task_routes = saved
    amqp.flush_routes()
    amqp.__dict__.pop("router", None)


def queued_task_args(broker, queue):
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    return [(msg["headers"]["task"], json.loads(base64.b64decode(msg["body"]))[0]) for msg in messages]


def test_trigger_queues_a_run_and_enqueues_it_on_commit(
    api, workspace, routed_to, celery_queue, django_capture_on_commit_callbacks
):
    sync = SyncFactory(workspace=workspace)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(trigger_url(sync.pk))
        assert routed_to.llen(celery_queue) == 0  # nothing is sent before the commit

    assert response.status_code == 202
    run = SyncRun.objects.for_workspace(workspace).get()
    assert run.status == RunStatus.QUEUED and run.trigger == "api" and not run.full_resync
    body = response.json()
    assert body["id"] == run.pk and body["status"] == "queued" and body["trigger"] == "api"
    assert body["url"] == response["Location"] == f"http://testserver{run_url(run.pk)}"
    assert body["dashboard_url"] == f"http://testserver/w/{workspace.slug}/runs/{run.pk}/"

    assert len(callbacks) == 1
    callbacks[0]()  # what the commit does
    assert queued_task_args(routed_to, celery_queue) == [("apps.syncs.tasks.execute_sync_run_task", [run.pk])]


def test_a_second_trigger_while_a_run_is_active_is_409_with_that_run(api, workspace):
    sync = SyncFactory(workspace=workspace, name="Users")
    first = api.post(trigger_url(sync.pk))
    second = api.post(trigger_url(sync.pk), {"full_resync": True})
    assert first.status_code == 202 and second.status_code == 409
    body = second.json()
    assert body["error"] == "sync_already_running"
    assert body["run"]["id"] == first.json()["id"] and body["run"]["status"] == "queued"
    assert f"run {first.json()['id']}" in body["message"] and "“Users”" in body["message"]
    assert SyncRun.objects.for_workspace(workspace).count() == 1


def test_after_the_run_ends_a_new_trigger_is_accepted(api, workspace):
    sync = SyncFactory(workspace=workspace)
    SyncRunFactory(workspace=workspace, sync=sync, status=RunStatus.SUCCEEDED)
    assert api.post(trigger_url(sync.pk)).status_code == 202


@pytest.mark.parametrize(
    ("body", "full_resync"),
    [(None, False), ({}, False), ({"full_resync": False}, False), ({"full_resync": True}, True)],
)
def test_the_full_resync_flag_is_honoured(api, workspace, body, full_resync):
    sync = SyncFactory(workspace=workspace)
    response = api.post(trigger_url(sync.pk), body)
    assert response.status_code == 202
    assert response.json()["full_resync"] is full_resync
    assert SyncRun.objects.for_workspace(workspace).get().full_resync is full_resync


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        ('{"full_resync": "yes"}', 422, "full_resync: Input should be a valid boolean"),
        ('{"full_resynch": true}', 422, "full_resynch: Extra inputs are not permitted"),
        ('["full_resync"]', 422, "body: Input should be a valid dictionary"),
        ("{not json", 400, "Cannot parse request body"),
    ],
)
def test_a_bad_body_is_refused_and_starts_nothing(api, workspace, raw, status, says):
    sync = SyncFactory(workspace=workspace)
    response = api.client.post(
        trigger_url(sync.pk), raw, content_type="application/json", headers=api.headers
    )
    assert response.status_code == status
    assert says in response.json()["message"]
    assert not SyncRun.objects.for_workspace(workspace).exists()


def test_a_sync_id_that_is_not_a_number_is_422(api):
    response = api.post(trigger_url("abc"))
    assert response.status_code == 422 and "sync_id" in response.json()["message"]


# --- runs ---------------------------------------------------------------------------------------------


def test_a_run_reports_status_timings_and_counts(api, workspace):
    started = timezone.now() - timedelta(minutes=3)
    run = SyncRunFactory(
        workspace=workspace,
        status=RunStatus.PARTIALLY_FAILED,
        trigger="schedule",
        started_at=started,
        finished_at=started + timedelta(seconds=95),
        counts={"source_rows": 10, "created": 7, "rejected": 3, "api_calls": 12},
        first_error="3 records were rejected by Intercom.",
    )
    body = api.get(run_url(run.pk)).json()
    assert body["status"] == "partially_failed" and body["trigger"] == "schedule"
    assert body["duration_seconds"] == 95.0
    assert (
        body["counts"]["created"] == 7 and body["counts"]["rejected"] == 3 and body["counts"]["updated"] == 0
    )
    assert body["error"] == "3 records were rejected by Intercom."
    assert body["sync_id"] == run.sync_id


def test_trigger_then_poll_until_the_run_has_synced_the_records(api, workspace, warehouse, destination):
    """End to end: the API's run is executed against the Intercom emulator; its counts come back."""
    warehouse.table(
        "users",
        "id INTEGER, email VARCHAR, name VARCHAR",
        [(1, "ada@example.com", "Ada"), (2, "alan@example.com", "Alan")],
    )
    model = warehouse.model("SELECT * FROM users", "id", ["id", "email", "name"], unique=("email",))
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )
    run_id = api.post(trigger_url(sync.pk)).json()["id"]
    assert api.get(run_url(run_id)).json()["finished_at"] is None

    sync_run_execute(run_id=run_id)

    body = api.get(run_url(run_id)).json()
    assert body["status"] == "succeeded" and body["finished_at"] is not None
    assert body["counts"]["source_rows"] == 2 and body["counts"]["created"] == 2
    assert body["duration_seconds"] >= 0


def test_no_secret_is_stored(api_key_and_secret):
    api_key, secret = api_key_and_secret
    stored = ApiKey.objects.for_workspace(api_key.workspace).values().get()
    assert secret not in json.dumps(stored, default=str)
    assert secret.startswith(stored["prefix"]) and len(stored["prefix"]) < len(secret) // 3


@pytest.mark.parametrize("path", ["/api/v1/sync/1/trigger", "/api/v1/syncs/1/run", "/api/v1/runs/1"])
def test_a_mistyped_endpoint_is_a_json_404(api, path):
    response = api.post(path)
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": f"No endpoint at {path}. The endpoints are described at /api/v1/docs.",
    }
    assert ApiClient(None).get(path).status_code == 401  # the key is checked first, as everywhere


# --- attribution and rate limit -------------------------------------------------------------------------


def test_a_run_records_the_key_that_triggered_it_and_its_page_says_so(
    api, api_key_and_secret, workspace, owner, owner_client
):
    api_key, _ = api_key_and_secret
    run_id = api.post(trigger_url(SyncFactory(workspace=workspace).pk)).json()["id"]

    run = SyncRun.objects.for_workspace(workspace).get(pk=run_id)
    assert run.api_key == api_key and run.triggered_by is None
    page = owner_client.get(f"/w/{workspace.slug}/runs/{run_id}/").content.decode()
    assert f"API with the key “Airflow” ({api_key.prefix}…)" in page
    api_key_revoke(workspace=workspace, api_key=api_key, user=owner)
    page = owner_client.get(f"/w/{workspace.slug}/runs/{run_id}/").content.decode()
    assert f"({api_key.prefix}…, since revoked)" in page


def test_past_the_limit_a_key_is_answered_429_with_when_to_retry(api, workspace, owner, settings):
    settings.API_RATE_LIMIT = "3/min"
    other = ApiClient(api_key_create(workspace=workspace, user=owner, name="dbt Cloud")[1])
    with time_machine.travel("2026-11-28 10:00:00", tick=False) as clock:
        assert [api.get(SYNCS).status_code for _ in range(3)] == [200, 200, 200]
        refused = api.get(SYNCS)
        assert other.get(SYNCS).status_code == 200  # each key has its own allowance

        assert refused.status_code == 429 and refused["Retry-After"] == "60"
        assert refused.json() == {
            "error": "rate_limited",
            "message": "Too many requests with this API key: the limit is 3 requests a minute per key. "
            "Try again in 60 s.",
        }
        sync = SyncFactory(workspace=workspace)
        assert api.post(trigger_url(sync.pk)).status_code == 429
        assert not SyncRun.objects.for_workspace(workspace).exists()  # a refused trigger starts nothing

        clock.shift(61)
        assert api.post(trigger_url(sync.pk)).status_code == 202


def test_the_throttle_keeps_each_threads_request_apart(workspace, owner, settings, rf):
    """One throttle object serves every request; in a threaded server, one key's window must never
    become another's between the check and the Retry-After it computes."""
    settings.API_RATE_LIMIT = "1/min"
    throttle = PerApiKeyThrottle()
    requests = {}
    for name in ("a", "b"):
        requests[name] = rf.get(SYNCS)
        requests[name].auth = api_key_create(workspace=workspace, user=owner, name=name)[0]

    with (
        ThreadPoolExecutor(1) as thread_a,
        ThreadPoolExecutor(1) as thread_b,
        time_machine.travel("2026-11-28 10:00:00", tick=False) as clock,
    ):
        assert thread_a.submit(throttle.allow_request, requests["a"]).result() is True
        clock.shift(20)
        assert thread_a.submit(throttle.allow_request, requests["a"]).result() is False
        assert thread_b.submit(throttle.allow_request, requests["b"]).result() is True  # in between
        assert thread_a.submit(throttle.wait).result() == 40.0  # a's window: 60 s from its first request


def test_a_lowered_limit_and_an_odd_window_still_answer_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT = "5/min"
    with time_machine.travel("2026-11-28 10:00:00", tick=False) as clock:
        assert {api.get(SYNCS).status_code for _ in range(5)} == {200}
        clock.shift(10)
        settings.API_RATE_LIMIT = "2/10m"  # lowered below what the window already holds, 600-s window
        refused = api.get(SYNCS)
    assert refused.status_code == 429 and refused["Retry-After"] == "590"
    assert "the limit is 2 requests per 600 s per key. Try again in 590 s." in refused.json()["message"]
