"""A run that found records missing from Intercom says so and offers to restore them; the restore run says
what it restores and how many records it brought back."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.syncs.models import RunStatus, SyncRun
from tests.browser.conftest import log_in
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_run_with_drift_offers_restore_and_the_restore_says_what_it_brought_back(
    page, shot, live_server, workspace, owner
):
    sync = SyncFactory(
        workspace=workspace, object_key="user", key_identifier="email", name="People to Intercom"
    )
    started = timezone.now() + dt.timedelta(seconds=2)
    drifted = SyncRunFactory(workspace=workspace, sync=sync, status=RunStatus.SUCCEEDED_WITH_WARNINGS,
                             started_at=started, finished_at=started + dt.timedelta(seconds=3),
                             counts={"source_rows": 2000, "unchanged": 2000, "drift_checked": 5,
                                     "drift_missing": 5, "api_calls": 5})  # fmt: skip
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{drifted.pk}/")
    notice = page.locator("#drift")
    assert "5 of the 5 records checked are missing from Intercom." in notice.inner_text()
    assert "one call per missing record" in notice.inner_text()
    shot("drift-found")

    notice.get_by_role("button", name="Restore missing records", exact=True).click()
    page.wait_for_url(f"**/runs/{drifted.pk + 1}/")
    restore = SyncRun.objects.for_workspace(workspace).get(restores=drifted)
    assert (
        f"restoring the records missing from Intercom in run {drifted.pk}"
        in page.locator("header").inner_text()
    )
    shot("restore-queued")

    SyncRun.objects.for_workspace(workspace).filter(pk=restore.pk).update(
        status=RunStatus.SUCCEEDED,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=9),
        counts={"source_rows": 2000, "created": 2000, "restored": 2000, "api_calls": 2000},
    )
    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/{restore.pk}/")
    assert "Of the 2,000 created, 2,000 restored" in page.inner_text("body")
    assert page.locator("#drift").count() == 0
    shot("restored")
