"""Connecting Google Sheets in the browser (the stand-in of Google's token and Sheets endpoints behind it):
the form asks for the tables and the service account's key, says next to the tables which email a
spreadsheet must be shared with, never shows the key back, and connects."""

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from apps.connections.models import Connection
from tests.browser.conftest import log_in
from tests.fixtures.fake_sheets import sheets_service_account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_connect_google_sheets_from_the_form(
    page, shot, live_server, workspace, owner, sheets_endpoint, tmp_path
):
    key = sheets_service_account()
    email = key["client_email"]
    key_file = tmp_path / "syncline-sheets-key.json"
    key_file.write_text(json.dumps(key))
    spreadsheet_id = "1Browser" + uuid.uuid4().hex
    spreadsheet = sheets_endpoint.add_spreadsheet(
        spreadsheet_id, {"People": [["id", "email", "name"], [1, "ada@example.com", "Ada"]]}
    )  # not shared yet

    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/connections/sources/new/")
    page.get_by_role("link", name="Google Sheets").click()
    expect(
        page.get_by_text(
            re.compile(r"^The JSON key of a service account .* as Viewer: it needs no other role\.$")
        )
    ).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Customer sheet")
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit#gid=0"
    page.get_by_label("Tables").fill(f"people = {url} People!A1:C")
    page.locator("#id_service_account_json_file").set_input_files(str(key_file))
    shot("form-filled")

    page.get_by_role("button", name="Test and connect").click()
    expect(page.locator("#id_tables_error")).to_contain_text(f"Share it with {email}")
    expect(page.locator("#id_service_account_json")).to_have_value("")  # never rendered back
    shot("not-shared")

    spreadsheet.shared_with.add(email)  # the user shares the spreadsheet with the service account
    page.locator("#id_service_account_json_file").set_input_files(str(key_file))
    page.get_by_role("button", name="Test and connect").click()
    expect(page.get_by_text(re.compile(r"^“Customer sheet” saved and connected \(.*\)\.$"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Customer sheet .*$"))).to_contain_text(
        "people (3 columns)"
    )
    shot("connected")
    connection = Connection.objects.for_workspace(workspace).get(name="Customer sheet")
    assert connection.status == "connected" and "PRIVATE KEY" not in page.content()
