"""The behaviours that used to be inline code (onclick, hx-on, javascript: links), now in
static/js/syncline.js and htmx's configuration, under the strict Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from apps.alerts.models import WebhookEndpoint
from apps.tenancy.models import Role
from tests.browser.conftest import log_in
from tests.conftest import member_of
from tests.factories import SyncFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_deleting_a_webhook_asks_first(page, live_server, workspace, owner):
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="https://hooks.example.com/syncline",
        signing={"secret": "whsec_x"},
        secret_hint="x",
        events=[],
    )
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/settings/webhooks/{endpoint.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Delete webhook", exact=True).click()
    expect(page.get_by_role("button", name="Delete webhook", exact=True)).to_be_visible()
    assert questions == ["Delete this webhook? It receives no more events."]
    assert WebhookEndpoint.objects.for_workspace(workspace).exists()  # "Cancel" kept it

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_role("button", name="Delete webhook", exact=True).click()
    expect(page.get_by_role("button", name="Delete webhook")).to_have_count(0)
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_a_refused_schedule_is_shown_in_place(page, live_server, workspace, owner):
    sync = SyncFactory(workspace=workspace)
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/schedule/")
    page.locator("input[name=kind][value=cron]").check()
    page.locator("[name=cron]").fill("every day at nine")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.status == 422 and "schedule" in r.url
    ):
        page.get_by_role("button", name="Save schedule", exact=True).click()
    # htmx swapped the refused form in (base.html's htmx-config), the value kept beside its error.
    expect(page.locator("#schedule-form [aria-invalid=true]")).to_have_value("every day at nine")


def test_go_back_on_the_not_allowed_page(page, live_server, workspace):
    viewer = member_of(workspace, Role.VIEWER).user
    log_in(page, live_server, viewer)
    syncs = f"{live_server.url}/w/{workspace.slug}/syncs/"
    page.goto(syncs)
    assert page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/new/").status == 403
    page.get_by_role("link", name="Go back", exact=True).click()
    expect(page).to_have_url(syncs)
