from django.shortcuts import get_object_or_404

from apps.api.models import ApiKey, hash_secret
from apps.tenancy.models import Workspace


def api_key_list(*, workspace: Workspace) -> list[ApiKey]:
    """Active keys first (newest first), then the revoked ones."""
    keys = ApiKey.objects.for_workspace(workspace).select_related("created_by", "revoked_by")
    return sorted(keys, key=lambda k: k.revoked_at is not None)


def api_key_get(*, workspace: Workspace, api_key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey.objects.for_workspace(workspace), pk=api_key_id)


def api_key_find_by_secret(*, secret: str) -> ApiKey | None:
    """The key behind a bearer secret, revoked or not, or None. The secret itself proves which workspace
    the caller acts for, so this is the one lookup that does not start from a workspace."""
    return (
        ApiKey.objects.across_all_workspaces_unsafe()
        .select_related("workspace")
        .filter(secret_hash=hash_secret(secret))
        .first()
    )
