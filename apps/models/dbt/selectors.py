from dataclasses import dataclass

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from apps.connections.models import Connection
from apps.models.dbt.services import dbt_warehouses
from apps.models.models import DbtModel, DbtProject, SqlModel
from apps.tenancy.models import Workspace


@dataclass
class WarehouseProject:
    warehouse: Connection
    project: DbtProject | None
    dbt_models: list[DbtModel]


def dbt_project_list(*, workspace: Workspace) -> list[WarehouseProject]:
    """Each warehouse of the workspace with its dbt project (if a manifest was loaded) and the project's
    models, each with the Syncline models that read it (a fixed number of queries)."""
    warehouses = dbt_warehouses(workspace=workspace)
    projects = {
        p.source_id: p for p in DbtProject.objects.for_workspace(workspace).select_related("loaded_by")
    }
    readers = Prefetch(
        "sql_models", queryset=SqlModel.objects.for_workspace(workspace).only("id", "name", "dbt_model_id")
    )
    models: dict[int, list[DbtModel]] = {}
    for dbt_model in (
        DbtModel.objects.for_workspace(workspace).prefetch_related(readers).order_by("missing_since", "name")
    ):
        models.setdefault(dbt_model.project_id, []).append(dbt_model)
    return [
        WarehouseProject(
            warehouse=warehouse,
            project=projects.get(warehouse.pk),
            dbt_models=models.get(projects[warehouse.pk].pk, []) if warehouse.pk in projects else [],
        )
        for warehouse in warehouses
    ]


def dbt_project_get(*, workspace: Workspace, project_id: int) -> DbtProject:
    return get_object_or_404(
        DbtProject.objects.for_workspace(workspace).select_related("source"), pk=project_id
    )


def dbt_model_get(*, workspace: Workspace, dbt_model_id: int) -> DbtModel:
    queryset = DbtModel.objects.for_workspace(workspace).select_related("project", "project__source")
    return get_object_or_404(queryset, pk=dbt_model_id)


def dbt_models_to_pick(*, workspace: Workspace, limit: int = 50) -> list[DbtModel]:
    """The dbt models a new Syncline model can read (those still in their manifest), for the "New model"
    page."""
    queryset = (
        DbtModel.objects.for_workspace(workspace)
        .filter(missing_since__isnull=True)
        .select_related("project__source")
        .order_by("name", "pk")
    )
    return list(queryset[:limit])
