"""Every view refuses a state-changing request without a CSRF token, htmx requests included.

The one exception is the REST API's operations under /api/v1/ (django-ninja marks them csrf_exempt): they
authenticate by the `Authorization: Bearer` header only and ignore the session cookie, so a forged
cross-site request carries no credentials. The tests below hold each of them to exactly that.
"""

import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from apps.syncs.models import Sync, SyncRun
from apps.tenancy.models import Role
from tests.factories import MembershipFactory, SyncRunFactory
from tests.urlwalk import all_routes

# Values for URL kwargs; ids need not exist, the CSRF check runs before the view.
KWARG_VALUES = {"workspace_slug": None, "app_label": "tenancy", "object_id": "1", "token": "x", "key": "x"}
# The admin's catch-all regex has no name and cannot be reversed; it only redirects.
UNREVERSIBLE_ALLOWED = {"admin/(?P<url>.*)$", "admin/^(?P<url>.*)$"}

BEARER_ONLY_PREFIX = "api/v1/"

ROUTES = all_routes()
BEARER_ONLY = [r for r in ROUTES if getattr(r.callback, "csrf_exempt", False)]


def url_of(route, workspace):
    if not route.name:  # unnamed admin redirects: fill the route text itself
        return "/" + re.sub(r"<[^>]+>", "1", route.route)
    kwargs = {}
    for name in route.kwargs:
        value = KWARG_VALUES.get(name, "1")
        kwargs[name] = workspace.slug if name == "workspace_slug" else value
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch:
        return reverse(route.name, kwargs={k: "1" if k != "workspace_slug" else v for k, v in kwargs.items()})


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route)
def test_no_view_is_csrf_exempt_but_the_bearer_token_api(route):
    if getattr(route.callback, "csrf_exempt", False):
        assert route.route.startswith(BEARER_ONLY_PREFIX) and route.name.startswith("api-v1:"), (
            f"{route.route} is csrf_exempt"
        )


def test_the_api_operations_are_the_exempt_ones():
    assert {r.name for r in BEARER_ONLY} >= {"api-v1:sync_list", "api-v1:sync_trigger", "api-v1:sync_run"}
    # The API's description and reference page are ordinary views.
    assert not {r.name for r in BEARER_ONLY} & {"api-v1:openapi-json", "api-v1:openapi-view"}


@pytest.mark.parametrize("route", BEARER_ONLY, ids=lambda r: r.route)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_bearer_only_views_ignore_the_session(route, method, htmx, db):
    """Logged in, with the session cookie and no bearer key: refused (401), or 405 for the wrong method."""
    run = SyncRunFactory(status="succeeded")
    owner = MembershipFactory(workspace=run.workspace, role=Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    ids = {
        "sync_id": run.sync_id,
        "run_id": run.pk,
        "model_id": run.sync.model_id,
        "rest": "no/such/endpoint",
    }
    url = reverse(route.name, kwargs={name: ids[name] for name in route.kwargs})
    response = getattr(client, method)(url, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code in (401, 405)
    if response.status_code == 401:
        assert response.json()["error"] == "missing_api_key"
    assert SyncRun.objects.for_workspace(run.workspace).count() == 1
    assert Sync.objects.for_workspace(run.workspace).get().name == run.sync.name  # nothing changed or deleted


TESTED = [r for r in ROUTES if r.route not in UNREVERSIBLE_ALLOWED and r not in BEARER_ONLY]


def test_only_the_admin_catch_all_is_left_out():
    assert {r.route for r in ROUTES if not r.name and "(?P" in r.route} <= UNREVERSIBLE_ALLOWED


@pytest.mark.parametrize("route", TESTED, ids=lambda r: r.route)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_post_without_token_is_refused(route, htmx, db):
    owner = MembershipFactory(role=Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url_of(route, owner.workspace), {"name": "changed"}, headers=headers)
    assert response.status_code == 403
    assert b"could not verify the request" in response.content


def test_htmx_post_with_the_header_token_passes(db):
    owner = MembershipFactory(role=Role.OWNER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    page = client.get(reverse("workspace_settings", args=[owner.workspace.slug]))
    token = page.cookies["csrftoken"].value
    assert b"hx-headers" in page.content
    response = client.post(
        reverse("workspace_settings", args=[owner.workspace.slug]),
        {"name": "Renamed", "time_zone": "UTC"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 302
    owner.workspace.refresh_from_db()
    assert owner.workspace.name == "Renamed"
