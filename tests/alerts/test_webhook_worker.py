"""The delivery task in a real Celery worker process on the real Redis: an endpoint that fails twice is
retried with growing pauses and gets the event on the third attempt."""

import time

import pytest
from django.utils import timezone

from apps.alerts import webhooks
from apps.alerts.models import DeliveryStatus, WebhookDelivery
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from config.celery import app
from tests.alerts.conftest import verify
from tests.factories import MembershipFactory, SyncFactory, SyncRunFactory
from tests.fixtures.celery import WorkerProcess

RETRY_BASE_SECONDS = 0.5


@pytest.fixture
def worker(monkeypatch, celery_queue):
    """A worker on this test's queue, with short pauses and the local endpoint allowed; the run's tasks
    go to that queue."""
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", str(RETRY_BASE_SECONDS))
    monkeypatch.setenv("WEBHOOKS_REQUIRE_HTTPS", "false")
    monkeypatch.setenv("UNSAFE_ALLOW_LOOPBACK_WEBHOOKS", "true")
    monkeypatch.setenv("TEST_CELERY_QUEUE", celery_queue)  # the deliveries it enqueues stay on its queue
    process = WorkerProcess(celery_queue).start()
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = celery_queue
    yield process
    app.conf.task_default_queue = default_queue
    process.stop()


def wait_until_done(workspace, timeout=120.0) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.for_workspace(workspace).first()
        if delivery and delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            return delivery
        time.sleep(0.2)
    pytest.fail("the worker did not finish the delivery in time")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_failing_endpoint_is_retried_with_backoff_by_a_real_worker(worker, hook_server, local_webhooks):
    hook_server.statuses = [503, 502, 200]
    workspace = MembershipFactory().workspace
    endpoint, secret = webhooks.webhook_create(
        workspace=workspace, user=None, url=hook_server.url, description="", events=["run.failed"]
    )
    run = SyncRunFactory(
        workspace=workspace,
        sync=SyncFactory(workspace=workspace),
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
    )

    run_services.run_finish(
        run=run, status=RunStatus.FAILED, counts=RunCounts(rejected=2), first_error="1: refused"
    )

    delivery = wait_until_done(workspace)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [(a.number, a.status_code) for a in delivery.attempts.all()] == [(1, 503), (2, 502), (3, 200)]
    first, second, third = hook_server.received
    assert second.at - first.at >= RETRY_BASE_SECONDS
    assert third.at - second.at >= RETRY_BASE_SECONDS * 4
    for received in hook_server.received:  # each attempt signed afresh, under the same id
        assert verify(secret, received.headers, received.body)["data"]["run_id"] == run.pk
        assert received.headers["webhook-id"] == delivery.message_id
