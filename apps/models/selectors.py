from django.shortcuts import get_object_or_404

from apps.models.models import SqlModel
from apps.tenancy.models import Workspace


def sql_model_list(*, workspace: Workspace) -> list[SqlModel]:
    return list(SqlModel.objects.for_workspace(workspace).select_related("source").order_by("name"))


def sql_model_get(*, workspace: Workspace, model_id: int) -> SqlModel:
    return get_object_or_404(SqlModel.objects.for_workspace(workspace).select_related("source"), pk=model_id)
