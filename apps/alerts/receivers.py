"""What alerts and webhooks do when a run starts or ends (connected in AlertsConfig.ready, one receiver
each, so a failure of one never keeps the other from running)."""

from apps.alerts import services, webhooks
from apps.alerts.models import WebhookEvent
from apps.syncs.models import RunStatus


def webhooks_on_run_started(sender, run, **kwargs) -> None:
    webhooks.webhook_deliveries_create(run=run, event_type=WebhookEvent.RUN_STARTED)


def webhooks_on_run_finished(sender, run, **kwargs) -> None:
    event_type = webhooks.finished_event_type(RunStatus(run.status))
    if event_type:
        webhooks.webhook_deliveries_create(run=run, event_type=event_type)


def alerts_on_run_finished(sender, run, **kwargs) -> None:
    services.alerts_run_finished(run=run)
