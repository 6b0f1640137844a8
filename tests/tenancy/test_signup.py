import pytest
from django.urls import reverse

from apps.tenancy import services
from apps.tenancy.models import Membership, Role, User, Workspace
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def signup(client, **overrides):
    data = {
        "email": "ada@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "workspace_name": "Analytical Engines",
        "workspace_slug": "",
    } | overrides
    return client.post(reverse("account_signup"), data)


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


@pytest.mark.django_db
def test_signup_creates_the_user_and_their_first_workspace_as_owner(client):
    response = signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="ada@example.com")
    membership = user.memberships.get()
    assert membership.role == Role.OWNER
    assert membership.workspace.slug == "analytical-engines"
    assert client.get(response.url, follow=True).status_code == 200


@pytest.mark.django_db
def test_signup_with_a_chosen_slug(client):
    signup(client, workspace_slug="engines")
    assert Workspace.objects.filter(slug="engines").exists()


@pytest.mark.django_db
def test_taken_email_gets_a_specific_message_and_creates_nothing(client):
    UserFactory(email="ada@example.com")
    response = signup(client, email="Ada@Example.com")
    assert response.status_code == 200
    assert "already registered" in " ".join(field_errors(response, "email"))
    assert not Workspace.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "expected"),
    [("short", "too short"), ("password123", "too common"), ("83749201937465", "entirely numeric")],
)
def test_weak_password_gets_a_specific_message_and_creates_nothing(client, password, expected):
    response = signup(client, password1=password, password2=password)
    assert response.status_code == 200
    assert expected in " ".join(field_errors(response, "password1"))
    assert not User.objects.exists()
    assert not Workspace.objects.exists()


@pytest.mark.django_db
def test_taken_slug_gets_a_specific_message_and_creates_nothing(client):
    MembershipFactory(workspace__slug="engines")
    response = signup(client, workspace_slug="engines")
    assert response.status_code == 200
    assert field_errors(response, "workspace_slug") == ["The address /w/engines/ is taken; choose another."]
    assert not User.objects.filter(email="ada@example.com").exists()
    assert Workspace.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["Not A Slug", "-edge-", "admin"])
def test_invalid_or_reserved_slug_is_refused(client, slug):
    response = signup(client, workspace_slug=slug)
    assert response.status_code == 200
    assert field_errors(response, "workspace_slug")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_workspace_name_is_required_without_an_invitation(client):
    response = signup(client, workspace_name="")
    assert "Name your workspace" in " ".join(field_errors(response, "workspace_name"))
    assert not User.objects.exists()


@pytest.mark.django_db
def test_wrong_invitation_link_gets_a_specific_message_and_creates_nothing(client):
    response = signup(client, invitation="not-a-real-token", workspace_name="")
    assert response.status_code == 200
    assert "invitation link is not valid" in " ".join(response.context["form"].non_field_errors())
    assert b"invitation link is not valid" in response.content
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_through_an_invitation_joins_that_workspace_only(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = MembershipFactory(role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            workspace=owner.workspace, invited_by=owner.user, email="ada@example.com", role=Role.VIEWER
        )
    token = _token_from_mail(mailoutbox[-1].body)
    response = signup(client, invitation=token, workspace_name="")
    assert response.status_code == 302
    user = User.objects.get(email="ada@example.com")
    assert [(m.workspace, m.role) for m in user.memberships.all()] == [(owner.workspace, Role.VIEWER)]
    invitation.refresh_from_db()
    assert invitation.accepted_by == user


@pytest.mark.django_db
def test_signup_through_an_invitation_must_use_the_invited_address(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = MembershipFactory(role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            workspace=owner.workspace, invited_by=owner.user, email="ada@example.com", role=Role.EDITOR
        )
    token = _token_from_mail(mailoutbox[-1].body)
    response = signup(client, email="mallory@example.com", invitation=token, workspace_name="")
    assert "sent to ada@example.com" in " ".join(field_errors(response, "email"))
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert Membership.objects.for_workspace(owner.workspace).count() == 1


@pytest.mark.django_db
def test_login_with_email_and_logout(client):
    UserFactory(email="ada@example.com")
    response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # to workspace_create: no workspace yet
    client.post(reverse("account_logout"))
    assert client.get(reverse("home")).url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_password_reset_sends_a_link(client, mailoutbox):
    UserFactory(email="ada@example.com")
    response = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})
    assert response.status_code == 302
    assert "password" in mailoutbox[-1].subject.lower()
    assert "/accounts/password/reset/key/" in mailoutbox[-1].body


@pytest.mark.django_db
def test_failed_logins_are_rate_limited(client):
    UserFactory(email="ada@example.com")
    for _ in range(6):
        response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": "wrong"})
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


def _token_from_mail(body: str) -> str:
    line = next(line for line in body.splitlines() if "/invitations/" in line)
    return line.rstrip("/").rsplit("/", 1)[-1]
