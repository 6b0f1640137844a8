"""Connecting Intercom through the emulator's real OAuth consent page, over HTTP."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from apps.connections.models import Connection, OAuthState
from tests.factories import MembershipFactory

CLIENT_ID, CLIENT_SECRET = "syncline-test", "test-client-secret"


@pytest.fixture
def intercom(intercom_emulator, settings, live_site):
    """Point Syncline at the emulator and register Syncline as its OAuth app."""
    settings.INTERCOM_API_BASE_URLS = intercom_emulator.base_urls
    settings.INTERCOM_APP_BASE_URLS = intercom_emulator.base_urls
    settings.INTERCOM_CLIENT_ID, settings.INTERCOM_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.SITE_URL = live_site
    intercom_emulator.add_oauth_client(CLIENT_ID, CLIENT_SECRET, [live_site + reverse("intercom_callback")])
    return intercom_emulator


@pytest.fixture
def live_site():
    return "http://syncline.test"


def start(client, workspace, region):
    response = client.post(
        reverse("intercom_new", args=[workspace.slug]), {"method": "oauth", "oauth-region": region}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response.url


def consent(authorize_url, *, decision="approve", workspace_id=None):
    """What a person does on Intercom's consent page: pick a workspace, press Approve or Cancel."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200
    html = page.text
    fields = {
        unescape(n): unescape(v) for n, v in re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", html)
    }
    options = re.findall(r"type='radio' name='workspace' value='([^']+)'(?: checked)?>", html)
    fields["workspace"] = workspace_id or options[0]
    fields["decision"] = decision
    action = re.search(r"<form method='post' action='([^']+)'", html).group(1)
    answer = requests.post(
        f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}{action}",
        data=fields,
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"], html


def callback(client, location):
    parts = urlsplit(location)
    assert parts.path == reverse("intercom_callback")
    return client.get(parts.path + "?" + parts.query)


def destinations(workspace):
    return list(Connection.objects.for_workspace(workspace).filter(kind="destination"))


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["US", "EU", "AU"])
def test_oauth_connects_a_workspace_in_each_region(owner_client, workspace, intercom, region):
    acme = intercom.seed_workspace(name=f"Acme {region}", region=region)
    location, _ = consent(start(owner_client, workspace, region))
    response = callback(owner_client, location)
    (connection,) = destinations(workspace)
    assert response.url == reverse("intercom_detail", args=[workspace.slug, connection.pk])
    assert connection.config["region"] == region
    assert connection.config["workspace_id"] == acme.id_code
    assert connection.config["workspace_name"] == f"Acme {region}"
    assert connection.config["auth"] == "oauth"
    assert connection.status == "connected"
    token = connection.credentials["access_token"]
    # The stored token really works, on that region's host.
    with intercom.client(token, region=region) as api:
        assert api.get("/me").json()["app"]["id_code"] == acme.id_code
    page = owner_client.get(response.url).content.decode()
    assert f"Acme {region}" in page and token not in page


@pytest.mark.django_db
def test_an_admin_with_two_workspaces_picks_the_second(owner_client, workspace, intercom):
    intercom.seed_workspace(name="First", region="EU")
    second = intercom.seed_workspace(name="Second", region="EU")
    location, html = consent(start(owner_client, workspace, "EU"), workspace_id=second.id_code)
    assert "First" in html and "Second" in html
    callback(owner_client, location)
    (connection,) = destinations(workspace)
    assert connection.config["workspace_name"] == "Second"


@pytest.mark.django_db
def test_connecting_the_same_workspace_again_updates_it(owner_client, workspace, intercom):
    intercom.seed_workspace(name="Acme", region="US")
    for _ in range(2):
        callback(owner_client, consent(start(owner_client, workspace, "US"))[0])
    assert len(destinations(workspace)) == 1


@pytest.mark.django_db
def test_denied_consent_stores_nothing_and_says_so(owner_client, workspace, intercom):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"), decision="cancel")
    response = callback(owner_client, location)
    assert response.status_code == 400
    assert "cancelled" in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_missing_state_is_refused(owner_client, workspace, intercom):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"))
    response = callback(owner_client, re.sub(r"&?state=[^&]*", "", location))
    assert response.status_code == 400 and "no state" in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_a_state_started_by_someone_else_is_refused(owner_client, workspace, intercom, client):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"))
    mallory = MembershipFactory()
    client.force_login(mallory.user)
    response = callback(client, location)
    assert response.status_code == 400 and "does not match" in response.content.decode()
    assert destinations(workspace) == [] and destinations(mallory.workspace) == []


@pytest.mark.django_db
def test_a_replayed_callback_is_refused(owner_client, workspace, intercom):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"))
    callback(owner_client, location)
    Connection.objects.for_workspace(workspace).delete()
    response = callback(owner_client, location)
    assert response.status_code == 400 and "already used" in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_an_expired_state_is_refused(owner_client, workspace, intercom, settings):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"))
    OAuthState.objects.for_workspace(workspace).update(expires_at="2000-01-01T00:00:00Z")
    response = callback(owner_client, location)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_a_refused_code_exchange_stores_nothing(owner_client, workspace, intercom, settings):
    intercom.seed_workspace(name="Acme", region="US")
    location, _ = consent(start(owner_client, workspace, "US"))
    settings.INTERCOM_CLIENT_SECRET = "wrong-secret"
    response = callback(owner_client, location)
    assert response.status_code == 400 and "refused the authorization code" in response.content.decode()
    assert "wrong-secret" not in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_a_pasted_token_is_checked_and_its_real_region_used(owner_client, workspace, intercom):
    eu = intercom.seed_workspace(name="Acme EU", region="EU")
    data = {"method": "token", "token-region": "US", "token-token": eu.token}
    response = owner_client.post(reverse("intercom_new", args=[workspace.slug]), data)
    (connection,) = destinations(workspace)
    assert connection.config["region"] == "EU" and connection.config["auth"] == "token"
    page = owner_client.get(response.url).content.decode()
    assert "You picked US, but this Intercom workspace is hosted in EU" in page


@pytest.mark.django_db
def test_a_bad_pasted_token_is_refused_next_to_the_field(owner_client, workspace, intercom):
    data = {"method": "token", "token-region": "US", "token-token": "not-a-token"}
    response = owner_client.post(reverse("intercom_new", args=[workspace.slug]), data)
    assert response.status_code == 422
    assert "does not accept this access token" in " ".join(response.context["token_form"].errors["token"])
    assert "not-a-token" not in response.content.decode()
    assert destinations(workspace) == []


@pytest.mark.django_db
def test_test_region_change_reconnect_and_disconnect(owner_client, workspace, intercom):
    acme = intercom.seed_workspace(name="Acme", region="EU")
    owner_client.post(
        reverse("intercom_new", args=[workspace.slug]),
        {"method": "token", "token-region": "EU", "token-token": acme.token},
    )
    (connection,) = destinations(workspace)
    detail = reverse("intercom_detail", args=[workspace.slug, connection.pk])
    owner_client.post(detail, {"region": "US"})  # the wrong region: the token is refused there
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect" and "another region" in connection.status_message
    owner_client.post(detail, {"region": "EU"})
    connection.refresh_from_db()
    assert connection.status == "connected"

    intercom.revoke_token(acme.token)
    owner_client.post(reverse("connection_test", args=[workspace.slug, connection.pk]))
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect"

    fresh = intercom.add_token(acme.id_code)
    owner_client.post(
        reverse("intercom_reconnect", args=[workspace.slug, connection.pk]),
        {"method": "token", "token-region": "EU", "token-token": fresh},
    )
    connection.refresh_from_db()
    assert connection.status == "connected" and connection.credentials["access_token"] == fresh

    owner_client.post(reverse("intercom_disconnect", args=[workspace.slug, connection.pk]))
    connection.refresh_from_db()
    assert connection.credentials is None and connection.status == "needs_reconnect"
