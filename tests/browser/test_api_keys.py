"""Settings → API keys in the browser: create a key, copy it with the button, use it, revoke it."""

import pytest
from playwright.sync_api import expect

from apps.api.models import ApiKey
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_create_copy_use_and_revoke_a_key(page, shot, live_server, workspace, owner):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/settings/")
    page.get_by_role("link", name="API keys", exact=True).click()
    expect(
        page.get_by_text(
            "No API keys yet. Create one below for each place that will call the API, so you can revoke one "
            "without breaking the others.",
            exact=True,
        )
    ).to_be_visible()

    page.get_by_label("Key name", exact=True).fill("Airflow production")
    page.get_by_role("button", name="Create key", exact=True).click()
    expect(
        page.get_by_role("heading", name="Copy the key “Airflow production” now", exact=True)
    ).to_be_visible()
    secret = page.get_by_label("The new API key", exact=True).input_value()
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot("key-created")

    bearer = {"Authorization": f"Bearer {secret}"}
    assert page.request.get(f"{live_server.url}/api/v1/syncs", headers=bearer).status == 200

    page.goto(f"{live_server.url}/w/{workspace.slug}/settings/api-keys/")
    expect(page.locator("#new-api-key")).to_have_count(0)  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke", exact=True).click()
    expect(
        page.get_by_text(
            "Key “Airflow production” revoked: requests with it are refused from now on.", exact=True
        )
    ).to_be_visible()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    shot("key-revoked")
    assert ApiKey.objects.for_workspace(workspace).get().revoked_at is not None
    refused = page.request.get(f"{live_server.url}/api/v1/syncs", headers=bearer)
    assert refused.status == 401 and refused.json()["error"] == "revoked_api_key"

    # A read-only key for a dashboard: it reads, and is refused any change.
    page.get_by_label("Key name", exact=True).fill("Grafana")
    page.get_by_label("Viewer: read only", exact=True).check()
    page.get_by_role("button", name="Create key", exact=True).click()
    viewer = {"Authorization": f"Bearer {page.get_by_label('The new API key', exact=True).input_value()}"}
    expect(page.get_by_role("cell", name="Viewer (read only)", exact=True)).to_be_visible()
    shot("viewer-key")
    assert page.request.get(f"{live_server.url}/api/v1/models", headers=viewer).status == 200
    assert page.request.post(f"{live_server.url}/api/v1/models", headers=viewer, data={}).status == 403

    page.get_by_role("link", name="API reference", exact=True).click()
    expect(page.get_by_role("heading", name="Syncline API v1", exact=True)).to_be_visible()
    shot("reference")
