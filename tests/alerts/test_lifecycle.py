"""A run's end is told to alerts, webhooks, metrics and sequence followers by the `run_finished` task:
every end (cancelled and reaped runs too), each listener once, one failing listener retried without
keeping the others from hearing, and no second email or webhook when the task runs again."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.alerts import webhooks
from apps.alerts.models import AlertKind, AlertState, DeliveryStatus, WebhookDelivery
from apps.common.metrics import RUNS_FINISHED
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus, SyncRun
from apps.syncs.runs import lifecycle
from apps.syncs.runs import services as run_services
from apps.syncs.tasks import run_finished_task
from config.celery import app
from tests.factories import MembershipFactory, SyncFactory, SyncRunFactory
from tests.fixtures.celery import WorkerProcess

ALL = ["finished:metrics", "finished:followers", "finished:alerts", "finished:webhooks"]
failures_left = {"flaky": 0}


def flaky(*, run) -> None:
    """A listener that fails while `failures_left` says so (a database blip)."""
    if failures_left["flaky"] > 0:
        failures_left["flaky"] -= 1
        raise ConnectionError("the database went away")


@pytest.fixture
def endpoint(workspace, hook_server, local_webhooks):
    webhooks.webhook_create(
        workspace=workspace,
        user=None,
        url=hook_server.url,
        description="",
        events=["run.started", "run.succeeded", "run.failed"],
    )
    return hook_server


def running_run(workspace, **fields) -> SyncRun:
    return SyncRunFactory(
        workspace=workspace,
        sync=SyncFactory(workspace=workspace),
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        **fields,
    )


def finished_count(status) -> float:
    return RUNS_FINISHED.labels(status)._value.get()


@pytest.mark.django_db
def test_a_listener_that_fails_once_is_retried_and_the_others_hear_once(
    workspace, owner, endpoint, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setitem(lifecycle.LISTENERS, "finished", {
        "metrics": lifecycle.LISTENERS["finished"]["metrics"], "flaky": f"{__name__}.flaky",
        "alerts": lifecycle.LISTENERS["finished"]["alerts"], "webhooks": lifecycle.LISTENERS["finished"]["webhooks"],
    })  # fmt: skip
    failures_left["flaky"] = 1
    run = running_run(workspace)
    before = finished_count("failed")
    with django_capture_on_commit_callbacks(execute=True):
        run_services.run_finish(
            run=run, status=RunStatus.FAILED, counts=RunCounts(rejected=1), first_error="boom"
        )
    run.refresh_from_db()
    assert failures_left["flaky"] == 0  # it failed once, and the retry told it
    assert run.announced == ["finished:metrics", "finished:alerts", "finished:webhooks", "finished:flaky"]
    assert finished_count("failed") - before == 1  # not counted again by the retry
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject] and "failed" in mail.outbox[0].subject
    assert [r.json["type"] for r in endpoint.received] == ["run.failed"]  # one POST, not one per attempt

    with django_capture_on_commit_callbacks(execute=True):  # the message delivered again
        assert run_finished_task.apply(args=[run.pk]).get() == []
    assert len(mail.outbox) == 1 and len(endpoint.received) == 1
    assert WebhookDelivery.objects.for_workspace(workspace).count() == 1


@pytest.mark.django_db
def test_a_listener_that_keeps_failing_does_not_keep_the_others_from_hearing(
    workspace, owner, endpoint, eager_tasks, django_capture_on_commit_callbacks, monkeypatch, settings
):
    monkeypatch.setitem(
        lifecycle.LISTENERS, "finished", {"flaky": f"{__name__}.flaky"} | lifecycle.LISTENERS["finished"]
    )
    failures_left["flaky"] = 100
    run = running_run(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        run_services.run_finish(run=run, status=RunStatus.FAILED, counts=RunCounts(), first_error="boom")
    run.refresh_from_db()
    assert 100 - failures_left["flaky"] == settings.SYNC_ANNOUNCE_MAX_RETRIES + 1  # tried, then retried
    assert run.announced == ALL  # every other listener heard, once, despite the retries
    assert len(mail.outbox) == 1 and [r.json["type"] for r in endpoint.received] == ["run.failed"]


@pytest.mark.django_db
def test_a_cancelled_queued_run_is_announced(
    workspace, owner, endpoint, eager_tasks, django_capture_on_commit_callbacks
):
    run = SyncRunFactory(workspace=workspace, sync=SyncFactory(workspace=workspace), status=RunStatus.QUEUED)
    before = finished_count("cancelled")
    with django_capture_on_commit_callbacks(execute=True):
        run_services.sync_run_cancel(workspace=workspace, run=run, user=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.announced == ALL
    assert finished_count("cancelled") - before == 1
    # As the rules say: a cancelled run says nothing of the sync's health, and sends no end event.
    assert mail.outbox == [] and endpoint.received == []
    assert not AlertState.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_cancelled_run_whose_worker_died_is_announced(
    workspace, owner, endpoint, eager_tasks, django_capture_on_commit_callbacks, settings
):
    stale = timezone.now() - timedelta(seconds=settings.SYNC_RUN_LEASE_SECONDS + 5)
    run = running_run(workspace, heartbeat_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        run_services.sync_run_cancel(workspace=workspace, run=run, user=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.announced == ALL


@pytest.fixture
def worker(monkeypatch, celery_queue):
    monkeypatch.setenv("WEBHOOKS_REQUIRE_HTTPS", "false")
    monkeypatch.setenv("UNSAFE_ALLOW_LOOPBACK_WEBHOOKS", "true")
    monkeypatch.setenv("TEST_CELERY_QUEUE", celery_queue)  # the deliveries it enqueues stay on its queue
    process = WorkerProcess(celery_queue).start()
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = celery_queue
    yield process
    app.conf.task_default_queue = default_queue
    process.stop()


def wait_for(condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail("the worker did not announce the run in time")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_reaped_run_is_announced_by_a_real_worker(worker, hook_server, local_webhooks, settings):
    workspace = MembershipFactory().workspace
    webhooks.webhook_create(
        workspace=workspace, user=None, url=hook_server.url, description="", events=["run.failed"]
    )
    stale = timezone.now() - timedelta(seconds=settings.SYNC_RUN_LEASE_SECONDS + 5)
    sync = SyncFactory(workspace=workspace, paused=True)  # no recovery run continues it
    run = SyncRunFactory(
        workspace=workspace, sync=sync, status=RunStatus.RUNNING, started_at=stale, heartbeat_at=stale
    )

    assert run_services.runs_reap_stale() == 0  # ended, and nothing continues it

    def told():
        run.refresh_from_db()
        return run.announced == ALL

    wait_for(told)
    assert run.status == RunStatus.FAILED
    assert AlertState.objects.for_workspace(workspace).filter(kind=AlertKind.FAILED, run=run).exists()
    wait_for(
        lambda: (
            WebhookDelivery.objects.for_workspace(workspace).filter(status=DeliveryStatus.SUCCEEDED).exists()
        )
    )
    (received,) = hook_server.received
    assert received.json["type"] == "run.failed" and received.json["data"]["run_id"] == run.pk
    assert "stopped answering" in received.json["data"]["first_error"]
