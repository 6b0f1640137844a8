"""The sync page's History card as a person sees it: who, via what, when, and each field old → new."""

import pytest

from apps.syncs.services import sync_set_paused
from apps.tenancy.audit import audit_as
from apps.tenancy.models import AuditVia
from tests.browser.conftest import log_in
from tests.factories import SyncFactory


@pytest.mark.django_db(transaction=True)
def test_the_sync_page_shows_its_history(page, live_server, owner, workspace, shot):
    sync = SyncFactory(workspace=workspace, name="Users to Intercom")
    with audit_as(via=AuditVia.API, label="API key “Airflow” (sk_live_ab…)"):
        sync_set_paused(workspace=workspace, sync=sync, paused=True)
    with audit_as(via=AuditVia.APPLY, user=owner):
        sync_set_paused(workspace=workspace, sync=sync, paused=False)
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
    history = page.locator("#history")
    history.scroll_into_view_if_needed()
    items = history.locator("ol.history > li")
    assert items.count() == 2
    assert "via syncline apply" in items.nth(0).inner_text() and owner.email in items.nth(0).inner_text()
    assert "API key “Airflow”" in items.nth(1).inner_text() and "no → yes" in items.nth(1).inner_text()
    shot("history")
