"""Settings → General in the browser: an owner picks the workspace's time zone; a run's times follow it."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from apps.syncs.models import RunStatus
from tests.browser.conftest import log_in
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_owner_picks_a_time_zone_and_the_run_page_follows_it(page, shot, live_server, workspace, owner):
    sync = SyncFactory(workspace=workspace, name="Users → Intercom")
    with time_machine.travel(datetime(2026, 1, 15, 7, 59, 58, tzinfo=UTC), tick=False):  # queued
        run = SyncRunFactory(
            workspace=workspace,
            sync=sync,
            status=RunStatus.SUCCEEDED,
            started_at=datetime(2026, 1, 15, 8, 0, tzinfo=UTC),
            finished_at=datetime(2026, 1, 15, 8, 1, 30, tzinfo=UTC),
        )
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/settings/")
    zone = page.get_by_label("Time zone", exact=True)
    expect(zone).to_have_value("UTC")

    # A picker of IANA zones, each with its offset today: no typo to make.
    expect(zone.locator("option", has_text="America/New_York")).to_have_count(1)
    zone.focus()
    page.keyboard.type("America/New_Y")  # the select's own type-ahead
    expect(zone).to_have_value("America/New_York")
    # The search box above it: words in any order, the rest hidden, the first match picked.
    search = page.get_by_role("searchbox", name="Search time zones", exact=True)
    search.fill("paris")
    expect(zone).to_have_value("Europe/Paris")
    assert zone.evaluate("s => [...s.options].filter(o => !o.hidden).map(o => o.value)") == ["Europe/Paris"]
    shot("zone-searched")
    search.fill("york new")
    expect(zone).to_have_value("America/New_York")
    shot("zone-picked")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Workspace settings saved.", exact=True)).to_be_visible()
    shot("saved")

    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{run.pk}/")
    expect(
        page.get_by_text("Jan 15, 2026, 02:59:58", exact=True)
    ).to_be_visible()  # queued at 07:59:58 UTC: New York's winter
    expect(page.get_by_text("Jan 15, 2026, 03:00:00", exact=True)).to_be_visible()
    expect(page.get_by_text("waited 2.0 s →", exact=True)).to_be_visible()
    expect(page.get_by_text("Times in America/New_York.", exact=True)).to_be_visible()
    shot("run-page")
