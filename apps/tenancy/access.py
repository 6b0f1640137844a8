"""One decorator resolves the workspace from the URL and checks the member's role.

Reading (GET, HEAD, OPTIONS) needs `read_role`; anything else needs `write_role`. A workspace that is
missing and one the user does not belong to are the same 404 (checked before anything else, so no answer
tells an outsider that a workspace exists); a member without the role gets 403.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.utils import timezone

from apps.common import logs
from apps.common.time_zones import zone_or_utc
from apps.tenancy.models import Role
from apps.tenancy.selectors import membership_for_slug
from apps.tenancy.services import workspace_remember

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

ROLE_REFUSALS = {
    Role.EDITOR: "Viewers can look but not change anything. Ask an owner of this workspace for editor access.",
    Role.OWNER: "Only owners of this workspace can do this.",
}


def workspace_view(
    *, read_role: Role = Role.VIEWER, write_role: Role = Role.EDITOR, methods: tuple[str, ...] | None = None
):
    """`methods` limits the HTTP methods; it is checked after membership, so outsiders still see 404."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, workspace_slug: str, *args, **kwargs):
            membership = membership_for_slug(user=request.user, workspace_slug=workspace_slug)
            if methods and request.method not in methods:
                return HttpResponseNotAllowed(methods)
            needed = read_role if request.method in SAFE_METHODS else write_role
            if not membership.can(needed):
                raise PermissionDenied(ROLE_REFUSALS.get(needed, "You do not have access to this."))
            request.workspace = membership.workspace
            request.membership = membership
            logs.bind(workspace=membership.workspace_id)
            workspace_remember(user=request.user, workspace=membership.workspace)
            # Times and days render in the workspace's zone; WorkspaceTimeZoneMiddleware resets it after
            # the response (a TemplateResponse renders after the view has returned).
            timezone.activate(zone_or_utc(membership.workspace.time_zone))
            return view(request, membership.workspace, *args, **kwargs)

        # Read by the access tests, which walk every workspace URL.
        wrapped.workspace_read_role = read_role
        wrapped.workspace_write_role = write_role
        wrapped.workspace_methods = methods
        return wrapped

    return decorator


class WorkspaceTimeZoneMiddleware:
    """Every request starts and ends in the default zone (UTC), so one request's workspace zone never
    leaks into the next request served by the same thread; `workspace_view` activates the zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
