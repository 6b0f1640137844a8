"""Connecting Snowflake in the browser (fakesnow's server behind it): the form asks for the account, the
role, the warehouse and the authentication, recommends a role that can only read, says what is wrong next
to the field it concerns, never shows a secret back, and connects."""

import re

import pytest
from playwright.sync_api import expect

from apps.connections.models import Connection
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

UNREADABLE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key at all\n-----END PRIVATE KEY-----"


def test_connect_snowflake_from_the_form(page, shot, live_server, workspace, owner, snowflake_endpoint):
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/connections/sources/new/")
    page.get_by_role("link", name="Snowflake", exact=True).click()
    expect(page.locator("#snowflake-role-advice")).to_contain_text("GRANT SELECT ON ALL TABLES IN DATABASE")
    page.get_by_label("Name", exact=True).fill("Snowflake analytics")
    page.get_by_label("Account identifier", exact=True).fill("https://myorg-analytics.snowflakecomputing.com")
    page.get_by_label("User", exact=True).fill("SYNCLINE")
    page.locator("#id_role").fill("SYNCLINE_READER")
    page.get_by_label("Warehouse", exact=True).fill("SYNCLINE_WH")
    page.get_by_label("Database", exact=True).fill("SYNCLINE_TEST")
    page.locator("#id_schema").fill("PUBLIC")
    page.locator("#id_authentication").select_option("key_pair")
    page.locator("#id_private_key").fill(UNREADABLE_KEY)
    shot("form-filled")

    page.get_by_role("button", name="Test and connect", exact=True).click()
    expect(page.locator("#id_private_key_error")).to_contain_text("could not be read")
    expect(page.locator("#id_private_key")).to_have_value("")  # never rendered back
    shot("private-key-refused")

    page.locator("#id_authentication").select_option("password")
    page.locator("#id_password").fill("a-snowflake-password")
    page.get_by_role("button", name="Test and connect", exact=True).click()
    expect(
        page.get_by_text(re.compile(r"^“Snowflake analytics” saved and connected \(.+\)\.$"))
    ).to_be_visible()
    expect(
        page.get_by_role("row").filter(has=page.get_by_role("cell", name="Snowflake analytics", exact=True))
    ).to_contain_text(
        "SYNCLINE · https://myorg-analytics.snowflakecomputing.com · SYNCLINE_TEST as SYNCLINE_READER"
    )
    shot("connected")
    connection = Connection.objects.for_workspace(workspace).get(name="Snowflake analytics")
    assert connection.status == "connected" and "a-snowflake-password" not in page.content()
