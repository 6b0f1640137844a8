from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"

    def ready(self):
        from apps.alerts import receivers
        from apps.syncs.signals import run_finished, run_started

        run_started.connect(receivers.webhooks_on_run_started, dispatch_uid="webhooks.run_started")
        run_finished.connect(receivers.webhooks_on_run_finished, dispatch_uid="webhooks.run_finished")
        run_finished.connect(receivers.alerts_on_run_finished, dispatch_uid="alerts.run_finished")
