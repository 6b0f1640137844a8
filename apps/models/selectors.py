from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from apps.models.models import SqlModel
from apps.tenancy.models import Workspace


def sql_model_list(*, workspace: Workspace) -> list[SqlModel]:
    """Models with their source and the syncs that read them (two queries, whatever the count)."""
    # The Sync model, through the relation the syncs app declares (it depends on models, not the other way).
    Sync = SqlModel._meta.get_field("syncs").related_model  # noqa: N806
    syncs = Prefetch("syncs", queryset=Sync.objects.for_workspace(workspace).only("id", "name", "model_id"))
    return list(
        SqlModel.objects.for_workspace(workspace)
        .select_related("source", "dbt_model__project__source")
        .prefetch_related(syncs)
        .order_by("name")
    )


def sql_model_get(*, workspace: Workspace, model_id: int) -> SqlModel:
    return get_object_or_404(
        SqlModel.objects.for_workspace(workspace).select_related("source", "dbt_model__project__source"),
        pk=model_id,
    )
