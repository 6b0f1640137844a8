from celery import shared_task
from django.conf import settings

# A Redis-delayed task waiting past the broker's visibility timeout would be delivered twice.
MAX_RETRY_DELAY_SECONDS = 30 * 60


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_alert_email_task(run_id: int, kind: str) -> int:
    """OSError covers SMTP errors and an unreachable mail server."""
    from apps.alerts.emails import alert_email_send

    return alert_email_send(run_id=run_id, kind=kind)


def webhook_retry_delay(attempt_number: int) -> float:
    """Seconds to wait after attempt n failed: base × 4^(n-1), capped."""
    return min(settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempt_number - 1), MAX_RETRY_DELAY_SECONDS)


@shared_task(bind=True, acks_late=True, max_retries=None)  # the delivery counts its attempts itself
def deliver_webhook_task(self, delivery_id: int) -> str:
    from apps.alerts.webhooks import Outcome, webhook_attempt

    outcome, number = webhook_attempt(delivery_id=delivery_id)
    if outcome is Outcome.RETRY:
        raise self.retry(countdown=webhook_retry_delay(number))
    return outcome.value


@shared_task
def alert_long_runs_task() -> int:
    from apps.alerts.services import alerts_check_long_runs

    return alerts_check_long_runs()


@shared_task
def purge_webhook_deliveries_task() -> int:
    from apps.alerts.webhooks import webhook_deliveries_purge

    return webhook_deliveries_purge()
