from django.apps import AppConfig


class SqlModelsConfig(AppConfig):
    # The app is "models" on disk; its label avoids clashing with Django's own use of the word.
    name = "apps.models"
    label = "sql_models"
    verbose_name = "Models"
