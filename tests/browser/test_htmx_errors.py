"""A form sent by htmx that the server refuses (422) shows its errors in place, as without JavaScript."""

import pytest
from playwright.sync_api import expect

from apps.tenancy.models import Invitation, Role
from tests.browser.conftest import log_in
from tests.conftest import member_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_refused_htmx_form_shows_its_errors_next_to_the_field(page, shot, live_server, workspace):
    owner = member_of(workspace, Role.OWNER).user
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/settings/members/")
    email = page.locator("#members .form-row [name=email]")
    email.fill("not-an-email")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Send invitation", exact=True).click()
    assert answer.value.status == 422 and answer.value.request.headers.get("hx-request") == "true"
    expect(
        page.locator("#members .form-row").get_by_text("Enter a valid email address.", exact=True)
    ).to_be_visible()
    expect(page.locator("#members .form-row [name=email]")).to_have_value("not-an-email")  # nothing lost
    shot("invite-refused")
    assert not Invitation.objects.filter(workspace=workspace).exists()
