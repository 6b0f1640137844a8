"""The sign-up, log-in and invitation pages say what is true: a required field is not "(optional)", one
"Forgot your password?" link, and an invitation's sign-up starts with the invited address filled in."""

import re
from html import unescape

import pytest
from django.urls import reverse

from apps.tenancy import services
from apps.tenancy.models import Role
from tests.factories import MembershipFactory


def label_text(html: str, field_id: str) -> str:
    match = re.search(rf'<label for="{field_id}">(.*?)</label>', html, re.S)
    assert match, f"no label for {field_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


@pytest.mark.django_db
def test_sign_up_marks_the_workspace_name_required_not_optional(client):
    html = client.get(reverse("account_signup")).content.decode()
    assert label_text(html, "id_workspace_name") == "Workspace name"
    assert label_text(html, "id_workspace_slug") == "Workspace address (optional)"  # this one is optional


@pytest.mark.django_db
def test_the_login_page_offers_forgot_your_password_once(client):
    html = client.get(reverse("account_login")).content.decode()
    assert html.count("Forgot your password?") == 1


@pytest.mark.django_db
def test_the_invitation_sign_up_starts_with_the_invited_address(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    owner = MembershipFactory(role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            workspace=owner.workspace, invited_by=owner.user, email="ada+team@example.com", role=Role.EDITOR
        )
    accept = next(line for line in mailoutbox[-1].body.splitlines() if "/invitations/" in line).strip()
    page = client.get(accept).content.decode()
    signup_url = unescape(re.search(r'href="(/accounts/signup/\?[^"]+)"', page).group(1))
    html = client.get(signup_url).content.decode()
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', html).group(0)
    assert 'value="ada+team@example.com"' in unescape(email_input)
    assert 'name="workspace_name"' not in html  # joining, not creating
