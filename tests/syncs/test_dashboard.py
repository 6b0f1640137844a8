"""The sync page and the run page as people watch them: charts with their figures, live progress that stops
when the run ends, the run's timeline and errors by code; what viewers see; and SQL queries per page that do
not grow with the rows shown."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RecordResult, RunStatus, SyncRun
from apps.syncs.runs import services as run_services
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import (
    IntercomConnectionFactory,
    SourceConnectionFactory,
    SqlModelFactory,
    SyncFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(name, workspace, *args):
    return reverse(name, args=[workspace.slug, *args])


def get(client, name, workspace, *args, **params):
    response = client.get(url(name, workspace, *args), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def sync(workspace):
    return SyncFactory(workspace=workspace, name="People")


def finished_run(workspace, sync, *, counts, status=RunStatus.SUCCEEDED, queued_ago=120, waited=5, ran=75):
    run = SyncRunFactory(workspace=workspace, sync=sync, status=status, counts=counts)
    queued = timezone.now() - timedelta(seconds=queued_ago)
    SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(
        created_at=queued,
        started_at=queued + timedelta(seconds=waited),
        finished_at=queued + timedelta(seconds=waited + ran),
    )
    run.refresh_from_db()
    return run


# --- the sync page -----------------------------------------------------------------------------------------


def test_the_sync_page_charts_records_per_run_with_links_and_figures(owner_client, workspace, sync):
    first = finished_run(workspace, sync, counts={"created": 120, "rejected": 3}, queued_ago=600)
    second = finished_run(workspace, sync, counts={"updated": 40, "unchanged": 80}, queued_ago=300)
    html = get(owner_client, "sync_detail", workspace, sync.pk)
    assert "Records per run" in html and "last 2 runs" in html
    assert html.count('<g class="bar">') == 2
    assert html.index(f"Run {first.pk} (") < html.index(f"Run {second.pk} (")  # oldest first
    assert "0 created, 40 updated, 0 rejected</title>" in html  # the figures on hover
    assert f'<a href="/w/{workspace.slug}/runs/{second.pk}/" tabindex="-1">' in html  # a bar opens its run
    assert f'<td><a href="/w/{workspace.slug}/runs/{second.pk}/">Run {second.pk} (' in html  # so does its row
    assert 'class="key series-rejected">rejected</span>' in html
    assert "series-removed" not in html and "series-sent" not in html  # series with nothing are left out
    assert "peak 123 records in one run" in html


def test_a_sync_without_runs_has_no_chart(owner_client, workspace, sync):
    html = get(owner_client, "sync_detail", workspace, sync.pk)
    assert "Records per run" not in html and "No runs yet." in html


def test_editors_get_the_actions_and_full_resync_asks_first(owner_client, workspace, sync):
    finished_run(workspace, sync, counts={"source_rows": 5000, "updated": 3})
    html = get(owner_client, "sync_detail", workspace, sync.pk)
    start = html.index('<details class="confirm">')
    confirm = html[start : html.index("</details>", start)]
    assert "Send every record again?" in confirm and "the last run read 5,000" in confirm
    assert '<input type="hidden" name="full_resync" value="1">' in confirm
    assert "Yes, resend every record" in confirm and "?full_resync=1" in confirm  # or preview it first
    assert '<input type="hidden" name="full_resync" value="1">' not in html.replace(confirm, "")
    assert ">Run now</button>" in html and ">Pause</button>" in html and ">Edit</a>" in html
    assert '<section class="card" id="schedule">' in html and "Edit schedule" in html


def test_viewers_see_everything_and_no_button(client, workspace, sync):
    run = finished_run(
        workspace, sync, counts={"created": 1, "rejected": 1}, status=RunStatus.PARTIALLY_FAILED
    )
    RecordResult.objects.create(workspace=workspace, run=run, key="k", outcome="rejected", code="conflict")
    active = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    client.force_login(member_of(workspace, Role.VIEWER).user)
    page = get(client, "sync_detail", workspace, sync.pk)
    assert "Run history" in page and "Records per run" in page and f"Run {active.pk} in progress" in page
    main = page[page.index("<main") :]  # (the sidebar has the log-out form)
    for button in ("Run now", "Full resync", ">Pause<", ">Edit<", '<form method="post"'):
        assert button not in main, button
    run_page = get(client, "run_detail", workspace, run.pk)
    assert "Errors by code" in run_page and "Cancel run" not in get(
        client, "run_detail", workspace, active.pk
    )


# --- live progress -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "yardstick"),
    [
        (RunStatus.SUCCEEDED_WITH_WARNINGS, True),
        (RunStatus.PARTIALLY_FAILED, True),
        (RunStatus.FAILED, False),
    ],
)
def test_a_run_that_read_the_whole_model_is_the_yardstick_of_the_next(
    owner_client, workspace, sync, status, yardstick
):
    finished_run(workspace, sync, counts={"source_rows": 200, "created": 199, "invalid": 1}, status=status)
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=run)
    run_services.run_save_progress(run=run, counts=RunCounts(source_rows=50, updated=50))
    page = get(owner_client, "sync_detail", workspace, sync.pk)
    assert ("50 of ~200 rows read" in page) is yardstick


def test_progress_is_measured_against_the_last_run_and_polls_until_the_run_ends(
    owner_client, workspace, sync
):
    finished_run(workspace, sync, counts={"source_rows": 200, "updated": 200})
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=run)
    run_services.run_save_progress(run=run, counts=RunCounts(source_rows=80, updated=75, rejected=2))

    page = get(owner_client, "sync_detail", workspace, sync.pk)
    assert f'hx-get="/w/{workspace.slug}/runs/{run.pk}/progress/" hx-trigger="every 2s"' in page
    assert '<progress value="40" max="100"' in page and "80 of ~200 rows read" in page
    assert "disabled" in page[page.index(">Run now<") - 80 : page.index(">Run now<")]  # one run at a time
    partial = owner_client.get(url("run_progress", workspace, run.pk), headers=HTMX)
    assert "75 updated" in partial.content.decode() and "HX-Refresh" not in partial
    assert 'hx-trigger="every 2s"' in get(owner_client, "run_detail", workspace, run.pk)  # the run page too

    run.refresh_from_db()
    run_services.run_finish(
        run=run, status=RunStatus.SUCCEEDED, counts=RunCounts(source_rows=200, updated=198)
    )
    ended = owner_client.get(url("run_progress", workspace, run.pk), headers=HTMX)
    assert ended["HX-Refresh"] == "true"  # the page reloads once, with the finished run everywhere
    assert "hx-trigger" not in ended.content.decode() and "198 updated" in ended.content.decode()
    assert "hx-trigger" not in get(owner_client, "sync_detail", workspace, sync.pk)


def test_a_first_run_has_an_indeterminate_bar(owner_client, workspace, sync):
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=run)
    page = get(owner_client, "sync_detail", workspace, sync.pk)
    assert '<progress aria-label="Run in progress"></progress>' in page and "rows read (the last" not in page


# --- the run page ------------------------------------------------------------------------------------------


@pytest.fixture
def failed_run(workspace, sync):
    run = finished_run(workspace, sync, counts={"created": 5, "rejected": 4, "invalid": 1, "api_calls": 9,
                                                "rate_limited": 2}, status=RunStatus.PARTIALLY_FAILED)  # fmt: skip
    for key, outcome, code in [
        ("a@x.io", "rejected", "conflict"),
        ("b@x.io", "rejected", "parameter_invalid"),
        ("c@x.io", "rejected", "conflict"),
        ("d@x.io", "rejected", "conflict"),
        ("", "invalid", "invalid"),
    ]:
        RecordResult.objects.create(
            workspace=workspace,
            run=run,
            key=key,
            outcome=outcome,
            code=code,
            message=f"{code} for {key or 'row 7'}",
        )
    return run


def test_the_run_page_shows_the_timeline(owner_client, workspace, failed_run):
    html = get(owner_client, "run_detail", workspace, failed_run.pk)
    timeline = html[html.index('<ol class="timeline">') : html.index("</ol>")]
    assert timeline.index("Queued") < timeline.index("waited 5.0 s") < timeline.index("Started")
    assert timeline.index("Started") < timeline.index("ran 1 min 15 s") < timeline.index("Partially failed")
    assert "9 Intercom calls, 2 answered 429 (rate limited) and were retried" in html


def test_a_queued_run_shows_what_has_not_happened_yet(owner_client, workspace, sync):
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    html = get(owner_client, "run_detail", workspace, run.pk)
    assert "waiting for a worker" in html and "in progress" in html and "waited" not in html


def test_errors_are_grouped_by_code_and_each_group_opens_its_records(owner_client, workspace, failed_run):
    html = get(owner_client, "run_detail", workspace, failed_run.pk)
    errors = html[html.index('id="errors"') : html.index('id="records"')]
    assert errors.index("<code>conflict</code>") < errors.index("<code>parameter_invalid</code>")
    assert '<td class="num">3</td>' in errors and "not sent: fix the model" in errors
    assert "?outcome=rejected&amp;code=conflict#records" in errors

    only = owner_client.get(
        url("run_detail", workspace, failed_run.pk), {"outcome": "rejected", "code": "conflict"}
    )
    assert sorted(r["key"] for r in only.context["results"]) == ["a@x.io", "c@x.io", "d@x.io"]
    assert "3 matching" in only.content.decode() and "Download CSV (these records)" in only.content.decode()
    searched = owner_client.get(url("run_detail", workspace, failed_run.pk), {"q": "C@X", "code": "conflict"})
    assert [r["key"] for r in searched.context["results"]] == ["c@x.io"]

    response = owner_client.get(url("run_records_csv", workspace, failed_run.pk), {"code": "conflict"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[0] for r in rows[1:]] == ["a@x.io", "c@x.io", "d@x.io"]


def test_a_run_where_everything_went_through_has_no_error_summary(owner_client, workspace, sync):
    run = finished_run(workspace, sync, counts={"created": 3})
    html = get(owner_client, "run_detail", workspace, run.pk)
    assert "Errors by code" not in html and "Every record went through." in html


# --- SQL queries per page do not grow with the rows shown ---------------------------------------------------


def fill(workspace, sync, run, n):
    """n runs more of the sync, n record results more on the run, and n syncs, models and connections more."""
    SyncRun.objects.bulk_create(
        SyncRun(workspace=workspace, sync=sync, status=RunStatus.FAILED, counts={"created": i, "rejected": 1})
        for i in range(n)
    )
    RecordResult.objects.bulk_create(
        RecordResult(workspace=workspace, run=run, key=f"k{i}", outcome="rejected", code=f"code_{i % 7}")
        for i in range(n)
    )
    for _ in range(n):
        source = SourceConnectionFactory(workspace=workspace, status="failing")
        model = SqlModelFactory(workspace=workspace, source=source)
        destination = IntercomConnectionFactory(workspace=workspace, status="needs_reconnect")
        other = SyncFactory(workspace=workspace, model=model, destination=destination)
        SyncRunFactory(workspace=workspace, sync=other, status=RunStatus.PARTIALLY_FAILED)


def test_queries_per_page_are_the_same_for_5_and_50_rows(owner_client, workspace, sync):
    run = SyncRunFactory(workspace=workspace, sync=sync)
    pages = {
        "home": url("workspace_home", workspace),
        "sync list": url("sync_list", workspace),
        "sync page": url("sync_detail", workspace, sync.pk),
        "runs list": url("run_list", workspace),
        "run page": url("run_detail", workspace, run.pk),
        "run page search": url("run_detail", workspace, run.pk) + "?q=k&outcome=rejected&code=code_1",
        "connections": url("connection_list", workspace),
        "models": url("model_list", workspace),
    }

    def queries():
        counts = {}
        for name, page in pages.items():
            with CaptureQueriesContext(connection) as captured:
                assert owner_client.get(page).status_code == 200, name
            counts[name] = len(captured)
        return counts

    owner_client.get(pages["home"])  # the first request of a session remembers the workspace: one write more
    fill(workspace, sync, run, 5)
    few = queries()
    fill(workspace, sync, run, 45)
    many = queries()
    assert many == few
    assert max(few.values()) <= 13, few  # the sync page: sync, runs, chart, schedule card, alerts, history…
    html = owner_client.get(pages["sync page"]).content.decode()
    assert html.count('<g class="bar">') == 30 and "Page 1 of 2" in html  # the rows did grow
    assert owner_client.get(pages["run page"]).content.decode().count("><code>k") == 50
