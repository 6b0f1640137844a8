from django.http import Http404
from django.shortcuts import get_object_or_404

from apps.tenancy.models import Invitation, Membership, User, Workspace


def membership_for_slug(*, user: User, workspace_slug: str) -> Membership:
    """The user's membership of the workspace at this slug; 404 both when it is missing and not theirs."""
    membership = user.memberships.select_related("workspace").filter(workspace__slug=workspace_slug).first()
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def memberships_of_user(*, user: User) -> list[Membership]:
    return list(user.memberships.select_related("workspace").order_by("workspace__name"))


def workspace_slug_taken(*, slug: str) -> bool:
    return Workspace.objects.filter(slug=slug).exists()


def member_list(*, workspace: Workspace) -> list[Membership]:
    return list(Membership.objects.for_workspace(workspace).select_related("user").order_by("user__email"))


def member_get(*, workspace: Workspace, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.for_workspace(workspace).select_related("user"), pk=membership_id
    )


def owner_count(*, workspace: Workspace) -> int:
    return Membership.objects.for_workspace(workspace).filter(role="owner").count()


def invitation_pending_list(*, workspace: Workspace) -> list[Invitation]:
    return [i for i in Invitation.objects.for_workspace(workspace).filter(accepted_at=None) if i.is_pending]


def invitation_get(*, workspace: Workspace, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation.objects.for_workspace(workspace), pk=invitation_id)


def invitation_find_by_token(*, raw_token: str) -> Invitation | None:
    """The pending invitation behind a link, or None. The token itself is the proof of access, so this is
    the one lookup that does not start from a workspace."""
    invitation = (
        Invitation.objects.across_all_workspaces_unsafe()
        .select_related("workspace")
        .filter(token_hash=Invitation.hash_token(raw_token or ""))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation
