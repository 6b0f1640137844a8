"""The mapper in a real browser: suggestions accepted, a custom attribute created for a column in one click
(Intercom then holds it, and a run fills it), a decimal → integer warning with its cast; the event mapper
with its required parts pre-filled and metadata rows, and a run that sends that metadata. Every wizard
page is measured at 390 px and 1,280 px: no horizontal overflow."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from apps.syncs.models import RunStatus, Sync
from tests.browser.conftest import log_in
from tests.browser.test_five_steps import wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def assert_fits(page, shot, name: str) -> None:
    """No horizontal overflow at phone and desktop width (measured, and each width shot)."""
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
                .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""",
            widths[1],
        )
        assert widths[0] <= widths[1], f"{name} overflows at {label} px: {widths} {wide}"
        shot(f"{name}-{label}px")


def kinded(model, columns):
    model.columns = [{"name": n, "db_type": "", "kind": k} for n, k in columns]
    model.save()
    return model


@pytest.fixture
def people(warehouse):
    warehouse.table(
        "people",
        'id INTEGER, "Email Address" VARCHAR, user_id VARCHAR, full_name VARCHAR, created_at TIMESTAMP, '
        "seats DECIMAL(10, 2), score DECIMAL(10, 2)",
        [
            (1, "ada@example.com", "u1", "Ada Lovelace", dt.datetime(2024, 1, 2, 3, 4, 5), 3, 9.5),
            (2, "alan@example.com", "u2", "Alan Turing", dt.datetime(2024, 2, 3, 4, 5, 6), 12, 1.25),
        ],
    )
    columns = [("id", "integer"), ("Email Address", "string"), ("user_id", "string"), ("full_name", "string"),
               ("created_at", "timestamp"), ("seats", "decimal"), ("score", "decimal")]  # fmt: skip
    return kinded(warehouse.model("SELECT * FROM people", "id", []), columns)


def test_the_mapper_suggests_creates_an_attribute_and_warns_of_a_decimal_into_an_integer(
    page, shot, live_server, run_worker, workspace, owner, people, destination, intercom_emulator,
    intercom_workspace,
):  # fmt: skip
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/new/")
    assert_fits(page, shot, "data")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("input[name=object_key][value=user]")).to_be_checked()  # the columns look like users
    assert_fits(page, shot, "destination")
    page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_label("Update or Create").check()
    page.get_by_label("Model column").select_option("user_id")
    page.get_by_label("Intercom identifier", exact=True).select_option("external_id")
    assert_fits(page, shot, "behavior")
    page.get_by_role("button", name="Next", exact=True).click()

    # Suggestions by name and type: "Email Address" is Email; the key's column is offered to nothing.
    expect(page.get_by_role("heading", name="Which fields should be updated?", exact=True)).to_be_visible()
    expect(page.locator(".suggestion code")).to_have_text(
        ["Email Address", "full_name", "created_at", "seats"]
    )
    expect(page.locator(".suggestion strong")).to_have_text(["Email", "Name", "Signed up at", "seats"])
    expect(page.locator(".suggestion .badge-warning")).to_have_text(["check the type"])
    assert_fits(page, shot, "mapper-suggestions")
    page.get_by_role("button", name="Accept all 4 suggestions", exact=True).click()
    expect(page.locator(".suggestion")).to_have_count(0)
    rows = page.locator("li.map-row:not(.map-key)")
    expect(rows).to_have_count(4)
    seats = rows.filter(has=page.locator("option[value='cus:seats']:checked"))
    expect(seats.locator("p.map-message")).to_have_text(
        "type warning “seats” is a decimal, but seats takes a whole number: a value with a fraction (3.5) "
        "becomes an invalid record, a whole one (3.0) is sent. To send every row, round it in the model's "
        "SQL: CAST(ROUND(seats) AS BIGINT)"
    )
    assert_fits(page, shot, "mapper-accepted-with-warning")

    # One click: a custom attribute for the score column, of the column's type, mapped at once.
    page.get_by_role("button", name="+ Add mapping", exact=True).click()
    new_row = rows.last
    expect(new_row.locator("select.map-column")).to_be_focused()
    new_row.locator("select.map-column").select_option("score")
    expect(new_row.locator(".create-type")).to_have_text("“score”, type Decimal number")
    new_row.get_by_role("button", name="Create a custom attribute for this column", exact=True).click()
    expect(
        page.get_by_text(
            "Custom attribute “score” (Decimal number) created in Intercom and mapped to “score”.", exact=True
        )
    ).to_be_visible()
    expect(rows.last.locator("select.map-field")).to_have_value("cus:score")
    attributes = intercom_emulator.workspace_state(intercom_workspace.id_code)["data_attributes"]
    created = [a for a in attributes if a["name"] == "score"]
    assert [(a["model"], a["data_type"]) for a in created] == [("contact", "float")]
    assert_fits(page, shot, "mapper-attribute-created")

    page.get_by_label("Name of the sync").fill("People with scores")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()
    expect(page.locator(".count-grid")).to_contain_text("2to create")
    assert_fits(page, shot, "preview")
    page.get_by_role("button", name="Run sync", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("People with scores")
    run = wait_for_run(Sync.objects.for_workspace(workspace).get(name="People with scores"))
    assert run.status == RunStatus.SUCCEEDED, run.first_error

    contacts = {c["external_id"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert contacts["u1"]["email"] == "ada@example.com" and contacts["u1"]["name"] == "Ada Lovelace"
    assert contacts["u1"]["signed_up_at"] == int(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp())
    assert contacts["u1"]["custom_attributes"]["score"] == 9.5  # the new attribute, filled by the run
    assert contacts["u2"]["custom_attributes"]["score"] == 1.25
    assert contacts["u2"]["custom_attributes"]["seats"] == 12  # 12.00 is a whole number: sent


def test_a_late_answer_to_an_older_re_check_does_not_undo_a_newer_choice(
    page, live_server, workspace, owner, people, destination
):
    """A slow server: the re-check of the column chosen is answered only after the field is chosen too. The
    newer re-check (it carries both) wins, though the older one's answer arrives first and has no field."""
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/new/")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("input[name=object_key][value=user]")).to_be_checked()
    page.get_by_role("button", name="Next", exact=True).click()
    page.get_by_label("Update or Create").check()
    page.get_by_label("Model column").select_option("user_id")
    page.get_by_label("Intercom identifier", exact=True).select_option("external_id")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Which fields should be updated?", exact=True)).to_be_visible()
    page.get_by_role("button", name="+ Add mapping", exact=True).click()
    row = page.locator("li.map-row:not(.map-key)").last
    expect(row.locator("select.map-column")).to_be_focused()

    held = []  # the re-checks, answered when the test says

    def hold_re_checks(route):
        if "action=check" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    def wait_for_held(count: int) -> None:
        for _ in range(200):
            if len(held) >= count:
                return
            page.wait_for_timeout(50)
        pytest.fail(f"{count} re-checks expected, {len(held)} sent")

    page.route(re.compile(r"/syncs/new/fields/"), hold_re_checks)
    row.locator("select.map-column").select_option("full_name")
    wait_for_held(1)
    row.locator("select.map-field").select_option("std:name")
    wait_for_held(2)
    with page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()  # the older answer first: it carries the column but no field yet
    page.wait_for_timeout(300)
    with page.expect_response(lambda response: response.request == held[1].request):
        held[1].continue_()
    page.unroute(re.compile(r"/syncs/new/fields/"))
    page.wait_for_timeout(300)
    row = page.locator("li.map-row:not(.map-key)").last
    expect(row.locator("select.map-column")).to_have_value("full_name")
    expect(row.locator("select.map-field")).to_have_value("std:name")
    # And Next goes on with the row as shown (no "choose a field" refusal).
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()


@pytest.fixture
def events(warehouse):
    warehouse.table(
        "events",
        "event_id INTEGER, user_id VARCHAR, event_name VARCHAR, occurred_at TIMESTAMP, plan VARCHAR, "
        "amount DECIMAL(10, 2)",
        [
            (1, "u1", "upgraded-plan", dt.datetime(2024, 5, 1, 9, 0), "pro", 49.5),
            (2, "u1", "invited-teammate", dt.datetime(2024, 5, 2, 10, 30), "pro", None),
        ],
    )
    columns = [("event_id", "integer"), ("user_id", "string"), ("event_name", "string"),
               ("occurred_at", "timestamp"), ("plan", "string"), ("amount", "decimal")]  # fmt: skip
    return kinded(warehouse.model("SELECT * FROM events", "event_id", []), columns)


def test_the_event_mapper_prefills_what_is_required_and_sends_metadata_rows(
    page, shot, live_server, run_worker, workspace, owner, events, destination, intercom_emulator,
    intercom_workspace,
):  # fmt: skip
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.post("/contacts", json={"role": "user", "external_id": "u1", "email": "ada@example.com"})
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/new/")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("input[name=object_key][value=event]")).to_be_checked()  # it looks like events
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_label("Model column", exact=True)).to_have_value("event_id")
    page.get_by_role("button", name="Next", exact=True).click()

    expect(page.get_by_role("heading", name="What should each event say?", exact=True)).to_be_visible()
    for part in ("Event name", "Event time", "Contact"):
        expect(page.locator("legend", has_text=re.compile(rf"^{part} required$"))).to_have_count(1)
    expect(page.locator(".event-grid").get_by_text("(optional)")).to_have_count(0)
    expect(page.get_by_label("… or the column holding the event name", exact=True)).to_have_value(
        "event_name"
    )
    expect(page.get_by_label("Event time column", exact=True)).to_have_value("occurred_at")
    expect(page.get_by_label("Contact column", exact=True)).to_have_value("user_id")
    expect(page.get_by_label("The contact column holds", exact=True)).to_have_value(
        "user_id"
    )  # not Intercom ID
    expect(page.locator("select[multiple]")).to_have_count(0)
    page.get_by_role("button", name="+ Add metadata", exact=True).click()
    page.locator("select[name=meta-0-column]").select_option("plan")
    page.get_by_role("button", name="+ Add metadata", exact=True).click()
    expect(page.locator("select[name=meta-1-column]")).to_be_focused()
    page.locator("select[name=meta-1-column]").select_option("amount")
    page.get_by_label("Name of the sync").fill("Product events")
    assert_fits(page, shot, "event-mapper")
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()
    assert_fits(page, shot, "event-preview")
    page.get_by_role("button", name="Run sync", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Product events")
    run = wait_for_run(Sync.objects.for_workspace(workspace).get(name="Product events"))
    assert run.status == RunStatus.SUCCEEDED, run.first_error

    sent = {e["event_name"]: e for e in intercom_emulator.events(intercom_workspace.id_code)}
    assert set(sent) == {"upgraded-plan", "invited-teammate"}
    assert sent["upgraded-plan"]["metadata"] == {"plan": "pro", "amount": 49.5}
    assert sent["upgraded-plan"]["created_at"] == int(dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC).timestamp())
    assert sent["invited-teammate"]["metadata"].get("plan") == "pro"
