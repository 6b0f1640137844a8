"""The preview planned by a worker, in the browser: the page shows its progress at once, then the counts
(htmx polling); Cancel stops it. The model is a PostgreSQL query that sleeps, so the progress is seen."""

import pytest
from playwright.sync_api import expect

from apps.syncs.models import PreviewStatus, SyncPreviewRun
from tests.browser.conftest import log_in
from tests.factories import SourceConnectionFactory, SqlModelFactory
from tests.fixtures.syncs import m, make_sync
from tests.syncs.test_cancel import pg_warehouse, sleeping_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
__all__ = ["pg_warehouse"]  # a fixture, used by name


def napping_sync(workspace, destination, database):
    """A sync of the warehouse's one person, whose query sleeps three seconds before answering."""
    source = SourceConnectionFactory(
        workspace=workspace,
        type="postgres",
        config={
            "host": "127.0.0.1",
            "port": 5432,
            "database": database,
            "user": "postgres",
            "sslmode": "disable",
        },
        credentials={"password": ""},
    )
    model = SqlModelFactory(
        workspace=workspace,
        source=source,
        sql="SELECT id, email, name FROM people CROSS JOIN pg_sleep(3)",
        primary_key="id",
        unique_columns=["email"],
        columns=[{"name": c, "db_type": "", "kind": "string"} for c in ("id", "email", "name")],
    )
    return make_sync(
        workspace,
        model,
        destination,
        name="Nap",
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )


def test_the_preview_shows_its_progress_then_the_counts(
    page, shot, live_server, run_worker, workspace, owner, destination, pg_warehouse
):
    sync = napping_sync(workspace, destination, pg_warehouse)
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/preview/")
    progress = page.locator("#preview-block")
    expect(progress.get_by_role("heading", name="Planning the preview…", exact=True)).to_be_visible(
        timeout=15_000
    )
    expect(progress.get_by_role("button", name="Cancel the preview", exact=True)).to_be_visible()
    shot("preview-planning")
    expect(page.get_by_role("heading", name="Planned operations", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator(".count-grid")).to_contain_text("1to create")
    expect(page.locator("section.sample-created")).to_contain_text("p1@example.com")
    expect(progress.get_by_role("button", name="Cancel the preview", exact=True)).to_have_count(0)
    shot("preview-done")
    page.reload()  # the address names the preview: a reload shows it, it does not plan again
    expect(page.get_by_role("heading", name="Planned operations", exact=True)).to_be_visible()
    assert SyncPreviewRun.objects.for_workspace(workspace).count() == 1


def test_cancel_stops_the_preview(
    page, shot, live_server, run_worker, workspace, owner, destination, pg_warehouse
):
    sync = sleeping_sync(workspace, destination, pg_warehouse)  # ten minutes
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/preview/")
    expect(page.get_by_role("heading", name="Planning the preview…", exact=True)).to_be_visible(
        timeout=15_000
    )
    page.get_by_role("button", name="Cancel the preview", exact=True).click()
    expect(page.get_by_role("heading", name="Preview cancelled", exact=True)).to_be_visible(timeout=15_000)
    shot("preview-cancelled")
    assert SyncPreviewRun.objects.for_workspace(workspace).get().status == PreviewStatus.CANCELLED


def test_the_wizard_cancels_its_preview_and_keeps_its_buttons(
    page, shot, live_server, run_worker, workspace, owner, destination, pg_warehouse
):
    sync = sleeping_sync(workspace, destination, pg_warehouse)
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/edit/")
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/edit/preview/")
    expect(page.get_by_role("heading", name="Planning the preview…", exact=True)).to_be_visible(
        timeout=15_000
    )
    shot("wizard-preview-planning")
    page.get_by_role("button", name="Cancel the preview", exact=True).click()
    expect(page.get_by_role("heading", name="Preview cancelled", exact=True)).to_be_visible(timeout=15_000)
    # Only the preview's block changed: the wizard's own buttons are still there.
    expect(page.get_by_role("button", name="Save and schedule", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()
    shot("wizard-preview-cancelled")
    preview = SyncPreviewRun.objects.for_workspace(workspace).get()
    assert preview.from_wizard and preview.status == PreviewStatus.CANCELLED
