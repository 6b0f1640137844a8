import pytest
from django.urls import reverse

from apps.tenancy import services
from apps.tenancy.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, UserFactory


def invite(client, workspace, email, role="editor", **headers):
    return client.post(
        reverse("member_list", args=[workspace.slug]), {"email": email, "role": role}, **headers
    )


def token_from(mail) -> str:
    line = next(line for line in mail.body.splitlines() if "/invitations/" in line)
    return line.rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.django_db(transaction=True)
def test_owner_invites_by_email_and_the_invitee_accepts(owner_client, workspace, mailoutbox, client):
    response = invite(owner_client, workspace, "Grace@Example.com", role="viewer")
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["grace@example.com"]
    assert workspace.name in mailoutbox[-1].subject
    invitation = Invitation.objects.for_workspace(workspace).get()
    assert invitation.token_hash != token_from(mailoutbox[-1])  # only the hash is stored

    grace = UserFactory(email="grace@example.com")
    owner_client.logout()
    owner_client.force_login(grace)
    url = reverse("invitation_accept", args=[token_from(mailoutbox[-1])])
    assert "Join" in owner_client.get(url).content.decode()
    response = owner_client.post(url)
    assert response.url == reverse("workspace_home", args=[workspace.slug])
    assert Membership.objects.for_workspace(workspace).get(user=grace).role == Role.VIEWER
    # The link works once.
    assert owner_client.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_htmx_invite_returns_the_members_partial(owner_client, workspace, mailoutbox):
    response = invite(owner_client, workspace, "grace@example.com", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="members">')
    assert "grace@example.com" in html
    assert "<aside" not in html  # a partial, not the page


@pytest.mark.django_db
def test_invalid_invite_shows_the_error_next_to_the_field(owner_client, workspace, owner):
    response = invite(owner_client, workspace, "not-an-email", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Enter a valid email address" in response.content.decode()
    response = invite(owner_client, workspace, owner.email)
    assert f"{owner.email} is already a member" in response.content.decode()
    assert not Invitation.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_wrong_invitation_link_says_so(client):
    response = client.get(reverse("invitation_accept", args=["made-up"]))
    assert response.status_code == 404
    assert "invitation link is not valid" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_accepting_with_another_account_is_refused(workspace, owner, client, mailoutbox):
    services.invitation_create(
        workspace=workspace, invited_by=owner, email="grace@example.com", role=Role.EDITOR
    )
    mallory = UserFactory(email="mallory@example.com")
    client.force_login(mallory)
    url = reverse("invitation_accept", args=[token_from(mailoutbox[-1])])
    response = client.post(url)
    assert response.status_code == 409
    assert "sent to grace@example.com" in response.content.decode()
    assert not Membership.objects.for_workspace(workspace).filter(user=mallory).exists()


@pytest.mark.django_db(transaction=True)
def test_revoked_invitation_link_stops_working(owner_client, workspace, owner, mailoutbox):
    invitation = services.invitation_create(
        workspace=workspace, invited_by=owner, email="grace@example.com", role=Role.EDITOR
    )
    token = token_from(mailoutbox[-1])
    owner_client.post(reverse("invitation_revoke", args=[workspace.slug, invitation.pk]))
    assert owner_client.get(reverse("invitation_accept", args=[token])).status_code == 404


@pytest.mark.django_db
def test_owner_changes_a_role_and_removes_a_member(owner_client, workspace):
    member = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    owner_client.post(reverse("member_change_role", args=[workspace.slug, member.pk]), {"role": "editor"})
    member.refresh_from_db()
    assert member.role == Role.EDITOR
    owner_client.post(reverse("member_remove", args=[workspace.slug, member.pk]))
    assert not Membership.objects.for_workspace(workspace).filter(pk=member.pk).exists()


@pytest.mark.django_db
def test_the_last_owner_can_neither_leave_nor_be_demoted(owner_client, workspace, owner_membership):
    response = owner_client.post(reverse("workspace_leave", args=[workspace.slug]), follow=True)
    assert "at least one owner" in response.content.decode()
    owner_client.post(
        reverse("member_change_role", args=[workspace.slug, owner_membership.pk]), {"role": "viewer"}
    )
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER


@pytest.mark.django_db
def test_a_member_leaves(client, workspace):
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    response = client.post(reverse("workspace_leave", args=[workspace.slug]))
    assert response.url == reverse("home")
    assert client.get(reverse("workspace_home", args=[workspace.slug])).status_code == 404


@pytest.mark.django_db
def test_editors_cannot_manage_members(client, workspace):
    editor = MembershipFactory(workspace=workspace, role=Role.EDITOR)
    client.force_login(editor.user)
    assert invite(client, workspace, "x@example.com").status_code == 403
    page = client.get(reverse("member_list", args=[workspace.slug])).content.decode()
    assert "Invite someone" not in page
