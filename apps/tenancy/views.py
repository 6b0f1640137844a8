from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.tenancy import selectors, services
from apps.tenancy.access import workspace_view
from apps.tenancy.forms import (
    INVALID_INVITATION,
    InvitationForm,
    RoleForm,
    WorkspaceCreateForm,
    WorkspaceSettingsForm,
)
from apps.tenancy.models import Role


@login_required
def home(request):
    """Send the user to the workspace they used last, or to their first one."""
    memberships = selectors.memberships_of_user(user=request.user)
    if not memberships:
        return redirect("workspace_create")
    last = next((m for m in memberships if m.workspace_id == request.user.last_workspace_id), memberships[0])
    return redirect("workspace_home", workspace_slug=last.workspace.slug)


@login_required
def workspace_create(request):
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(
                user=request.user,
                name=form.cleaned_data["workspace_name"],
                slug=form.cleaned_data["workspace_slug"],
            )
        except services.TenancyError as error:
            form.add_error("workspace_slug", str(error))
        else:
            messages.success(request, f"Workspace “{workspace.name}” created.")
            return redirect("workspace_home", workspace_slug=workspace.slug)
    return TemplateResponse(request, "tenancy/workspace_create.html", {"form": form})


@workspace_view(write_role=Role.OWNER)
def workspace_settings(request, workspace):
    initial = {"name": workspace.name, "time_zone": workspace.time_zone}
    form = WorkspaceSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.workspace_update(workspace=workspace, **form.cleaned_data)
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings", workspace_slug=workspace.slug)
    context = {"form": form, "tab": "general"}
    status = 422 if form.is_bound else 200
    return TemplateResponse(request, "tenancy/settings_general.html", context, status=status)


def _members_page(request, workspace, invite_form=None, status=200):
    context = {
        "tab": "members",
        "members": selectors.member_list(workspace=workspace),
        "invitations": selectors.invitation_pending_list(workspace=workspace),
        "invite_form": invite_form or InvitationForm(),
        "roles": Role.choices,
    }
    template = "tenancy/settings_members.html#members" if request.htmx else "tenancy/settings_members.html"
    return TemplateResponse(request, template, context, status=status)


@workspace_view(write_role=Role.OWNER)
def member_list(request, workspace):
    """Members and pending invitations; POST invites someone by email."""
    if request.method != "POST":
        return _members_page(request, workspace)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                workspace=workspace,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
            )
        except services.TenancyError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            if not request.htmx:
                return redirect("member_list", workspace_slug=workspace.slug)
            form = None
    return _members_page(request, workspace, invite_form=form, status=200 if form is None else 422)


@workspace_view(write_role=Role.OWNER, methods=("POST",))
def member_change_role(request, workspace, membership_id):
    membership = selectors.member_get(workspace=workspace, membership_id=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, editor or viewer.")
    else:
        try:
            services.membership_change_role(
                workspace=workspace, membership=membership, role=Role(form.cleaned_data["role"])
            )
            messages.success(
                request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
            )
        except services.TenancyError as error:
            messages.error(request, str(error))
    return _members_page(request, workspace) if request.htmx else redirect("member_list", workspace.slug)


@workspace_view(write_role=Role.OWNER, methods=("POST",))
def member_remove(request, workspace, membership_id):
    membership = selectors.member_get(workspace=workspace, membership_id=membership_id)
    if membership.user_id == request.user.pk:
        raise PermissionDenied("Use “Leave workspace” to remove yourself.")
    try:
        services.membership_remove(workspace=workspace, membership=membership)
        messages.success(request, f"{membership.user.email} was removed from {workspace.name}.")
    except services.TenancyError as error:
        messages.error(request, str(error))
    return _members_page(request, workspace) if request.htmx else redirect("member_list", workspace.slug)


@workspace_view(write_role=Role.OWNER, methods=("POST",))
def invitation_revoke(request, workspace, invitation_id):
    invitation = selectors.invitation_get(workspace=workspace, invitation_id=invitation_id)
    services.invitation_revoke(workspace=workspace, invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} revoked; its link no longer works.")
    return _members_page(request, workspace) if request.htmx else redirect("member_list", workspace.slug)


@workspace_view(write_role=Role.VIEWER, methods=("POST",))
def workspace_leave(request, workspace):
    """Any member may leave, except the last owner."""
    try:
        services.membership_remove(workspace=workspace, membership=request.membership)
    except services.TenancyError as error:
        messages.error(request, str(error))
        return redirect("member_list", workspace_slug=workspace.slug)
    messages.success(request, f"You left {workspace.name}.")
    return redirect("home")


def invitation_accept(request, token):
    """The link from the invitation email. Anonymous visitors are offered sign-up or login first."""
    invitation = selectors.invitation_find_by_token(raw_token=token)
    if invitation is None:
        return TemplateResponse(
            request, "tenancy/invitation_invalid.html", {"message": INVALID_INVITATION}, status=404
        )
    error = None
    if request.user.is_authenticated:
        error = services.invitation_email_mismatch(invitation=invitation, email=request.user.email)
        if request.method == "POST" and not error:
            services.invitation_accept(invitation=invitation, user=request.user)
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return HttpResponseRedirect(reverse("workspace_home", args=[invitation.workspace.slug]))
    context = {"invitation": invitation, "token": token, "error": error}
    return TemplateResponse(request, "tenancy/invitation_accept.html", context, status=409 if error else 200)
