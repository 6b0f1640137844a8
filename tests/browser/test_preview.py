"""The preview in the browser: old → new values as a table, dates as dates in the workspace's zone, the
request body one click away; and the mapper's date rows, whose unit choice follows the column typed."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.fixtures.syncs import m, make_sync
from tests.syncs.test_views import run_sync, typed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, signed_up BIGINT, seen_at TIMESTAMP"
NAMES = ["id", "email", "name", "plan", "signed_up", "seen_at"]
# The preview is planned by a worker process: on a busy machine it may start a while after the page.
WORKER_START_MS = 30_000
ROWS = [(1, "ada@example.com", "Ada", "pro", 1_700_000_000_000, None),
        (2, "alan@example.com", "Alan", "free", 1_600_000_000_000, None)]  # fmt: skip


def wait_for_the_plan(page) -> None:
    """Until the worker has planned the preview (its recap replaces the progress block)."""
    expect(page.get_by_role("heading", name="Planned operations", exact=True)).to_be_visible(
        timeout=WORKER_START_MS
    )


def test_the_preview_reads_as_a_table_of_old_and_new_values(
    page, shot, live_server, run_worker, workspace, owner, warehouse, destination
):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    warehouse.table("people", COLUMNS, ROWS)
    model = typed(
        warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email",)),
        id="integer",
        signed_up="integer",
        seen_at="timestamp",
    )
    sync = make_sync(
        workspace,
        model,
        destination,
        name="People",
        object_key="user",
        behavior="upsert",
        key_column="id",
        key_identifier="external_id",
        mappings=[
            m("email", "string", "email"),
            m("name", "string", "name"),
            m("plan", "string", "plan", custom=True),
            m("signed_up_at", "date", "signed_up") | {"unit": "milliseconds"},
        ],
    )
    run_sync(workspace, sync)
    warehouse.table(
        "people",
        COLUMNS,
        [
            (1, "ada@example.com", "Ada L.", "team", 1_710_000_000_000, None),
            ROWS[1],
            (3, "grace@example.com", "Grace", "pro", 1_500_000_000_000, None),
        ],
    )

    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/preview/")
    wait_for_the_plan(page)
    updates = page.locator("section.sample-updated table")
    expect(updates.locator("tr:not(.record-head)", has_text="name").locator("td")).to_have_text(
        ["name", "Ada", "Ada L."]
    )
    expect(updates.locator("tr:not(.record-head)", has_text="signed_up_at").locator("td")).to_have_text(
        ["signed_up_at", "2023-11-14 23:13:20 CET", "2024-03-09 17:00:00 CET"]
    )
    creates = page.locator("section.sample-created table")
    expect(creates.locator("tr:not(.record-head)", has_text="signed_up_at")).to_have_text(
        "signed_up_at2017-07-14 04:40:00 CEST"
    )
    expect(page.get_by_text("numbers as epoch milliseconds", exact=True)).to_be_visible()
    body = creates.locator("details.raw-payload pre")
    expect(body).to_be_hidden()
    shot("preview")
    creates.get_by_text("Request body", exact=True).click()
    expect(body).to_contain_text('"signed_up_at": 1500000000')
    shot("preview-request-body")

    # The mapper: a date row asks for the unit of a number column, and says none is needed for a timestamp.
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/edit/")
    page.get_by_role("button", name="+ Add mapping", exact=True).click()
    row = page.locator("li.map-row").last
    expect(row.locator("select.map-column")).to_be_focused()  # the new row
    row.locator("select.map-field").select_option("std:last_seen_at")  # the step is re-checked in place
    unit, no_unit = row.locator(".unit-choice"), row.locator(".unit-none")
    expect(unit).to_be_visible()
    column = row.locator("select.map-column")
    column.select_option("seen_at")
    expect(no_unit).to_have_text("Dates: read as a date; no unit needed")
    expect(unit).to_be_hidden()
    column.select_option("signed_up")
    expect(unit).to_be_visible()
    expect(no_unit).to_be_hidden()
    row.locator("select[name$='-unit']").select_option("milliseconds")
    shot("mapper-date-unit")


def test_an_event_preview_reads_as_name_contact_time_and_metadata(
    page, shot, live_server, run_worker, workspace, owner, warehouse, destination
):
    warehouse.table("people", COLUMNS, ROWS)
    model = typed(
        warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email",)),
        id="integer",
        signed_up="integer",
        seen_at="timestamp",
    )
    options = {"event": {"event_name": "signed-up", "contact_column": "email", "contact_key": "email",
                         "created_at_column": "signed_up", "created_at_unit": "milliseconds",
                         "metadata_columns": ["plan", "name"]}}  # fmt: skip
    sync = make_sync(
        workspace,
        model,
        destination,
        name="Signups",
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        options=options,
    )
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/preview/")
    wait_for_the_plan(page)
    event = page.locator("section.sample-sent table tbody tr").first.locator("td")
    expect(event).to_have_text(
        ["1", "signed-up", "ada@example.com Email", "2023-11-14 22:13:20 UTC", "plan: pro name: Ada"]
    )
    expect(page.locator("#event")).to_contain_text("signed_up (numbers as epoch milliseconds)")
    shot("event-preview")
