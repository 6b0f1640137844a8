"""Records still refused, as a person sees them: the sync page's count with Retry now and Stop retrying, and
the run page's link to the run each record was first refused in (screenshots in var/screenshots/)."""

import pytest

from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.browser.conftest import log_in
from tests.syncs.test_outcomes import people, user_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_still_refused_records_on_the_sync_and_run_pages(
    page,
    shot,
    live_server,
    live_intercom,
    intercom_workspace,
    workspace,
    owner,
    warehouse,
    destination,
    eager_tasks,
):
    sync = user_sync(workspace, warehouse, destination, people(3, seats={1: "ten", 2: "<b>four</b>"}))
    first, second = (
        sync_run_execute(run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk)
        for _ in range(2)
    )
    log_in(page, live_server, owner)

    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
    refused = page.locator("#refused")
    assert refused.get_by_role("heading").inner_text() == "2 records still refused"
    assert refused.get_by_role("button", name="Retry now", exact=True).is_enabled()
    shot("sync-page-still-refused")

    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{second.pk}/")
    assert page.locator("h1 .status").inner_text() == "Succeeded with warnings"
    links = page.locator("#records").get_by_role("link", name=f"run {first.pk}", exact=True)
    assert links.count() == 2
    shot("run-page-still-refused")
    links.first.click()
    page.wait_for_url(f"**/runs/{first.pk}/")
    assert page.locator("h1 .status").inner_text() == "Partially failed"

    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
    page.locator("#refused").get_by_role("button", name="Stop retrying", exact=True).click()
    page.wait_for_load_state()
    assert "Stopped retrying 2 refused records" in page.content()
    assert page.locator("#refused").get_by_role("heading").inner_text() == "2 refused records not retried"
    assert page.locator("#refused").get_by_role("button", name="Stop retrying", exact=True).count() == 0
    shot("sync-page-stopped-retrying")
