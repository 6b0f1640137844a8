from apps.tenancy.models import Role
from apps.tenancy.selectors import memberships_of_user


def workspace(request):
    """The current workspace and membership (set by `workspace_view`) and the switcher's list."""
    membership = getattr(request, "membership", None)
    if not request.user.is_authenticated:
        return {}
    return {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        "can_edit": bool(membership and membership.can(Role.EDITOR)),
        "is_owner": bool(membership and membership.can(Role.OWNER)),
        "switcher_memberships": lambda: memberships_of_user(user=request.user),
    }
