"""The settings pages: messages next to the field, the secret shown once, viewers look but cannot change."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from apps.alerts.models import SyncAlertSettings, WebhookDelivery, WebhookEndpoint, WorkspaceAlertSettings
from apps.tenancy.models import Role
from tests.alerts.factories import SECRET, WebhookEndpointFactory
from tests.conftest import member_of
from tests.factories import SyncFactory

pytestmark = pytest.mark.django_db


def webhooks_url(workspace):
    return reverse("webhook_settings", args=[workspace.slug])


def edit_url(endpoint):
    return reverse("webhook_settings_edit", args=[endpoint.workspace.slug, endpoint.pk])


@pytest.fixture
def viewer_client(client, workspace):
    client.force_login(member_of(workspace, Role.VIEWER).user)
    return client


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "hooks.example.com/syncline",
            "Enter the full URL of your endpoint, such as https://example.com/hooks/syncline.",
        ),
        ("ftp://hooks.example.com/x", "Enter the full URL of your endpoint"),
        (
            "http://hooks.example.com/syncline",
            "Use an https:// URL: events carry your sync names, counts and errors",
        ),
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address (this server itself)"),
        ("https://localhost:8443/hook", "resolves to 127.0.0.1, a loopback address (this server itself)"),
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254 is a link-local, multicast or reserved",
        ),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://hooks.example.com:99999/x", "The port in this URL is not a number between 1 and 65535."),
        ("https://no-such-host.invalid/hook", "could not be found. Check the spelling of the host."),
    ],
)
def test_a_url_that_cannot_receive_webhooks_is_refused_next_to_the_field(
    owner_client, workspace, url, message
):
    response = owner_client.post(
        webhooks_url(workspace), {"url": url, "description": "dbt", "events": ["run.failed"]}
    )
    assert response.status_code == 422
    html = response.content.decode()
    error = html.split('id="id_url_error"', 1)[1].split("</small>", 1)[0]
    assert message in error
    assert f'value="{url}"' in html  # what was typed is kept
    assert re.search(r'value="run.failed"[^>]* checked', html) and not re.search(
        r'value="run.started"[^>]* checked', html
    )
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_choosing_no_event_is_refused(owner_client, workspace, public_dns):
    response = owner_client.post(webhooks_url(workspace), {"url": "https://hooks.example.com/x"})
    assert response.status_code == 422
    assert "Choose at least one event to send." in response.content.decode()


def test_the_secret_is_shown_once_stored_encrypted_and_never_echoed(owner_client, workspace, public_dns):
    response = owner_client.post(
        webhooks_url(workspace),
        {"url": "https://hooks.example.com/syncline", "events": ["run.started", "run.failed"]},
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.for_workspace(workspace).get()
    secret = endpoint.signing["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert "it will not be shown again" in response.content.decode()
    assert endpoint.events == ["run.started", "run.failed"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT signing FROM alerts_webhookendpoint WHERE id = %s", [endpoint.pk])
        assert secret not in cursor.fetchone()[0]

    for page in (edit_url(endpoint), webhooks_url(workspace)):
        html = owner_client.get(page).content.decode()
        assert secret not in html and secret[6:-4] not in html
    assert f"whsec_…{secret[-4:]}" in owner_client.get(edit_url(endpoint)).content.decode()

    rotated = owner_client.post(reverse("webhook_settings_rotate", args=[workspace.slug, endpoint.pk]))
    endpoint.refresh_from_db()
    new_secret = endpoint.signing["secret"]
    assert new_secret != secret and new_secret in rotated.content.decode()
    assert new_secret not in owner_client.get(edit_url(endpoint)).content.decode()


def test_an_editor_changes_the_events_and_turns_an_endpoint_off(client, workspace, public_dns):
    client.force_login(member_of(workspace, Role.EDITOR).user)
    endpoint = WebhookEndpointFactory(workspace=workspace)
    response = client.post(
        edit_url(endpoint), {"url": "https://hooks.example.com/v2", "events": ["run.succeeded"]}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        "https://hooks.example.com/v2",
        ["run.succeeded"],
        False,
    )


def test_send_test_event_shows_the_answer_and_the_delivery(
    owner_client, workspace, hook_server, local_webhooks
):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=hook_server.url)
    test_url = reverse("webhook_settings_test", args=[workspace.slug, endpoint.pk])
    page = owner_client.post(test_url, follow=True).content.decode()
    assert "The endpoint accepted the test event (HTTP 200)." in page
    assert "webhook.test" in page and "HTTP 200" in page
    assert hook_server.received[0].json["type"] == "webhook.test"

    hook_server.statuses = [500]
    partial = owner_client.post(test_url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="deliveries">')
    assert "The test event was not accepted: HTTP 500: scripted failure 500" in partial
    failed = WebhookDelivery.objects.for_workspace(workspace).filter(status="failed").get()
    assert failed.attempts.count() == 1  # a test is tried once, while the user waits


def test_a_viewer_sees_webhooks_and_deliveries_but_no_secret_and_cannot_change_them(viewer_client, workspace):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    listing = viewer_client.get(webhooks_url(workspace)).content.decode()
    assert endpoint.url in listing and "Add an endpoint" not in listing
    detail = viewer_client.get(edit_url(endpoint)).content.decode()
    assert "Recent deliveries" in detail
    assert "Send test event" not in detail and "Rotate secret" not in detail and SECRET[-4:] not in detail

    created = viewer_client.post(
        webhooks_url(workspace), {"url": "https://x.example.com/", "events": ["run.failed"]}
    )
    assert created.status_code == 403
    assert WebhookEndpoint.objects.for_workspace(workspace).count() == 1
    for name in ("webhook_settings_rotate", "webhook_settings_delete", "webhook_settings_test"):
        assert viewer_client.post(reverse(name, args=[workspace.slug, endpoint.pk])).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.signing["secret"] == SECRET


def test_a_viewer_sees_who_gets_alerts_but_cannot_change_it(viewer_client, workspace, owner):
    sync = SyncFactory(workspace=workspace)
    page = viewer_client.get(reverse("alert_settings", args=[workspace.slug])).content.decode()
    assert owner.email in page and "Save recipients" not in page and sync.name in page
    sync_page = viewer_client.get(reverse("sync_alerts", args=[workspace.slug, sync.pk])).content.decode()
    assert "Alert above 75%" in sync_page and "Save alerts" not in sync_page

    response = viewer_client.post(
        reverse("sync_alerts", args=[workspace.slug, sync.pk]), {"rejected_threshold": 5}
    )
    assert response.status_code == 403
    assert not SyncAlertSettings.objects.for_workspace(workspace).exists()


def test_workspace_recipients_refuse_a_wrong_address_and_keep_the_rest(owner_client, workspace, owner):
    url = reverse("alert_settings", args=[workspace.slug])
    page = owner_client.get(url).content.decode()
    assert "until you save this list, the workspace's owners receive the alerts" in page

    response = owner_client.post(
        url, {"members": [owner.pk], "extra_emails": "oncall@example.com\nops@example"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "“ops@example” is not an email address; fix or remove it to save." in html
    assert "oncall@example.com\nops@example" in html
    assert not WorkspaceAlertSettings.objects.for_workspace(workspace).exists()

    response = owner_client.post(
        url, {"members": [owner.pk], "extra_emails": "OnCall@example.com, ops@example.com"}
    )
    assert response.status_code == 302
    saved = WorkspaceAlertSettings.objects.for_workspace(workspace).get()
    assert saved.member_ids == [owner.pk] and saved.extra_emails == ["oncall@example.com", "ops@example.com"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"rejected_threshold": "0"}, "rejected_threshold", "Use a percentage from 1 to 100."),
        ({"rejected_threshold": "150"}, "rejected_threshold", "Use a percentage from 1 to 100."),
        (
            {"rejected_threshold": ""},
            "rejected_threshold",
            "Enter a percentage from 1 to 100 (75 is the default).",
        ),
        ({"max_duration_minutes": "0"}, "max_duration_minutes", "Enter at least 1 minute, or leave it empty"),
        ({"recipients": "own"}, "members", "Choose at least one member or enter an address"),
    ],
)
def test_sync_alert_settings_say_what_is_wrong_next_to_the_field(
    owner_client, workspace, values, field, message
):
    sync = SyncFactory(workspace=workspace)
    data = {
        "enabled": "on",
        "recipients": "workspace",
        "rejected_threshold": "75",
        "max_duration_minutes": "45",
    }
    response = owner_client.post(reverse("sync_alerts", args=[workspace.slug, sync.pk]), data | values)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html.split(f'id="id_{field}_error"', 1)[1].split("</small>", 1)[0]
    assert not SyncAlertSettings.objects.for_workspace(workspace).exists()


def test_a_sync_gets_its_own_recipients_threshold_and_limit(owner_client, workspace, owner):
    sync = SyncFactory(workspace=workspace)
    data = {"enabled": "on", "recipients": "own", "members": [owner.pk], "extra_emails": "data@example.com",
            "rejected_threshold": "20", "max_duration_minutes": "45"}  # fmt: skip
    response = owner_client.post(reverse("sync_alerts", args=[workspace.slug, sync.pk]), data)
    assert response.status_code == 302
    own = SyncAlertSettings.objects.for_workspace(workspace).get(sync=sync)
    assert (own.use_workspace_recipients, own.member_ids, own.extra_emails) == (
        False,
        [owner.pk],
        ["data@example.com"],
    )
    assert (own.rejected_threshold, own.max_duration_minutes) == (20, 45)
    overview = owner_client.get(reverse("alert_settings", args=[workspace.slug])).content.decode()
    assert "Its own" in overview and "45 min" in overview and "20%" in overview
