"""Webhook endpoints (create, change, rotate the secret, delete) and their deliveries: one per endpoint
and event, each attempt a signed POST recorded with its answer. Retrying is the task's business."""

from __future__ import annotations

import enum
import json
import re
import secrets
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.alerts import signing
from apps.alerts.links import run_url
from apps.alerts.models import (
    TEST_EVENT,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from apps.common.hosting import shared_hosting
from apps.common.outbound import CheckedUrl, OutboundUrlError, outbound_request, outbound_url_check
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus, SyncRun
from apps.tenancy.models import User, Workspace

RESPONSE_EXCERPT_CHARS = 300


def webhook_url_check(url: str) -> CheckedUrl:
    """Raises OutboundUrlError with a message for the URL field. Private networks are allowed in team
    hosting, never in shared hosting; this machine (loopback) only with UNSAFE_ALLOW_LOOPBACK_WEBHOOKS."""
    return outbound_url_check(
        url,
        require_https=settings.WEBHOOKS_REQUIRE_HTTPS,
        allow_private=not shared_hosting(),
        allow_loopback=settings.UNSAFE_ALLOW_LOOPBACK_WEBHOOKS,
    )


def _secret_hint(secret: str) -> str:
    return secret[-4:]


@transaction.atomic
def webhook_create(
    *, workspace: Workspace, user: User | None, url: str, description: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """Returns the endpoint and its signing secret, which is shown to the user this once."""
    webhook_url_check(url)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=url.strip(),
        description=description,
        events=list(events),
        signing={"secret": secret},
        secret_hint=_secret_hint(secret),
        created_by=user,
    )
    return endpoint, secret


def webhook_update(
    *,
    workspace: Workspace,
    endpoint: WebhookEndpoint,
    url: str,
    description: str,
    events: list[str],
    enabled: bool,
) -> WebhookEndpoint:
    webhook_url_check(url)
    endpoint.url, endpoint.description, endpoint.events, endpoint.enabled = (
        url.strip(),
        description,
        list(events),
        enabled,
    )
    endpoint.save(update_fields=["url", "description", "events", "enabled", "updated_at"])
    return endpoint


def webhook_rotate_secret(*, workspace: Workspace, endpoint: WebhookEndpoint) -> str:
    """A new secret signs every attempt from now on (retries of earlier events included)."""
    secret = signing.new_secret()
    endpoint.signing, endpoint.secret_hint = {"secret": secret}, _secret_hint(secret)
    endpoint.save(update_fields=["signing", "secret_hint", "updated_at"])
    return secret


def webhook_delete(*, workspace: Workspace, endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=endpoint.pk).delete()


def finished_event_type(status: RunStatus) -> str | None:
    """A partially failed run is run.failed (a pipeline waiting on a clean sync must not go on); its
    `data.status` says "partially_failed". A run that succeeded with warnings is run.succeeded (its records
    are in Intercom), with `data.status` "succeeded_with_warnings". A cancelled run sends no end event."""
    return {
        RunStatus.SUCCEEDED: WebhookEvent.RUN_SUCCEEDED,
        RunStatus.SUCCEEDED_WITH_WARNINGS: WebhookEvent.RUN_SUCCEEDED,
        RunStatus.PARTIALLY_FAILED: WebhookEvent.RUN_FAILED,
        RunStatus.FAILED: WebhookEvent.RUN_FAILED,
    }.get(status)


def _new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _envelope(message_id: str, event_type: str, data: dict) -> dict:
    return {"id": message_id, "type": event_type, "created_at": timezone.now().isoformat(), "data": data}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def run_event_data(run: SyncRun) -> dict:
    slug = run.workspace.slug
    return {
        "workspace": slug,
        "run_id": run.pk,
        "sync_id": run.sync_id,
        "sync_name": run.sync.name,
        "status": run.status,
        "trigger": run.trigger,
        "full_resync": run.full_resync,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "counts": RunCounts.from_json(run.counts).to_json(),
        "first_error": run.first_error or None,
        "url": run_url(run),
    }


def webhooks_run_started(*, run: SyncRun) -> None:
    """Listener of a run's first start (`apps.syncs.lifecycle`)."""
    webhook_deliveries_create(run=run, event_type=WebhookEvent.RUN_STARTED)


def webhooks_run_finished(*, run: SyncRun) -> None:
    """Listener of a run's end (`apps.syncs.lifecycle`): the event its status sends, if any."""
    event_type = finished_event_type(RunStatus(run.status))
    if event_type:
        webhook_deliveries_create(run=run, event_type=event_type)


@transaction.atomic
def webhook_deliveries_create(*, run: SyncRun, event_type: str) -> list[WebhookDelivery]:
    """One delivery per enabled endpoint of the run's workspace that chose this event; each is sent by
    its own task once this transaction commits."""
    from apps.alerts.tasks import deliver_webhook_task

    endpoints = WebhookEndpoint.objects.for_workspace(run.workspace_id).filter(enabled=True)
    deliveries = []
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        message_id = _new_message_id()
        delivery = WebhookDelivery.objects.create(
            workspace_id=run.workspace_id,
            endpoint=endpoint,
            message_id=message_id,
            event_type=event_type,
            body=_envelope(message_id, event_type, run_event_data(run)),
        )
        deliver_webhook_task.delay_on_commit(delivery.pk)
        deliveries.append(delivery)
    return deliveries


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"  # a network error, 5xx or 429 with attempts left
    GAVE_UP = "gave_up"


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str, bool]:
    """One signed POST: (status code, error, worth retrying)."""
    try:
        # Again: the name may resolve elsewhere than when it was saved. The POST goes to the address
        # checked here, not to whatever the name resolves to a moment later.
        checked = webhook_url_check(endpoint.url)
    except OutboundUrlError as error:
        return None, f"Not sent: {error}", False
    body = json.dumps(delivery.body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Syncline-Webhooks/1"}
    headers |= signing.headers(
        secret=endpoint.signing["secret"],
        message_id=delivery.message_id,
        timestamp=int(time.time()),
        body=body,
    )
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        response = outbound_request(checked, "POST", data=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        return None, f"No answer within {timeout:g} s.", True
    except requests.ConnectionError as error:
        return None, f"Could not connect: {_reason(error)}", True
    except requests.RequestException as error:
        return None, f"The request failed: {_reason(error)}", True
    code = response.status_code
    if 200 <= code < 300:
        return code, "", False
    excerpt = response.text[:RESPONSE_EXCERPT_CHARS].strip()
    answer = f"HTTP {code}" + (f": {excerpt}" if excerpt else "")
    if code == 429 or code >= 500:
        return code, answer, True
    if 300 <= code < 400:
        return code, f"{answer} (redirects are not followed: enter the URL the endpoint redirects to).", False
    return code, f"{answer} (not retried: the endpoint refused the event).", False


def _reason(error: Exception) -> str:
    # requests nests the socket error several levels down; its last line is the readable part.
    text = str(error.args[0] if error.args else error).rsplit(": ", 1)[-1]
    text = re.sub(r"\[Errno -?\d+\] ", "", text).rstrip(")'\"")
    if text.count("(") > text.count(")"):
        text += ")"
    return text or type(error).__name__


def webhook_attempt(*, delivery_id: int, retries_allowed: bool = True) -> tuple[Outcome, int]:
    """Make the next attempt of a delivery and record it; returns the outcome and the attempt's number.
    System work: the task that calls it knows only the id."""
    deliveries = WebhookDelivery.objects.across_all_workspaces_unsafe().select_related("endpoint")
    delivery = deliveries.filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return Outcome.GAVE_UP, 0
    if delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        return (Outcome.DELIVERED if delivery.status == DeliveryStatus.SUCCEEDED else Outcome.GAVE_UP), 0
    number = delivery.attempts.count() + 1
    started = time.monotonic()
    if delivery.endpoint.enabled or delivery.event_type == TEST_EVENT:
        code, error, retryable = _post(delivery.endpoint, delivery)
    else:
        code, error, retryable = None, "Not sent: the endpoint was turned off.", False
    WebhookAttempt.objects.create(
        workspace_id=delivery.workspace_id,
        delivery=delivery,
        number=number,
        status_code=code,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error,
    )
    if not error:
        outcome = Outcome.DELIVERED
    elif retryable and retries_allowed and number < settings.WEBHOOK_MAX_ATTEMPTS:
        outcome = Outcome.RETRY
    else:
        outcome = Outcome.GAVE_UP
    delivery.status = {
        Outcome.DELIVERED: DeliveryStatus.SUCCEEDED,
        Outcome.RETRY: DeliveryStatus.RETRYING,
        Outcome.GAVE_UP: DeliveryStatus.FAILED,
    }[outcome]
    delivery.save(update_fields=["status"])
    return outcome, number


def webhook_send_test(*, workspace: Workspace, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The "Send test event" button: one attempt now, while the user waits; no retries."""
    message_id = _new_message_id()
    data = {
        "workspace": workspace.slug,
        "message": "A test event from Syncline. Check its signature the way you will check run events.",
    }
    delivery = WebhookDelivery.objects.create(
        workspace=workspace,
        endpoint=endpoint,
        message_id=message_id,
        event_type=TEST_EVENT,
        body=_envelope(message_id, TEST_EVENT, data),
    )
    webhook_attempt(delivery_id=delivery.pk, retries_allowed=False)
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_purge(*, now=None) -> int:
    """Delete deliveries (and their attempts) older than WEBHOOK_DELIVERY_DAYS, in every workspace
    (system work); returns how many deliveries went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_DELIVERY_DAYS)
    old = WebhookDelivery.objects.across_all_workspaces_unsafe().filter(created_at__lt=cutoff)
    return old.delete()[1].get(WebhookDelivery._meta.label, 0)
