from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel
from apps.tenancy.scoping import WorkspaceOwnedModel


class SqlModel(WorkspaceOwnedModel, TimeStampedModel):
    """A saved SQL query on a source, with a unique primary-key column: the rows to sync."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    source = models.ForeignKey("connections.Connection", on_delete=models.PROTECT, related_name="sql_models")
    sql = models.TextField()
    primary_key = models.CharField(max_length=200)
    # The result's columns when the SQL was last saved: [{"name", "db_type", "kind"}, …].
    columns = models.JSONField(default=list)
    # Other columns the author declares unique (e.g. email), so a sync may use them as its key.
    unique_columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="sql_model_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def unique_keys(self) -> list[str]:
        return [self.primary_key, *self.unique_columns]
