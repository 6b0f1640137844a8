from django.shortcuts import get_object_or_404

from apps.connections.models import Connection, ConnectionKind
from apps.tenancy.models import Workspace


def connection_list(*, workspace: Workspace, kind: ConnectionKind | None = None) -> list[Connection]:
    queryset = Connection.objects.for_workspace(workspace)
    if kind:
        queryset = queryset.filter(kind=kind)
    return list(queryset.order_by("kind", "name"))


def connection_get(
    *, workspace: Workspace, connection_id: int, kind: ConnectionKind | None = None
) -> Connection:
    queryset = Connection.objects.for_workspace(workspace)
    if kind:
        queryset = queryset.filter(kind=kind)
    return get_object_or_404(queryset, pk=connection_id)


def connection_name_taken(*, workspace: Workspace, name: str, exclude_id: int | None = None) -> bool:
    queryset = Connection.objects.for_workspace(workspace).filter(name__iexact=name.strip())
    if exclude_id:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.exists()
