from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "apps.syncs"
    label = "syncs"

    def ready(self):
        from apps.syncs import scheduling  # noqa: F401  (connects the sequence receiver to run_finished)
        from apps.syncs.metrics import count_finished_run
        from apps.syncs.signals import run_finished

        run_finished.connect(count_finished_run, dispatch_uid="metrics.run_finished")
