"""Webhook deliveries: which events go where, the signature a receiver checks, what is retried."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import webhooks
from apps.alerts.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from apps.alerts.tasks import webhook_retry_delay
from apps.alerts.webhooks import Outcome, webhook_attempt
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus
from apps.syncs.runs import lifecycle
from apps.syncs.runs import services as run_services
from tests.alerts.conftest import BadSignature, verify
from tests.alerts.factories import SECRET, WebhookEndpointFactory
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sync(workspace):
    return SyncFactory(workspace=workspace, name="Contacts → Intercom")


def deliveries(workspace):
    return list(WebhookDelivery.objects.for_workspace(workspace).order_by("id"))


def start_and_finish(sync, status, callbacks, counts=None):
    run = SyncRunFactory(workspace=sync.workspace, sync=sync, status=RunStatus.QUEUED)
    with callbacks(execute=True):
        run_services.run_mark_running(run=run)
        run_services.run_finish(
            run=run, status=status, counts=RunCounts.from_json(counts or {"source_rows": 3, "updated": 3})
        )
    # What the start and end tasks do, here when tasks are not eager (each listener is told once).
    lifecycle.run_announce(run_id=run.pk, event="started")
    lifecycle.run_announce(run_id=run.pk, event="finished")
    return run


def test_a_receiver_verifies_the_signature_with_the_secret_it_was_shown(
    workspace, sync, hook_server, local_webhooks, eager_tasks, django_capture_on_commit_callbacks
):
    endpoint, secret = webhooks.webhook_create(
        workspace=workspace, user=None, url=hook_server.url, description="", events=WebhookEvent.values
    )
    run = start_and_finish(sync, RunStatus.SUCCEEDED, django_capture_on_commit_callbacks)

    assert [r.json["type"] for r in hook_server.received] == ["run.started", "run.succeeded"]
    for received in hook_server.received:
        event = verify(secret, received.headers, received.body)
        assert received.headers["content-type"] == "application/json"
        assert event["data"]["run_id"] == run.pk and event["data"]["sync_name"] == "Contacts → Intercom"
    finished = hook_server.received[1].json
    assert finished["data"]["status"] == "succeeded"
    assert finished["data"]["counts"] == RunCounts(source_rows=3, updated=3).to_json()  # every count
    assert finished["data"]["url"] == f"http://127.0.0.1:8000/w/{workspace.slug}/runs/{run.pk}/"
    assert set(finished) == {"id", "type", "created_at", "data"}

    # Anything else fails the check: another secret, a changed body, a replayed old timestamp.
    received = hook_server.received[1]
    with pytest.raises(BadSignature):
        verify(SECRET, received.headers, received.body)
    with pytest.raises(BadSignature):
        verify(secret, received.headers, received.body.replace(b"succeeded", b"failed"))
    old = received.headers | {"webhook-timestamp": str(int(timezone.now().timestamp()) - 3600)}
    with pytest.raises(BadSignature):
        verify(secret, old, received.body)
    assert all(d.status == DeliveryStatus.SUCCEEDED for d in deliveries(workspace))


def test_events_go_only_to_enabled_endpoints_of_the_workspace_that_chose_them(
    workspace, sync, django_capture_on_commit_callbacks
):
    failures_only = WebhookEndpointFactory(workspace=workspace, events=["run.failed"])
    WebhookEndpointFactory(workspace=workspace, enabled=False)
    WebhookEndpointFactory()  # another workspace's

    start_and_finish(sync, RunStatus.SUCCEEDED, django_capture_on_commit_callbacks)
    start_and_finish(sync, RunStatus.SUCCEEDED_WITH_WARNINGS, django_capture_on_commit_callbacks)
    assert deliveries(workspace) == []

    start_and_finish(
        sync,
        RunStatus.PARTIALLY_FAILED,
        django_capture_on_commit_callbacks,
        counts={"updated": 2, "rejected": 1},
    )
    start_and_finish(sync, RunStatus.CANCELLED, django_capture_on_commit_callbacks)
    sent = deliveries(workspace)
    assert [(d.endpoint_id, d.event_type, d.body["data"]["status"]) for d in sent] == [
        (failures_only.pk, "run.failed", "partially_failed")
    ]
    assert sent[0].body["id"] == sent[0].message_id


def test_network_errors_5xx_and_429_are_retried_until_the_attempts_run_out(
    workspace, hook_server, local_webhooks, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    hook_server.statuses = [503, 429, 500]
    endpoint = WebhookEndpointFactory(workspace=workspace, url=hook_server.url)
    delivery = _delivery(endpoint)

    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.RETRY, 1)
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.RETRY, 2)
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.GAVE_UP, 3)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    attempts = list(delivery.attempts.all())
    assert [a.status_code for a in attempts] == [503, 429, 500]
    assert attempts[0].error == "HTTP 503: scripted failure 503"
    ids = {r.headers["webhook-id"] for r in hook_server.received}
    assert ids == {delivery.message_id}  # the same id on every attempt, so receivers can drop repeats


def test_other_4xx_and_redirects_are_not_retried(workspace, hook_server, local_webhooks):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=hook_server.url)
    for status in (400, 404, 301):
        hook_server.statuses, hook_server.received[:] = [status], []
        delivery = _delivery(endpoint)
        assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.GAVE_UP, 1)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        error = delivery.attempts.get().error
        assert error.startswith(f"HTTP {status}")
        assert ("not retried" in error) if status != 301 else ("redirects are not followed" in error)


def test_a_refused_connection_and_a_slow_endpoint_are_recorded_and_retried(
    workspace, hook_server, local_webhooks, settings
):
    closed = WebhookEndpointFactory(workspace=workspace, url="http://127.0.0.1:9/hook")  # discard port
    delivery = _delivery(closed)
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.RETRY, 1)
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and attempt.error == "Could not connect: Connection refused"

    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    hook_server.delay = 1.0
    slow = _delivery(WebhookEndpointFactory(workspace=workspace, url=hook_server.url))
    assert webhook_attempt(delivery_id=slow.pk) == (Outcome.RETRY, 1)
    attempt = slow.attempts.get()
    assert attempt.error == "No answer within 0.3 s." and attempt.duration_ms >= 300


def test_an_endpoint_that_now_resolves_to_a_loopback_address_is_not_called(workspace, hook_server, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.UNSAFE_ALLOW_LOOPBACK_WEBHOOKS = False
    delivery = _delivery(WebhookEndpointFactory(workspace=workspace, url=hook_server.url))
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.GAVE_UP, 1)
    assert hook_server.received == []
    assert "127.0.0.1 is a loopback address" in delivery.attempts.get().error


def test_a_delivered_event_is_not_sent_again_when_its_task_is_redelivered(
    workspace, hook_server, local_webhooks
):
    delivery = _delivery(WebhookEndpointFactory(workspace=workspace, url=hook_server.url))
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.DELIVERED, 1)
    assert webhook_attempt(delivery_id=delivery.pk)[0] is Outcome.DELIVERED
    assert len(hook_server.received) == 1


def test_the_backoff_grows_fourfold_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 15
    assert [webhook_retry_delay(n) for n in range(1, 6)] == [15, 60, 240, 960, 1800]


def _delivery(endpoint):
    run = SyncRunFactory(workspace=endpoint.workspace, status=RunStatus.FAILED)
    with_callbacks = webhooks.webhook_deliveries_create(run=run, event_type="run.failed")
    return next(d for d in with_callbacks if d.endpoint_id == endpoint.pk)


def test_deliveries_older_than_the_retention_are_purged_in_every_workspace(settings):
    settings.WEBHOOK_DELIVERY_DAYS = 30
    old, recent = _delivery(WebhookEndpointFactory()), _delivery(WebhookEndpointFactory())
    WebhookDelivery.objects.across_all_workspaces_unsafe().filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert webhooks.webhook_deliveries_purge() == 1
    assert list(WebhookDelivery.objects.across_all_workspaces_unsafe().values_list("pk", flat=True)) == [
        recent.pk
    ]


def test_an_endpoint_turned_off_or_deleted_gets_no_more_retries(workspace, hook_server, local_webhooks):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=hook_server.url)
    delivery = _delivery(endpoint)
    endpoint.enabled = False
    endpoint.save()
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.GAVE_UP, 1)
    assert delivery.attempts.get().error == "Not sent: the endpoint was turned off."

    other = _delivery(WebhookEndpointFactory(workspace=workspace, url=hook_server.url))
    webhooks.webhook_delete(workspace=workspace, endpoint=other.endpoint)
    assert webhook_attempt(delivery_id=other.pk) == (Outcome.GAVE_UP, 0)
    assert hook_server.received == []


def test_a_run_that_succeeded_with_warnings_is_run_succeeded(
    workspace, sync, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(workspace=workspace, events=["run.succeeded", "run.failed"])
    start_and_finish(
        sync,
        RunStatus.SUCCEEDED_WITH_WARNINGS,
        django_capture_on_commit_callbacks,
        counts={"source_rows": 3, "created": 2, "invalid": 1},
    )
    (sent,) = deliveries(workspace)
    assert (sent.endpoint_id, sent.event_type, sent.body["data"]["status"]) == (
        endpoint.pk,
        "run.succeeded",
        "succeeded_with_warnings",
    )
