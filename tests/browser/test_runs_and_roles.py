"""A failing run and its rejected records; a viewer who can look at everything and change nothing."""

import pytest
from playwright.sync_api import expect

from apps.syncs.models import RecordResult, RunStatus, SyncRun
from apps.tenancy.models import Role
from tests.browser.conftest import log_in
from tests.browser.test_five_steps import wait_for_run
from tests.conftest import member_of
from tests.factories import SyncRunFactory
from tests.fixtures.syncs import m, make_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROWS = [(1, "ada@example.com", "Ada", "pro"), (2, "alan@example.com", "Alan", "free"),
        (3, "grace@example.com", "Grace", "team")]  # fmt: skip


@pytest.fixture
def people(warehouse):
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR", ROWS)
    return warehouse.model("SELECT * FROM people", "id", ["id", "email", "name", "plan"], unique=("email",))


def test_a_failing_run_shows_its_rejected_records(
    page, shot, live_server, run_worker, workspace, owner, people, destination
):
    # The attribute was never created in Intercom (and Syncline never read the list): every record is refused.
    sync = make_sync(
        workspace,
        people,
        destination,
        name="People",
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name"), m("lifetime_value", "string", "plan", custom=True)],
    )
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
    with page.expect_navigation():  # the trigger's redirect back to the sync page
        page.get_by_role("button", name="Run now", exact=True).click()
    run = wait_for_run(sync)
    assert run.status == RunStatus.FAILED and run.counts["rejected"] == 3
    # Let the sync page see the end (its progress poll reloads it) before leaving it: a reload that
    # starts as the next page loads would take the browser back to the sync page.
    expect(page.locator("#progress[hx-get]")).to_have_count(0)

    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{run.pk}/")
    expect(page.locator("h1 .status")).to_have_text("Failed")
    results = page.locator("table").last
    expect(results).to_contain_text("Custom attribute 'lifetime_value' does not exist")
    expect(results).to_contain_text("grace@example.com")
    shot("run-page-rejected")
    page.get_by_label("Key, email or Intercom id contains", exact=True).fill("ALAN")
    page.get_by_label("Key, email or Intercom id contains", exact=True).press("Enter")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("alan@example.com")
    shot("run-page-search")


def test_a_viewer_sees_everything_and_changes_nothing(
    page, shot, live_server, workspace, people, destination
):
    sync = make_sync(
        workspace,
        people,
        destination,
        name="People",
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )
    SyncRunFactory(workspace=workspace, sync=sync, status=RunStatus.SUCCEEDED, counts={"created": 3})
    viewer = member_of(workspace, Role.VIEWER).user
    log_in(page, live_server, viewer)
    w = f"{live_server.url}/w/{workspace.slug}"

    page.goto(f"{w}/syncs/")
    expect(page.get_by_text("People", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New sync")).to_have_count(0)
    page.goto(f"{w}/syncs/{sync.pk}/")
    expect(page.get_by_text("Succeeded", exact=True).first).to_be_visible()
    for name in ("Run now", "Full resync", "Pause"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    shot("viewer-sync-page")
    page.goto(f"{w}/syncs/{sync.pk}/preview/")
    expect(page.get_by_text("Viewers cannot start runs.", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Run sync")).to_have_count(0)
    shot("viewer-preview")

    assert page.goto(f"{w}/syncs/new/").status == 403
    expect(
        page.get_by_text(
            "Viewers can look but not change anything. Ask an owner of this workspace for editor access.",
            exact=True,
        )
    ).to_be_visible()
    shot("viewer-wizard-refused")
    # A hand-made POST with a valid CSRF token is refused too.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token, "Referer": f"{w}/syncs/{sync.pk}/"}
    assert page.request.post(f"{w}/syncs/{sync.pk}/run/", headers=headers).status == 403
    assert (
        page.request.post(
            f"{w}/syncs/new/data/", headers=headers, form={"source": people.source_id, "model": people.pk}
        ).status
        == 403
    )
    assert SyncRun.objects.for_workspace(workspace).count() == 1
    assert not RecordResult.objects.for_workspace(workspace).exists()
