from django.apps import AppConfig


class AsCodeConfig(AppConfig):
    name = "apps.ascode"
    label = "ascode"
    verbose_name = "Syncs as code"
