from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "apps.syncs"
    label = "syncs"

    def ready(self):
        from apps.syncs import scheduling  # noqa: F401  (connects the sequence receiver to run_finished)
