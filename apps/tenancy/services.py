from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from apps.tenancy import selectors
from apps.tenancy.models import (
    INVITATION_LIFETIME,
    RESERVED_SLUGS,
    Invitation,
    Membership,
    Role,
    User,
    Workspace,
    slug_validator,
)


class TenancyError(Exception):
    """A refused change, with a message meant for the user."""


def workspace_slug_error(slug: str) -> str | None:
    """Why this slug cannot be used, or None."""
    try:
        slug_validator(slug)
    except ValidationError as error:
        return error.messages[0]
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is reserved; choose another address."
    if selectors.workspace_slug_taken(slug=slug):
        return f"The address /w/{slug}/ is taken; choose another."
    return None


def workspace_slug_suggest(name: str) -> str:
    """A free slug derived from a workspace name (acme, acme-2, …)."""
    base = (slugify(name)[:44].strip("-") or "workspace").lower()
    candidate, n = base, 1
    while workspace_slug_error(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def workspace_create(*, user: User, name: str, slug: str = "") -> Workspace:
    slug = slug or workspace_slug_suggest(name)
    error = workspace_slug_error(slug)
    if error:
        raise TenancyError(error)
    workspace = Workspace.objects.create(name=name.strip(), slug=slug)
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    user.last_workspace = workspace
    user.save(update_fields=["last_workspace"])
    return workspace


def workspace_update(*, workspace: Workspace, name: str, time_zone: str) -> Workspace:
    workspace.name = name.strip()
    workspace.time_zone = time_zone
    workspace.save(update_fields=["name", "time_zone", "updated_at"])
    return workspace


def workspace_remember(*, user: User, workspace: Workspace) -> None:
    if user.last_workspace_id != workspace.pk:
        User.objects.filter(pk=user.pk).update(last_workspace=workspace)


@transaction.atomic
def invitation_create(*, workspace: Workspace, invited_by: User, email: str, role: Role) -> Invitation:
    email = email.strip().lower()
    if Membership.objects.for_workspace(workspace).filter(user__email__iexact=email).exists():
        raise TenancyError(f"{email} is already a member of {workspace.name}.")
    # A new invitation to the same address replaces the pending one, so only one link works.
    Invitation.objects.for_workspace(workspace).filter(email__iexact=email, accepted_at=None).delete()
    raw_token, token_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=token_hash,
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    link = _absolute_url(reverse("invitation_accept", kwargs={"token": raw_token}))
    body = render_to_string(
        "tenancy/emails/invitation.txt", {"invitation": invitation, "link": link, "inviter": invited_by}
    )
    subject = f"{invited_by} invited you to {workspace.name} on Syncline"
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation


def _absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def invitation_revoke(*, workspace: Workspace, invitation: Invitation) -> None:
    Invitation.objects.for_workspace(workspace).filter(pk=invitation.pk).delete()


def invitation_email_mismatch(*, invitation: Invitation, email: str) -> str | None:
    if invitation.email.lower() != email.strip().lower():
        return f"This invitation was sent to {invitation.email}; use that address to accept it."
    return None


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    mismatch = invitation_email_mismatch(invitation=invitation, email=user.email)
    if mismatch:
        raise TenancyError(mismatch)
    workspace = invitation.workspace
    membership, created = Membership.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, user=user, defaults={"role": invitation.role}
    )
    Invitation.objects.for_workspace(workspace).filter(pk=invitation.pk).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    workspace_remember(user=user, workspace=workspace)
    return membership


def _ensure_an_owner_remains(*, membership: Membership, new_role: Role | None) -> None:
    losing_owner = membership.role == Role.OWNER and new_role != Role.OWNER
    if losing_owner and selectors.owner_count(workspace=membership.workspace) <= 1:
        raise TenancyError("A workspace needs at least one owner. Make someone else an owner first.")


@transaction.atomic
def membership_change_role(*, workspace: Workspace, membership: Membership, role: Role) -> Membership:
    _ensure_an_owner_remains(membership=membership, new_role=role)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, workspace: Workspace, membership: Membership) -> None:
    _ensure_an_owner_remains(membership=membership, new_role=None)
    Membership.objects.for_workspace(workspace).filter(pk=membership.pk).delete()
    User.objects.filter(pk=membership.user_id, last_workspace=workspace).update(last_workspace=None)
