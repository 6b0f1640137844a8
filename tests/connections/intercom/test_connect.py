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
    response = owner_client.post(detail, {"region": "US"})  # the wrong region: the token is refused there
    assert response.status_code == 422
    connection.refresh_from_db()
    assert connection.config["region"] == "EU" and connection.status == "connected"  # not saved
    owner_client.post(detail, {"region": "AU"}, follow=True)
    connection.refresh_from_db()
    assert connection.config["region"] == "EU" and connection.status == "connected"

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


@pytest.mark.django_db
def test_a_region_change_that_fails_its_test_is_not_saved_and_says_where_to_check(
    owner_client, workspace, intercom
):
    acme = intercom.seed_workspace(name="Acme", region="EU")
    owner_client.post(
        reverse("intercom_new", args=[workspace.slug]),
        {"method": "token", "token-region": "EU", "token-token": acme.token},
    )
    (connection,) = destinations(workspace)
    detail = reverse("intercom_detail", args=[workspace.slug, connection.pk])
    before = (connection.config, connection.status, connection.status_message, connection.updated_at)

    response = owner_client.post(detail, {"region": "AU"})

    assert response.status_code == 422
    (message,) = response.context["region_form"].errors["region"]
    au_host = intercom.base_urls["AU"].split("://", 1)[1]
    assert message.startswith(
        "Region not changed (still EU): Intercom refused this connection's access token in AU"
    )
    assert f"({au_host})" in message and "data host region" in message and "app.eu.intercom.com" in message
    assert message in unescape(response.content.decode())
    assert acme.token not in response.content.decode()
    connection.refresh_from_db()
    assert (connection.config, connection.status, connection.status_message, connection.updated_at) == before

    # A region that works is saved, and said so.
    response = owner_client.post(detail, {"region": "EU"}, follow=True)
    assert "Region set to EU; the connection works there." in response.content.decode()


@pytest.mark.django_db
def test_a_test_in_the_wrong_region_says_check_the_region_not_reconnect(owner_client, workspace, intercom):
    acme = intercom.seed_workspace(name="Acme", region="EU")
    owner_client.post(
        reverse("intercom_new", args=[workspace.slug]),
        {"method": "token", "token-region": "EU", "token-token": acme.token},
    )
    (connection,) = destinations(workspace)
    connection.config = {**connection.config, "region": "US"}  # e.g. saved before regions were checked
    connection.save()
    owner_client.post(reverse("connection_test", args=[workspace.slug, connection.pk]))
    connection.refresh_from_db()
    assert connection.status == "failing"
    assert "in the US region" in connection.status_message and "accepts it in EU" in connection.status_message
    assert "check the data host region" in connection.status_message
    assert "reconnect" not in connection.status_message.lower()

    # A revoked token is still a reconnect.
    intercom.revoke_token(acme.token)
    owner_client.post(reverse("connection_test", args=[workspace.slug, connection.pk]))
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect" and "Reconnect" in connection.status_message


@pytest.mark.django_db
def test_the_connect_screen_lists_the_permissions_and_why_before_consent(owner_client, workspace, intercom):
    from apps.connections.intercom.permissions import PERMISSIONS

    response = owner_client.get(reverse("intercom_new", args=[workspace.slug]))
    page = unescape(response.content.decode())
    for permission in PERMISSIONS:
        assert permission.name in page and permission.why.split(",")[0] in page
    assert workspace.name in page and "Continue to Intercom" in page
    # Nothing is started by looking at it: the consent page comes only after "Continue".
    assert not OAuthState.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_reconnect_shows_the_permissions_screen_first_then_the_picked_region(
    owner_client, workspace, intercom
):
    acme = intercom.seed_workspace(name="Acme Europe", region="EU")
    owner_client.post(
        reverse("intercom_new", args=[workspace.slug]),
        {"method": "token", "token-region": "EU", "token-token": acme.token},
    )
    (connection,) = destinations(workspace)
    url = reverse("intercom_reconnect", args=[workspace.slug, connection.pk])
    page = unescape(owner_client.get(url).content.decode())
    assert "Reconnect Acme Europe" in page and "Read one admin" in page and "Continue to Intercom" in page
    assert not OAuthState.objects.for_workspace(workspace).exists()
    response = owner_client.post(url, {"method": "oauth", "oauth-region": "EU"})
    assert response.status_code == 302 and response["Location"].startswith(
        intercom.base_urls["EU"] + "/oauth"
    )
