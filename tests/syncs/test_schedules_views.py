"""The schedule page and the sync page's schedule card, through the test client."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.syncs.models import Sync
from apps.syncs.schedules import services as scheduling
from apps.syncs.schedules.compute import Schedule, ScheduleKind
from apps.tenancy.models import Role, Workspace
from tests.conftest import member_of
from tests.factories import SyncFactory
from tests.fixtures.migrations import apply_migration_again

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
NOW = datetime(2024, 12, 2, 5, 0, tzinfo=UTC)  # Monday 2 December 2024, 06:00 in Paris


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sync(workspace):
    return SyncFactory(workspace=workspace, name="Users to Intercom")


def url(name, workspace, *args):
    return reverse(name, args=[workspace.slug, *args])


def form(**values):
    data = {"kind": "manual", "every_minutes": "60", "minute": "0", "weekday": "0", "at": "09:00", "cron": "",
            "timezone": "UTC", "after": ""}  # fmt: skip
    return data | values


def error_of(html: str, field: str) -> str:
    """The error shown next to a field (includes/field.html puts it right after the input)."""
    found = re.search(rf'id="id_{field}_error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def reload(sync) -> Sync:
    return Sync.objects.for_workspace(sync.workspace).get(pk=sync.pk)


# --- saving -------------------------------------------------------------------------------------------


def test_save_a_daily_schedule_and_see_the_next_run_on_the_sync_page(owner_client, workspace, sync):
    page = owner_client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    assert re.search(r'value="manual"[^>]*checked', page)  # a new sync is manual
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="daily", at="09:00", timezone="Europe/Paris")
    )
    assert response.status_code == 302 and response.url == url("sync_detail", workspace, sync.pk)
    saved = reload(sync)
    assert (saved.schedule_kind, saved.schedule_at, saved.schedule_timezone) == (
        "daily",
        time(9),
        "Europe/Paris",
    )
    assert saved.next_run_at == datetime(2024, 12, 2, 8, 0, tzinfo=UTC)

    detail = owner_client.get(response.url).content.decode()
    assert "Schedule saved: “Users to Intercom” runs daily at 09:00." in detail
    assert "Daily at 09:00" in detail
    assert "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)" in detail
    assert "Edit schedule" in detail


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ({"kind": "interval", "every_minutes": "15"}, {"schedule_every_minutes": 15}),
        ({"kind": "hourly", "minute": "30", "timezone": "Asia/Kolkata"}, {"schedule_minute": 30}),
        (
            {"kind": "weekly", "weekday": "4", "at": "17:30", "timezone": "America/New_York"},
            {"schedule_weekday": 4, "schedule_at": time(17, 30)},
        ),
        (
            {"kind": "cron", "cron": " 0  9 * * 1-5 ", "timezone": "Europe/Paris"},
            {"schedule_cron": "0 9 * * 1-5"},
        ),
        ({"kind": "manual"}, {"next_run_at": None}),
    ],
)
def test_every_kind_can_be_saved(owner_client, workspace, sync, values, stored):
    response = owner_client.post(url("sync_schedule", workspace, sync.pk), form(**values))
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = reload(sync)
    assert saved.schedule_kind == values["kind"]
    assert {field: getattr(saved, field) for field in stored} == stored
    assert (saved.next_run_at is None) is (values["kind"] == "manual")


def test_save_a_sequence(owner_client, workspace, sync):
    leader = SyncFactory(workspace=workspace, name="Accounts")
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="after_sync", after=leader.pk)
    )
    assert response.status_code == 302
    assert reload(sync).schedule_after == leader
    detail = owner_client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert "After <a" in detail and "Accounts</a> succeeds" in detail
    leader_page = owner_client.get(url("sync_detail", workspace, leader.pk)).content.decode()
    assert "Users to Intercom</a> runs after this sync succeeds" in leader_page


def test_settings_of_a_kind_not_chosen_do_not_block_saving(owner_client, workspace, sync):
    data = form(kind="daily", at="07:15", every_minutes="abc", minute="99", cron="nonsense", after="999999")
    assert owner_client.post(url("sync_schedule", workspace, sync.pk), data).status_code == 302
    saved = reload(sync)
    assert (saved.schedule_kind, saved.schedule_at, saved.schedule_every_minutes) == (
        "daily",
        time(7, 15),
        None,
    )


# --- errors next to their field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"kind": "cron", "cron": "61 9 * * *"}, "cron", "Bad minute"),
        ({"kind": "cron", "cron": "0 9 * *"}, "cron", "five fields"),
        ({"kind": "interval", "every_minutes": "0"}, "every_minutes", "from 1 to"),
        ({"kind": "interval", "every_minutes": "ten"}, "every_minutes", "whole number"),
        ({"kind": "interval", "every_minutes": ""}, "every_minutes", "how many minutes"),
        ({"kind": "cron", "cron": ""}, "cron", "Enter a cron expression"),
        ({"kind": "daily", "at": "25:00"}, "at", "valid time"),
        ({"kind": "daily", "timezone": "Europe/Pariss"}, "timezone", "not a time zone"),
        ({"kind": "after_sync", "after": ""}, "after", "Choose the sync"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_kept(owner_client, workspace, sync, values, field, words):
    response = owner_client.post(url("sync_schedule", workspace, sync.pk), form(**values))
    assert response.status_code == 422
    html = response.content.decode()
    assert words in error_of(html, field)
    typed = values.get(field)
    if typed and field != "timezone":  # the zone is a picker: a crafted name has no option to keep
        assert f'value="{typed}"' in html  # what was typed is still there
    assert reload(sync).schedule_kind == "manual"


def test_a_sync_cannot_follow_itself_through_the_form(owner_client, workspace, sync):
    html = owner_client.post(url("sync_schedule", workspace, sync.pk), form(kind="after_sync", after=sync.pk))
    assert "cannot run after itself" in error_of(html.content.decode(), "after")


def test_a_loop_is_refused_through_the_form(owner_client, workspace, sync):
    other = SyncFactory(workspace=workspace, name="Accounts")
    scheduling.sync_schedule_set(
        workspace=workspace, sync=other, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=sync
    )
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="after_sync", after=other.pk)
    )
    assert response.status_code == 422
    assert "would make a loop" in error_of(response.content.decode(), "after")


def test_a_sync_of_another_workspace_is_refused(owner_client, workspace, sync):
    foreign = SyncFactory(name="Theirs")
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="after_sync", after=foreign.pk)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert error_of(html, "after") == "There is no such sync in this workspace."
    assert "Theirs" not in html


def test_the_list_of_syncs_to_follow_is_this_workspaces_others(owner_client, workspace, sync):
    SyncFactory(workspace=workspace, name="Accounts")
    SyncFactory(name="Theirs")
    html = owner_client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    select = re.search(r'<select name="after".*?</select>', html, re.S).group(0)
    assert "Accounts" in select and "Users to Intercom" not in select and "Theirs" not in select


# --- htmx ---------------------------------------------------------------------------------------------


def test_htmx_preview_shows_the_next_runs_without_saving(owner_client, workspace, sync):
    data = form(kind="cron", cron="0 9 * * 1-5", timezone="Europe/Paris", action="preview")
    response = owner_client.post(url("sync_schedule", workspace, sync.pk), data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)" in html and "Tue, Dec 3, 09:00 Europe/Paris" in html
    assert reload(sync).schedule_kind == "manual"

    bad = owner_client.post(
        url("sync_schedule", workspace, sync.pk), data | {"cron": "0 9 * *"}, headers=HTMX
    )
    assert "Cron expression: A cron expression has five fields" in bad.content.decode()
    loop = owner_client.post(
        url("sync_schedule", workspace, sync.pk),
        data | {"kind": "after_sync", "after": sync.pk},
        headers=HTMX,
    )
    assert "After this sync succeeds: A sync cannot run after itself" in loop.content.decode()


def test_htmx_errors_come_back_as_the_form_alone(owner_client, workspace, sync):
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="cron", cron="bad"), headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 422 and "<html" not in html and html.lstrip().startswith("<form")
    assert "five fields" in error_of(html, "cron")


def test_htmx_save_redirects_the_browser(owner_client, workspace, sync):
    response = owner_client.post(
        url("sync_schedule", workspace, sync.pk), form(kind="interval", every_minutes="30"), headers=HTMX
    )
    assert response.headers["HX-Redirect"] == url("sync_detail", workspace, sync.pk)


# --- who sees what ------------------------------------------------------------------------------------


def test_a_viewer_sees_the_schedule_read_only(client, workspace, sync):
    scheduling.sync_schedule_set(
        workspace=workspace,
        sync=sync,
        schedule=Schedule(ScheduleKind.WEEKLY, weekday=0, at=time(9), timezone="Europe/Paris"),
    )
    client.force_login(member_of(workspace, Role.VIEWER).user)
    page = client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    assert "Weekly on Monday at 09:00" in page and "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)" in page
    assert 'name="kind"' not in page and "Save schedule" not in page
    assert client.post(url("sync_schedule", workspace, sync.pk), form(kind="manual")).status_code == 403
    detail = client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert "Weekly on Monday at 09:00" in detail and "Edit schedule" not in detail


def test_a_paused_sync_shows_no_next_run(owner_client, workspace, sync):
    scheduling.sync_schedule_set(
        workspace=workspace, sync=sync, schedule=Schedule(ScheduleKind.INTERVAL, every_minutes=5)
    )
    Sync.objects.for_workspace(workspace).filter(pk=sync.pk).update(paused=True)
    detail = owner_client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert "None while the sync is paused" in detail
    page = owner_client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    assert "schedules skip it until it is resumed" in page


def test_a_new_schedule_starts_in_the_workspaces_zone_an_existing_one_keeps_its_own(
    owner_client, workspace, sync
):
    workspace.time_zone = "America/New_York"
    workspace.save()
    page = owner_client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    assert re.search(r'<option value="America/New_York" selected>', page)
    scheduling.sync_schedule_set(
        workspace=workspace,
        sync=sync,
        schedule=Schedule(ScheduleKind.DAILY, at=time(9), timezone="Europe/Paris"),
    )
    page = owner_client.get(url("sync_schedule", workspace, sync.pk)).content.decode()
    assert re.search(r'<option value="Europe/Paris" selected>', page)


def test_the_upgrade_seeds_each_workspaces_zone_from_its_last_saved_schedule(workspace):
    paris = SyncFactory(workspace=workspace, schedule_kind="daily", schedule_timezone="Europe/Paris")
    york = SyncFactory(workspace=workspace, schedule_kind="cron", schedule_timezone="America/New_York")
    SyncFactory(workspace=workspace, schedule_kind="manual", schedule_timezone="Asia/Tokyo")  # no zone in use
    syncs = Sync.objects.for_workspace(workspace)
    syncs.filter(pk=paris.pk).update(updated_at=timezone.now() - timedelta(days=2))
    syncs.filter(pk=york.pk).update(updated_at=timezone.now() - timedelta(days=1))  # saved last
    manual_only = SyncFactory(schedule_kind="manual", schedule_timezone="Europe/Berlin").workspace
    chosen = SyncFactory(schedule_kind="daily", schedule_timezone="Europe/Paris").workspace
    Workspace.objects.filter(pk=chosen.pk).update(time_zone="Asia/Tokyo")  # already set by an owner

    apply_migration_again("syncs", "0010_seed_workspace_time_zones")

    zones = dict(Workspace.objects.values_list("pk", "time_zone"))
    assert (zones[workspace.pk], zones[manual_only.pk], zones[chosen.pk]) == (
        "America/New_York",
        "UTC",
        "Asia/Tokyo",
    )


def test_choosing_cron_asks_for_the_expression_without_an_error_until_one_is_typed(
    owner_client, workspace, sync
):
    data = form(kind="cron", cron="", timezone="Europe/Paris", action="preview")
    html = owner_client.post(url("sync_schedule", workspace, sync.pk), data, headers=HTMX).content.decode()
    assert "Fill in “Cron expression” to see the next runs." in html
    assert "field-error" not in html and "Enter a cron expression" not in html
    typed = owner_client.post(
        url("sync_schedule", workspace, sync.pk), data | {"cron": "0 9 *"}, headers=HTMX
    )
    assert "Cron expression: A cron expression has five fields" in typed.content.decode()
    # Saving with nothing typed is still refused at the field.
    saved = owner_client.post(url("sync_schedule", workspace, sync.pk), form(kind="cron", cron=""))
    assert saved.status_code == 422 and "Enter a cron expression" in error_of(saved.content.decode(), "cron")
