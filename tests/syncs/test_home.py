"""The home page: the five steps on a new workspace; then what needs attention, records synced per day and
every sync with its last run and next run."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.syncs.models import SyncRun
from apps.syncs.selectors import records_synced_per_day
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import (
    IntercomConnectionFactory,
    SourceConnectionFactory,
    SqlModelFactory,
    SyncFactory,
    SyncRunFactory,
)
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db


def home(client, workspace):
    return client.get(reverse("workspace_home", args=[workspace.slug])).content.decode()


def test_an_empty_workspace_shows_the_five_steps_each_linking_to_its_page(owner_client, workspace):
    html = home(owner_client, workspace)
    slug = workspace.slug
    for link, step in [
        (f"/w/{slug}/connections/intercom/new/", "Connect Intercom"),
        (f"/w/{slug}/connections/sources/new/", "Connect your warehouse"),
        (f"/w/{slug}/models/new/", "Write a model"),
        (f"/w/{slug}/syncs/new/", "Create a sync"),
        (f"/w/{slug}/runs/", "Confirm the data arrived"),
    ]:
        assert f'<a href="{link}"><strong>{step}</strong></a>' in html
    assert 'class="done"' not in html and "0 of 5 steps done" in html
    assert "Records synced per day" not in html


def test_each_step_is_ticked_when_done(owner_client, workspace):
    IntercomConnectionFactory(workspace=workspace)
    source = SourceConnectionFactory(workspace=workspace)
    html = home(owner_client, workspace)
    assert html.count('class="done"') == 2 and "2 of 5 done" in html

    model = SqlModelFactory(workspace=workspace, source=source)
    sync = SyncFactory(workspace=workspace, model=model)
    html = home(owner_client, workspace)
    assert html.count('class="done"') == 4 and "Records synced per day" in html  # the dashboard begins

    run = SyncRunFactory(workspace=workspace, sync=sync)
    html = home(owner_client, workspace)
    assert "Getting started" not in html  # all five done: the checklist goes away
    assert f'href="/w/{workspace.slug}/runs/{run.pk}/"' in html


def test_connections_to_reconnect_and_failing_syncs_come_first(
    owner_client, workspace, warehouse, destination
):
    warehouse.table("people", "email VARCHAR, name VARCHAR", [("a@example.com", "A")])
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
        name="People",
    )
    SyncRunFactory(workspace=workspace, sync=sync, status="succeeded", counts={"created": 5})
    SyncRunFactory(
        workspace=workspace, sync=sync, status="partially_failed", counts={"updated": 7, "rejected": 2}
    )
    healthy = SyncFactory(workspace=workspace, name="Companies")
    SyncRunFactory(workspace=workspace, sync=healthy, counts={"unchanged": 40})
    IntercomConnectionFactory(
        workspace=workspace,
        name="Old Intercom",
        status="needs_reconnect",
        status_message="Intercom refused the access token",
    )
    html = home(owner_client, workspace)
    attention = html.index("Needs attention")
    assert attention < html.index("Records synced per day") < html.index("<table>")
    assert "Old Intercom" in html[attention:] and "Needs reconnect" in html
    assert "People</a>: last run" in html and "Companies</a>: last run" not in html
    assert "7 updated · 2 rejected" in html  # the last run's result, in the list and in the warning
    assert "40 unchanged, nothing to send" in html
    assert "1 failing" in html


def test_the_chart_has_a_bar_a_day_with_its_figures(owner_client, workspace):
    sync = SyncFactory(workspace=workspace)
    SyncRunFactory(workspace=workspace, sync=sync, counts={"created": 1200, "updated": 34, "unchanged": 9})
    SyncRunFactory(workspace=workspace, sync=sync, counts={"rejected": 3, "updated": 1})
    html = home(owner_client, workspace)
    today = timezone.localdate().strftime("%b %-d")
    assert html.count('<g class="bar">') == 30
    assert f"<title>{today}: 1,235 records synced</title>" in html  # on hover
    assert f'<tr><td>{today}</td><td class="num">1,235</td></tr>' in html  # the table fallback
    # For screen readers, the chart is a sentence (the bars, links for the mouse, are hidden from them).
    assert '<p class="visually-hidden">Records synced per day over the last 30 days: 1,235 in all' in html
    assert '<svg class="bars"' in html and 'aria-hidden="true">' in html
    assert "peak 1,235 records a day" in html


def test_no_records_yet_says_so_instead_of_an_empty_chart(owner_client, workspace):
    SyncRunFactory(workspace=workspace, counts={"unchanged": 3})
    html = home(owner_client, workspace)
    assert "No records synced in the last 30 days." in html and '<g class="bar">' not in html


def test_records_per_day_are_summed_by_day_within_the_workspace(workspace):
    sync = SyncFactory(workspace=workspace)
    now = timezone.now()
    for days_ago, counts in [
        (0, {"created": 2, "sent": 1}),
        (0, {"archived": 4, "rejected": 9}),
        (3, {"deleted": 5, "unchanged": 100}),
        (30, {"created": 1000}),
    ]:
        run = SyncRunFactory(workspace=workspace, sync=sync, counts=counts)
        SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(
            created_at=now - timedelta(days=days_ago)
        )
    SyncRunFactory(counts={"created": 77})  # another workspace
    per_day = dict(records_synced_per_day(workspace=workspace))
    today = timezone.localdate()
    assert len(per_day) == 30 and min(per_day) == today - timedelta(days=29)
    assert per_day[today] == 7 and per_day[today - timedelta(days=3)] == 5
    assert sum(per_day.values()) == 12  # the run 30 days ago is outside the window


def test_next_run_reads_the_schedule_when_there_is_one():
    in_an_hour = timezone.now() + timedelta(hours=1, minutes=1)
    daily = {"schedule_kind": "daily", "schedule_timezone": "Europe/Paris"}
    scheduled = render_to_string(
        "syncs/includes/next_run.html",
        {"sync": SimpleNamespace(paused=False, next_run_at=in_an_hour, **daily)},
    )
    assert "in 1\xa0hour</time>" in scheduled and "Europe/Paris" in scheduled  # the exact time, on hover
    after = SimpleNamespace(
        paused=False,
        next_run_at=None,
        schedule_kind="after_sync",
        schedule_after=SimpleNamespace(name="Companies"),
    )
    assert "After Companies succeeds" in render_to_string("syncs/includes/next_run.html", {"sync": after})
    manual = render_to_string("syncs/includes/next_run.html", {"sync": SimpleNamespace(paused=False)})
    assert "Manual" in manual
    paused = render_to_string(
        "syncs/includes/next_run.html", {"sync": SimpleNamespace(paused=True, next_run_at=in_an_hour)}
    )
    assert "Paused" in paused and "from now" not in paused


def test_viewers_see_the_dashboard_without_buttons(client, workspace):
    SyncRunFactory(workspace=workspace)
    client.force_login(member_of(workspace, Role.VIEWER).user)
    html = home(client, workspace)
    assert "Records synced per day" in html and "New sync" not in html


def test_home_queries_do_not_grow_with_syncs_and_runs(owner_client, workspace):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            home(owner_client, workspace)
        return len(captured)

    sync = SyncFactory(workspace=workspace)
    SyncRunFactory(workspace=workspace, sync=sync)
    home(owner_client, workspace)  # the first request of a session remembers the workspace
    few = queries()
    for _ in range(20):
        other = SyncFactory(workspace=workspace, model=sync.model, destination=sync.destination)
        SyncRun.objects.bulk_create(
            SyncRun(workspace=workspace, sync=other, status="failed") for _ in range(5)
        )
    IntercomConnectionFactory(workspace=workspace, status="needs_reconnect")
    assert queries() == few


def test_past_days_are_read_once_in_a_while_and_today_always(workspace, django_assert_num_queries):
    from django.core.cache import cache

    sync = SyncFactory(workspace=workspace)
    yesterday = timezone.now() - timedelta(days=1)

    def run_on(when, created):
        run = SyncRunFactory(workspace=workspace, sync=sync, counts={"created": created})
        SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(created_at=when)

    run_on(yesterday, 10)
    assert sum(n for _, n in records_synced_per_day(workspace=workspace)) == 10
    run_on(yesterday, 5)
    run_on(timezone.now(), 1)
    with django_assert_num_queries(1):  # today only
        per_day = dict(records_synced_per_day(workspace=workspace))
    assert per_day[yesterday.date()] == 10 and per_day[timezone.localdate()] == 1
    cache.clear()  # as when the cached past expires
    assert dict(records_synced_per_day(workspace=workspace))[yesterday.date()] == 15
