import pytest
from django.urls import reverse

from apps.tenancy.models import Role, Workspace
from tests.factories import MembershipFactory


@pytest.mark.django_db
def test_create_a_second_workspace_and_switch_between_them(owner_client, workspace, owner):
    response = owner_client.post(
        reverse("workspace_create"), {"workspace_name": "Second team", "workspace_slug": "second"}
    )
    assert response.url == reverse("workspace_home", args=["second"])
    page = owner_client.get(response.url).content.decode()
    # The switcher lists both workspaces.
    assert reverse("workspace_home", args=[workspace.slug]) in page
    assert "Second team" in page
    owner_client.get(reverse("workspace_home", args=[workspace.slug]))
    # Home returns to the workspace used last.
    assert owner_client.get(reverse("home")).url == reverse("workspace_home", args=[workspace.slug])


@pytest.mark.django_db
def test_taken_slug_on_workspace_create_keeps_what_was_typed(owner_client, workspace):
    response = owner_client.post(
        reverse("workspace_create"), {"workspace_name": "Copycat", "workspace_slug": workspace.slug}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"The address /w/{workspace.slug}/ is taken" in html
    assert 'value="Copycat"' in html
    assert Workspace.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["connection_list", "model_list", "sync_list", "run_list", "workspace_settings"]
)
def test_every_section_renders_in_the_shell(owner_client, workspace, name):
    html = owner_client.get(reverse(name, args=[workspace.slug])).content.decode()
    for section in ["Connections", "Models", "Syncs", "Runs", "Settings"]:
        assert f">{section}</a>" in html
    assert 'aria-current="page"' in html
    assert "vendor/htmx/htmx.min.js" in html
    assert "X-CSRFToken" in html


@pytest.mark.django_db
def test_viewer_sees_no_edit_controls(client, workspace):
    viewer = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    html = client.get(reverse("workspace_settings", args=[workspace.slug])).content.decode()
    assert "Only owners can rename" in html
    html = client.get(reverse("member_list", args=[workspace.slug])).content.decode()
    assert "<select" not in html and "Remove" not in html


def test_healthz(client, db):
    response = client.get(reverse("healthz"))
    assert response.json() == {"status": "ok", "database": "ok"}
