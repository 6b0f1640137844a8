"""The run list and a sync's run history fit a 1,280 px screen: no sideways scrolling, with long sync
names and runs of every behavior."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEHAVIORS = {
    ("event", "send"): {"source_rows": 1_234_567, "sent": 1_200_000, "unchanged": 34_567, "rejected": 12},
    ("user", "delete"): {"source_rows": 900_000, "archived": 899_000, "skipped": 1_000},
    ("user", "update_only"): {"source_rows": 50_000, "updated": 20_000, "skipped": 29_000, "invalid": 1_000},
    ("company", "upsert"): {"source_rows": 4_000_000, "created": 1_000_000, "updated": 2_000_000,
                            "unchanged": 900_000, "rejected": 99_999, "invalid": 1, "warnings": 3},
}  # fmt: skip


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
        " || [...document.querySelectorAll('.table-scroll')].some(e => e.scrollWidth > e.clientWidth)"
    )


def test_run_tables_fit_a_1280_pixel_screen(page, shot, live_server, workspace, owner):
    assert page.viewport_size["width"] == 1280
    syncs = []
    for (object_key, behavior), counts in BEHAVIORS.items():
        sync = SyncFactory(
            workspace=workspace,
            object_key=object_key,
            behavior=behavior,
            name=f"Warehouse {object_key}s to Intercom, {behavior} every hour",
        )
        started = timezone.now() - dt.timedelta(days=3, hours=2)
        SyncRunFactory.create_batch(
            3,
            workspace=workspace,
            sync=sync,
            counts=counts,
            full_resync=True,
            started_at=started,
            finished_at=started + dt.timedelta(hours=1, minutes=7),
        )
        syncs.append(sync)
    log_in(page, live_server, owner)

    page.goto(f"{live_server.url}/w/{workspace.slug}/runs/")
    shot("run-list")
    assert not scrolls_sideways(page)
    for sync in syncs:
        page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
        shot(f"sync-history-{sync.behavior}")
        assert not scrolls_sideways(page), sync.behavior
