"""Every workspace URL, enumerated from the URLconf: outsiders get 404, viewers cannot change anything.

A new workspace URL is covered without editing this file; if it takes an id this file does not know,
the test fails and asks for an object of that kind in OBJECT_FACTORIES.
"""

import re

import pytest
from django.urls import reverse

from apps.api.services import api_key_create
from apps.syncs.models import SyncPreviewRun
from apps.syncs.runs.preview_runs import preview_config
from apps.tenancy import services
from apps.tenancy.models import Role
from tests.alerts.factories import WebhookEndpointFactory
from tests.factories import (
    DbtModelFactory,
    DbtProjectFactory,
    IntercomConnectionFactory,
    MembershipFactory,
    SourceConnectionFactory,
    SqlModelFactory,
    SyncFactory,
    SyncRunFactory,
    UserFactory,
)
from tests.urlwalk import workspace_routes

# For each URL kwarg that names a workspace object: make one inside the given workspace, return its id.
OBJECT_FACTORIES = {
    "membership_id": lambda ws: MembershipFactory(workspace=ws, role=Role.EDITOR).pk,
    "invitation_id": lambda ws: (
        services.invitation_create(
            workspace=ws, invited_by=UserFactory(), email="invitee@example.com", role=Role.EDITOR
        ).pk
    ),
    "connection_id": lambda ws: SourceConnectionFactory(workspace=ws).pk,
    "model_id": lambda ws: SqlModelFactory(workspace=ws).pk,
    "dbt_project_id": lambda ws: DbtProjectFactory(workspace=ws, manifest_path="shop/manifest.json").pk,
    "dbt_model_id": lambda ws: DbtModelFactory(workspace=ws).pk,
    "destination_id": lambda ws: IntercomConnectionFactory(workspace=ws).pk,
    "sync_id": lambda ws: SyncFactory(workspace=ws).pk,
    "run_id": lambda ws: SyncRunFactory(workspace=ws, status="running").pk,
    "webhook_id": lambda ws: WebhookEndpointFactory(workspace=ws).pk,
    "api_key_id": lambda ws: api_key_create(workspace=ws, user=None, name="Pipeline")[0].pk,
    "preview_id": lambda ws: (
        SyncPreviewRun.objects.for_workspace(ws)
        .create(workspace=ws, sync=(sync := SyncFactory(workspace=ws)), config=preview_config(sync))
        .pk
    ),
}
# URL kwargs that name no object: the same value in every workspace.
PLAIN_KWARGS = {"step": "data"}  # a step of the sync wizard

ROUTES = workspace_routes()


def url_for(route, workspace_slug, objects):
    kwargs = {"workspace_slug": workspace_slug}
    for name in route.kwargs:
        if name == "workspace_slug":
            continue
        if name in PLAIN_KWARGS:
            kwargs[name] = PLAIN_KWARGS[name]
            continue
        if name not in objects:
            pytest.fail(f"{route.route}: add a factory for URL kwarg {name!r} to OBJECT_FACTORIES")
        kwargs[name] = objects[name]
    return reverse(route.name, kwargs=kwargs)


@pytest.fixture
def target(workspace):
    """Workspace A with one object of every kind a URL can name."""
    return workspace, {name: make(workspace) for name, make in OBJECT_FACTORIES.items()}


@pytest.fixture
def outsider_client(client):
    """Logged in as the owner of workspace B, a member of nothing else."""
    outsider = MembershipFactory(role=Role.OWNER)
    client.force_login(outsider.user)
    client.outsider_workspace = outsider.workspace
    return client


def test_routes_were_found():
    names = {r.name for r in ROUTES}
    assert {"workspace_home", "member_list", "workspace_leave", "sync_list"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
def test_every_workspace_view_checks_membership(route):
    assert hasattr(route.callback, "workspace_write_role"), (
        f"{route.route} is under /w/<slug>/ but not wrapped in @workspace_view"
    )


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404(route, method, target, outsider_client):
    workspace, objects = target
    response = getattr(outsider_client, method)(url_for(route, workspace.slug, objects))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if set(r.kwargs) - {"workspace_slug", *PLAIN_KWARGS}], ids=lambda r: r.route
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_objects_of_another_workspace_are_404_under_your_own_slug(route, method, target, outsider_client):
    _, objects = target  # ids from workspace A, requested under B's slug
    url = url_for(route, outsider_client.outsider_workspace.slug, objects)
    allowed = route.callback.workspace_methods
    # A GET on a POST-only action is 405 whatever the id, so it tells nothing about A's objects.
    expected = 405 if allowed and method.upper() not in allowed else 404
    assert getattr(outsider_client, method)(url).status_code == expected


def test_missing_and_not_yours_are_the_same_404(target, outsider_client):
    workspace, _ = target
    not_yours = outsider_client.get(reverse("workspace_home", args=[workspace.slug]))
    missing = outsider_client.get(reverse("workspace_home", args=["no-such-workspace"]))
    assert not_yours.status_code == missing.status_code == 404
    masked_token = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert masked_token.sub(b"", not_yours.content) == masked_token.sub(b"", missing.content)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
def test_viewer_cannot_change_anything(route, target, client):
    workspace, objects = target
    viewer = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    response = client.post(url_for(route, workspace.slug, objects), {"name": "changed", "role": "owner"})
    if Role(route.callback.workspace_write_role) == Role.VIEWER:
        assert response.status_code in (200, 302), "a viewer may do this (e.g. leave the workspace)"
    else:
        assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.name != "changed"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
def test_viewer_can_look(route, target, client):
    workspace, objects = target
    viewer = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    response = client.get(url_for(route, workspace.slug, objects))
    if Role(route.callback.workspace_read_role) != Role.VIEWER:  # a page only for changing (the sync wizard)
        assert response.status_code == 403
        return
    # 405: a POST-only action; anything else a viewer may read. A preview page sends the browser on to
    # the preview it started, at its own address.
    if response.status_code == 302:
        assert response.url.startswith(url_for(route, workspace.slug, objects) + "?preview=")
        response = client.get(response.url)
    assert response.status_code in (200, 405)


def test_anonymous_is_sent_to_login(target, client):
    workspace, _ = target
    response = client.get(reverse("workspace_home", args=[workspace.slug]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
