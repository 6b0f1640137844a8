"""Settings → API keys: who may create and revoke, the secret shown once, and only its hash kept."""

import pytest
from django.urls import reverse

from apps.api.models import ApiKey, hash_secret
from apps.tenancy.models import Role
from tests.api.conftest import ApiClient
from tests.conftest import member_of

pytestmark = pytest.mark.django_db


def page_url(workspace):
    return reverse("settings_api_keys", args=[workspace.slug])


def revoke_url(workspace, api_key):
    return reverse("settings_api_key_revoke", args=[workspace.slug, api_key.pk])


def create(client, workspace, name="Airflow production"):
    return client.post(page_url(workspace), {"name": name})


def secret_on(response) -> str:
    html = response.content.decode()
    start = html.index('id="new-api-key" value="') + len('id="new-api-key" value="')
    return html[start : html.index('"', start)]


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(owner_client, workspace):
    response = create(owner_client, workspace)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = secret_on(response)
    assert secret.startswith("sl_") and len(secret) >= 40
    html = response.content.decode()
    assert "the only time Syncline shows it" in html and ">Copy</button>" in html

    api_key = ApiKey.objects.for_workspace(workspace).get()
    assert api_key.name == "Airflow production"
    assert api_key.secret_hash == hash_secret(secret) != secret
    assert secret.startswith(api_key.prefix) and api_key.prefix != secret

    later = owner_client.get(page_url(workspace)).content.decode()
    assert secret not in later
    assert f"{api_key.prefix}…" in later and "Airflow production" in later and "Never" in later

    assert ApiClient(secret).get("/api/v1/syncs").status_code == 200


def test_an_editor_may_create_and_revoke(client, workspace):
    editor = member_of(workspace, Role.EDITOR)
    client.force_login(editor.user)
    secret = secret_on(create(client, workspace))
    api_key = ApiKey.objects.for_workspace(workspace).get()
    assert api_key.created_by == editor.user

    response = client.post(revoke_url(workspace, api_key), follow=True)
    assert "Key “Airflow production” revoked" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None and api_key.revoked_by == editor.user
    assert ApiClient(secret).get("/api/v1/syncs").status_code == 401
    assert "Revoked" in client.get(page_url(workspace)).content.decode()


def test_revoke_with_htmx_answers_the_list(owner_client, workspace):
    create(owner_client, workspace)
    api_key = ApiKey.objects.for_workspace(workspace).get()
    response = owner_client.post(revoke_url(workspace, api_key), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="api-keys">')
    assert "revoked: requests with it are refused" in html


def test_a_viewer_sees_the_keys_but_no_buttons_and_the_views_refuse(client, workspace, owner_client):
    create(owner_client, workspace)
    api_key = ApiKey.objects.for_workspace(workspace).get()
    client.force_login(member_of(workspace, Role.VIEWER).user)

    html = client.get(page_url(workspace)).content.decode()
    assert "Airflow production" in html and f"{api_key.prefix}…" in html
    assert "Create key" not in html and "Revoke" not in html
    assert "Viewers can see the keys but not create or revoke them." in html

    assert create(client, workspace, name="Mine").status_code == 403
    assert client.post(revoke_url(workspace, api_key)).status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    assert ApiKey.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "Name the key after where it will be used"),
        ("Airflow production", "An active key is already named “Airflow production”"),
    ],
)
def test_a_bad_name_is_explained_next_to_the_field(owner_client, workspace, name, error):
    create(owner_client, workspace)
    response = create(owner_client, workspace, name=name)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="field-error"' in html and error in html
    assert "new-api-key" not in html
    assert ApiKey.objects.for_workspace(workspace).count() == 1


def test_a_revoked_keys_name_can_be_used_again(owner_client, workspace):
    create(owner_client, workspace)
    owner_client.post(revoke_url(workspace, ApiKey.objects.for_workspace(workspace).get()))
    assert create(owner_client, workspace).status_code == 201
    assert ApiKey.objects.for_workspace(workspace).count() == 2


def test_the_page_links_the_reference_and_shows_how_to_call(owner_client, workspace):
    html = owner_client.get(page_url(workspace)).content.decode()
    assert 'href="/api/v1/docs"' in html and 'href="/api/v1/openapi.json"' in html
    assert "http://testserver/api/v1/syncs/<var>SYNC_ID</var>/trigger" in html
    assert 'aria-current="page">API keys</a>' in html


def test_a_viewer_key_is_made_on_the_page_and_only_reads(owner_client, workspace):
    from tests.factories import SyncFactory

    response = owner_client.post(page_url(workspace), {"name": "Grafana", "role": "viewer"})
    assert response.status_code == 201
    api_key = ApiKey.objects.for_workspace(workspace).get()
    assert api_key.role == Role.VIEWER
    html = owner_client.get(page_url(workspace)).content.decode()
    assert 'Viewer <span class="muted">(read only)</span>' in html

    viewer = ApiClient(secret_on(response))
    sync = SyncFactory(workspace=workspace)
    assert viewer.get("/api/v1/syncs").status_code == 200
    refused = viewer.post(f"/api/v1/syncs/{sync.pk}/trigger")
    assert refused.status_code == 403
    assert "“Grafana” is a viewer key" in refused.json()["message"]


def test_a_key_made_without_a_role_is_an_editor_key_as_keys_always_were(owner_client, workspace):
    assert create(owner_client, workspace).status_code == 201
    assert ApiKey.objects.for_workspace(workspace).get().role == Role.EDITOR


def test_an_unknown_role_is_refused_next_to_the_field(owner_client, workspace):
    response = owner_client.post(page_url(workspace), {"name": "Root", "role": "owner"})
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.for_workspace(workspace).exists()
