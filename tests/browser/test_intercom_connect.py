"""Connecting Intercom in the browser: the permissions screen before Intercom's consent page (the
emulator's), and a region change that fails its test: not saved, and the message says where to check."""

import re

import pytest
from playwright.sync_api import expect

from apps.connections.intercom.permissions import PERMISSIONS
from apps.connections.models import Connection
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_connect_shows_the_permissions_then_consent_and_a_bad_region_is_not_saved(
    page, shot, live_server, live_intercom, workspace, owner
):
    europe = live_intercom.seed_workspace(name="Acme Europe", region="EU", admin_email="admin@example.com")
    log_in(page, live_server, owner)
    w = f"{live_server.url}/w/{workspace.slug}"

    # The permissions screen: each permission with what Syncline does with it, the workspace, the region.
    page.goto(f"{w}/connections/intercom/new/")
    table = page.get_by_role("table")
    for permission in PERMISSIONS:
        row = table.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=permission.name, exact=True)
        )
        expect(row).to_have_count(1)
        expect(row.get_by_text(permission.why, exact=True)).to_be_visible()
    expect(
        page.get_by_text(
            "Syncline does not read conversations, tickets or messages, and sends no messages to anyone.",
            exact=True,
        )
    ).to_be_visible()
    expect(page.locator("section.consent dl.facts dd").first).to_have_text(workspace.name)
    consent_form = page.locator("form").filter(has=page.get_by_role("button", name="Continue to Intercom"))
    consent_form.get_by_label("Region", exact=True).select_option("EU")
    shot("permissions")

    page.get_by_role("button", name="Continue to Intercom", exact=True).click()
    expect(
        page.get_by_text("Syncline wants to connect to one of your Intercom workspaces.", exact=True)
    ).to_be_visible()
    expect(page.locator(f"#ws-{europe.id_code}")).to_be_checked()
    shot("intercom-consent")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("Connected to Acme Europe (EU).", exact=True)).to_be_visible()
    connection = Connection.objects.for_workspace(workspace).get(kind="destination")
    assert connection.config["region"] == "EU"

    # A region change that fails its test: not saved, said at the field, with the region and host tried.
    region_card = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Region", exact=True)
    )
    region_card.get_by_label("Region", exact=True).select_option("US")
    page.get_by_role("button", name="Save region and test", exact=True).click()
    us_host = live_intercom.base_urls["US"].split("://", 1)[1]
    refused = page.get_by_text(
        re.compile(
            r"^Region not changed \(still EU\): Intercom refused this connection's access token in US "
            r"\([^)]+\)\. Check your Intercom workspace's data host region: .* app\.eu\.intercom\.com is EU, .*$"
        )
    )
    expect(refused).to_be_visible()
    assert f"in US ({us_host})." in refused.inner_text()  # the host tried, named
    facts = page.locator("dl.facts")
    expect(facts.get_by_role("definition").nth(1)).to_have_text("EU")  # the region shown is still EU
    shot("region-change-refused")
    connection.refresh_from_db()
    assert connection.config["region"] == "EU" and connection.status == "connected"

    # Reconnect goes through the same permissions screen, naming the Intercom workspace.
    page.goto(f"{w}/connections/intercom/{connection.pk}/")
    page.get_by_role("button", name="Reconnect", exact=True).click()
    expect(page.get_by_role("heading", name="Reconnect Acme Europe", exact=True)).to_be_visible()
    expect(page.get_by_role("rowheader", name="Read one admin", exact=True)).to_be_visible()
    shot("reconnect-permissions")
