"""The record page in the browser: a record found from its run's page by email, then its page with every
run that sent it, the fields sent as a table (dates as dates), Intercom's answer and its state now."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.syncs.test_record_lookup import ROWS, user_sync
from tests.syncs.test_views import run_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_record_found_by_email_and_its_page(
    page, shot, live_server, workspace, owner, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:  # Intercom has u-1 already
        api.post("/contacts", json={"role": "user", "external_id": "u-1", "email": "p1@example.com"})
    sync = user_sync(workspace, warehouse, ROWS, destination)
    first = run_sync(workspace, sync)
    warehouse.table(
        "people",
        "id INTEGER, email VARCHAR, name VARCHAR, external_id VARCHAR, seats VARCHAR, signed_up BIGINT",
        [(1, "p1@example.com", "Ada L.", "u-1", None, 1_710_000_000), *ROWS[1:]],
    )
    second = run_sync(workspace, sync)

    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{first.pk}/")
    shot("run-page-records")
    page.get_by_label("Key, email or Intercom id contains", exact=True).fill("p1@example.com")
    page.get_by_role("button", name="Filter", exact=True).click()
    rows = page.locator("table.record-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("matched existing")
    shot("run-page-search-by-email")
    rows.first.get_by_role("link", name="u-1", exact=True).click()

    expect(page.locator("h1")).to_contain_text("Record u-1")
    runs = page.locator("article.record-run h3 a")
    expect(runs).to_have_text([f"Run {second.pk}", f"Run {first.pk}"])
    newest = page.locator("article.record-run").first
    expect(newest.locator("tr", has_text="signed_up_at").locator("td")).to_have_text(
        ["signed_up_at", "2024-03-09 16:00:00 UTC"]
    )
    expect(newest.locator("tr", has_text="name").locator("td")).to_have_text(["name", "Ada L."])
    expect(page.locator("#ledger")).to_contain_text("Last synced")
    shot("record-page")

    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{second.pk}/?q=u-2")
    expect(
        page.get_by_text(
            re.compile(
                r"^Not sent in this run: unchanged, or not in the model\. Intercom last accepted u-2 "
                r"\(Intercom id \w+\) on .+\.$"
            )
        )
    ).to_be_visible()
    shot("run-page-unchanged-record")
