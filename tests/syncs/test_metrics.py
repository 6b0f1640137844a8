"""/metrics after a real run against the emulator: run, record and Intercom call counters agree with what
the run stored and with what the emulator received."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.syncs.test_recovery import kill_worker_of, people, people_sync

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def grew(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture(autouse=True)
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_metrics_after_a_run_count_its_run_records_and_intercom_calls(
    client,
    workspace,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    intercom_emulator.set_rate_limit(workspace_per_minute=6, window_seconds=0.5)  # 1 call a half second
    sync = people_sync(workspace, warehouse, destination, people(6, bad_every=6))  # 5 good rows, 1 no key
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):  # the run's end is told to the metrics
        run = sync_run_execute(
            run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
        )
    after = scrape(client)

    assert run.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert grew(before, after, "syncline_runs_finished_total", status="succeeded_with_warnings") == 1
    assert grew(before, after, "syncline_records_total", outcome="created") == 5
    assert grew(before, after, "syncline_records_total", outcome="invalid") == 1
    assert grew(before, after, "syncline_records_total", outcome="rejected") == 0
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 5

    workspace_id = intercom_workspace.id_code
    received, refused = intercom_emulator.request_count(), intercom_emulator.request_count(status=429)
    assert refused > 0  # the limit above made Intercom answer 429 at least once
    calls = grew(before, after, "syncline_intercom_calls_total", intercom_workspace=workspace_id)
    assert calls == received == run.counts["api_calls"]  # every request sent, the refused ones too
    assert (
        grew(before, after, "syncline_intercom_rate_limited_total", intercom_workspace=workspace_id)
        == refused
    )
    assert grew(before, after, "syncline_intercom_call_seconds_count") == received
    assert (
        grew(
            before,
            after,
            "syncline_intercom_rate_limiter_wait_seconds_total",
            intercom_workspace=workspace_id,
        )
        > 0
    )


def test_queue_gauges_and_reaped_runs(
    client, workspace, warehouse, destination, settings, django_capture_on_commit_callbacks, eager_tasks
):
    sync = people_sync(workspace, warehouse, destination, people(2))
    queued = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    now = scrape(client)
    assert now[("syncline_runs_active", (("status", "queued"),))] == 1
    assert now[("syncline_runs_active", (("status", "running"),))] == 0
    assert now[("syncline_oldest_queued_run_age_seconds", ())] >= 0

    run_services.run_mark_running(run=queued)
    kill_worker_of(queued, settings)
    before = scrape(client)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(run_services.SyncAlreadyRunning),  # the reaper ended it and started a recovery run
    ):
        run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    after = scrape(client)
    assert grew(before, after, "syncline_runs_reaped_total") == 1
    assert grew(before, after, "syncline_runs_finished_total", status="failed") == 1


def test_metrics_need_the_token(client, settings):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 401
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404  # metrics are off
