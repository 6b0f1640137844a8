"""A run's page agrees with itself at every moment: while the run goes, its header, timeline, counts and
progress come from one read of the run (the whole page refreshes itself), and at its end "Every record
went through" shows only because it is true."""

import pytest
from playwright.sync_api import expect

from apps.syncs.runs import services as run_services
from tests.browser.conftest import log_in
from tests.browser.test_five_steps import wait_for_run
from tests.fixtures.syncs import m, make_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROWS = [(i, f"user{i}@example.com", f"User {i}") for i in range(240)]

READ_THE_PAGE = """() => {
  const text = (selector) => document.querySelector(selector)?.textContent.trim() ?? null;
  const grid = {};
  for (const cell of document.querySelectorAll(".count-grid div")) {
    grid[cell.lastChild.textContent.trim()] = Number(cell.querySelector("strong").textContent.replaceAll(",", ""));
  }
  return {
    header: text("h1 .status"),
    timeline_end: text(".timeline li:last-child strong"),
    progress_status: text("#progress .status"),
    progress_counts: text("#progress .progress-counts"),
    grid,
  };
}"""


def test_the_run_page_agrees_with_itself_while_the_run_goes_and_at_its_end(
    page, shot, live_server, run_worker, workspace, owner, warehouse, destination, intercom_emulator
):
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR", ROWS)
    model = warehouse.model("SELECT * FROM people", "id", ["id", "email", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        name="People",
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )
    intercom_emulator.set_faults(
        latency_ms=250
    )  # 40 records at a few calls a second: a run of several seconds
    log_in(page, live_server, owner)
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{run.pk}/")

    expect(page.locator("h1 .status")).to_have_text("Running", timeout=20_000)
    seen_running = 0
    for moment in range(4):
        state = page.evaluate(READ_THE_PAGE)
        if state["header"] != "Running":
            break
        seen_running += 1
        shot(f"running-{moment}")
        assert state["progress_status"] == "Running" and state["timeline_end"] == "Finished", state
        created = state["grid"]["created"]
        assert f"{created} created" in state["progress_counts"], state  # the grid and the progress agree
        page.wait_for_timeout(1_500)
    assert seen_running, "the run ended before the page could be read while running"

    expect(page.locator("h1 .status")).to_have_text("Succeeded", timeout=60_000)
    run = wait_for_run(sync)
    shot("ended")
    state = page.evaluate(READ_THE_PAGE)
    assert state["timeline_end"] == "Succeeded" and state["progress_status"] is None, state
    assert state["grid"]["created"] == run.counts["created"] == len(ROWS)
    expect(page.get_by_text("Every record went through.", exact=True)).to_be_visible()
    expect(page.get_by_text("{%")).to_have_count(0)
    expect(page.get_by_text("{#")).to_have_count(0)
