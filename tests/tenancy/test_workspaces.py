import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.syncs.models import RunStatus
from apps.tenancy.models import Role, Workspace
from tests.factories import MembershipFactory, SyncFactory, SyncRunFactory


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
    assert "Only owners can change these settings" in html and 'name="time_zone"' not in html
    html = client.get(reverse("member_list", args=[workspace.slug])).content.decode()
    assert "<select" not in html and "Remove" not in html


def test_healthz(client, db):
    response = client.get(reverse("healthz"))
    assert response.json() == {"status": "ok", "database": "ok"}


# --- the workspace's time zone ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_sets_the_time_zone_and_pages_show_times_in_it(owner_client, workspace):
    settings_url = reverse("workspace_settings", args=[workspace.slug])
    page = owner_client.get(settings_url).content.decode()
    assert 'value="UTC"' in page and '<option value="Europe/Paris">' in page

    response = owner_client.post(settings_url, {"name": workspace.name, "time_zone": " Europe/Paris "})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.time_zone == "Europe/Paris"

    sync = SyncFactory(workspace=workspace)
    with time_machine.travel(datetime(2026, 7, 1, 21, 30, tzinfo=UTC), tick=False):
        run = SyncRunFactory(workspace=workspace, sync=sync, status=RunStatus.QUEUED)
    page = owner_client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()
    assert "Jul 1, 2026, 23:30:00" in page and "Times in Europe/Paris." in page  # summer time: UTC+2


@pytest.mark.django_db
def test_a_wrong_time_zone_is_refused_next_to_the_field_and_keeps_the_rest(owner_client, workspace):
    response = owner_client.post(
        reverse("workspace_settings", args=[workspace.slug]),
        {"name": "New name", "time_zone": "Europe/Pariss"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "“Europe/Pariss” is not a time zone: use an IANA name such as Europe/Paris" in html
    assert 'value="New name"' in html  # the name typed is kept (the zone is a picker: no typo to keep)
    workspace.refresh_from_db()
    assert workspace.name != "New name" and workspace.time_zone == "UTC"  # nothing saved


@pytest.mark.django_db
def test_one_workspaces_zone_does_not_leak_into_the_next_request(owner_client, workspace, owner):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    other = MembershipFactory(user=owner, role=Role.OWNER).workspace  # in UTC
    with time_machine.travel(datetime(2026, 7, 1, 21, 30, tzinfo=UTC), tick=False):
        run = SyncRunFactory(workspace=other, sync=SyncFactory(workspace=other), status=RunStatus.QUEUED)

    owner_client.get(reverse("workspace_home", args=[workspace.slug]))
    assert timezone.get_current_timezone_name() == "UTC"  # reset once the response is made
    page = owner_client.get(reverse("run_detail", args=[other.slug, run.pk])).content.decode()
    assert "Jul 1, 2026, 21:30:00" in page and "Times in UTC." in page  # not Tokyo's Jul 2, 06:30


@pytest.mark.django_db
def test_a_zone_that_is_not_one_shows_utc_instead_of_breaking_the_workspace(owner_client, workspace):
    Workspace.objects.filter(pk=workspace.pk).update(time_zone="Mars/Olympus")  # around the validator
    assert owner_client.get(reverse("workspace_home", args=[workspace.slug])).status_code == 200
    workspace.refresh_from_db()
    with pytest.raises(ValidationError, match="is not a time zone"):
        workspace.full_clean()


@pytest.mark.django_db
def test_the_time_zone_is_a_picker_of_iana_zones_with_the_current_one_selected(owner_client, workspace):
    workspace.time_zone = "America/New_York"
    workspace.save()
    html = owner_client.get(reverse("workspace_settings", args=[workspace.slug])).content.decode()
    select = re.search(r'<select[^>]*name="time_zone"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the time zone is a <select>, not a text field"
    options = re.findall(r'<option value="([^"]+)"', select.group(1))
    assert len(options) > 400 and "UTC" in options and "Europe/Paris" in options and "Asia/Kolkata" in options
    assert re.search(
        r'<option value="America/New_York" selected>America/New_York \(UTC-0[45]:00\)</option>', html
    )
    assert '<optgroup label="Europe">' in select.group(1)
    # A zone saved before, outside the main areas, stays selectable and saves.
    response = owner_client.post(
        reverse("workspace_settings", args=[workspace.slug]),
        {"name": workspace.name, "time_zone": "US/Eastern"},
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.time_zone == "US/Eastern"
