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
    # The dbt model this model reads (its SQL is then SELECT * FROM its relation, kept by each manifest).
    dbt_model = models.ForeignKey(
        "sql_models.DbtModel", null=True, blank=True, on_delete=models.PROTECT, related_name="sql_models"
    )
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

    @property
    def dbt_missing_message(self) -> str:
        """Why this model cannot run, when the dbt model it reads left the project's manifest; else ""."""
        dbt_model = self.dbt_model
        if dbt_model is None or dbt_model.missing_since is None:
            return ""
        since = dbt_model.missing_since.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"The dbt model “{dbt_model.name}” is no longer in the dbt project's manifest (since the manifest "
            f"loaded on {since}): its relation may be gone. Syncs of “{self.name}” do not run until a "
            "manifest that has it is loaded, or they read another model."
        )


class DbtProject(WorkspaceOwnedModel, TimeStampedModel):
    """The dbt project whose models a warehouse connection holds, as its last manifest.json described it
    (apps.models.dbt). One per source connection."""

    source = models.OneToOneField(
        "connections.Connection", on_delete=models.CASCADE, related_name="dbt_project"
    )
    project_name = models.CharField(max_length=200, blank=True)
    dbt_version = models.CharField(max_length=50, blank=True)
    schema_version = models.PositiveSmallIntegerField()
    generated_at = models.DateTimeField(null=True, blank=True)  # when dbt wrote the manifest
    loaded_at = models.DateTimeField()  # when Syncline read it
    # Team hosting only: the manifest's path on this server, read again by "Reload" (empty: uploaded).
    manifest_path = models.CharField(max_length=1000, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.project_name or f"dbt project of {self.source}"


class DbtModel(WorkspaceOwnedModel, TimeStampedModel):
    """One dbt model of a project's manifest: the relation it builds, its description and documented
    columns. Kept when a later manifest no longer has it (`missing_since`), so the Syncline models that
    read it can say so instead of disappearing."""

    project = models.ForeignKey(DbtProject, on_delete=models.CASCADE, related_name="dbt_models")
    unique_id = models.CharField(max_length=400)  # dbt's node id, e.g. model.jaffle_shop.customers
    name = models.CharField(max_length=255)
    package_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    database = models.CharField(max_length=255, blank=True)
    schema = models.CharField(max_length=255, blank=True)
    alias = models.CharField(max_length=255, blank=True)
    relation_name = models.TextField(blank=True)
    materialized = models.CharField(max_length=50, blank=True)
    # The documented columns: [{"name", "description", "data_type"}, …] in the manifest's order.
    columns = models.JSONField(default=list, blank=True)
    missing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "unique_id"], name="dbt_model_unique_id_unique")
        ]

    def __str__(self) -> str:
        return self.name
