"""Alert emails: one per state change (raised, then recovered), for every kind, to the right people."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from apps.alerts import services as alert_services
from apps.alerts.models import AlertKind, AlertState
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import SourceConnectionFactory, SqlModelFactory, SyncFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(eager_tasks):
    pass


@pytest.fixture
def sync(workspace):
    return SyncFactory(workspace=workspace, name="Contacts → Intercom")


@pytest.fixture
def finish(django_capture_on_commit_callbacks):
    """End a new run of the sync the way the worker does (run_finish announces it), commit callbacks run."""

    def finish(sync, status, counts=None, first_error="", took=timedelta(seconds=30)):
        run = SyncRunFactory(
            workspace=sync.workspace, sync=sync, status=RunStatus.RUNNING, started_at=timezone.now() - took
        )
        with django_capture_on_commit_callbacks(execute=True):
            run_services.run_finish(
                run=run,
                status=status,
                counts=RunCounts.from_json(counts or {"source_rows": 10, "updated": 10}),
                first_error=first_error,
            )
        return run

    return finish


def subjects():
    return [m.subject for m in mail.outbox]


OK = RunStatus.SUCCEEDED
FAILED = RunStatus.FAILED
ERROR = "The database reported an error (line 1, column 8): column “emial” does not exist"


def test_a_failure_emails_once_and_the_recovery_once(sync, finish, owner):
    finish(sync, FAILED, first_error=ERROR)
    finish(sync, FAILED, first_error=ERROR)
    assert subjects() == [
        "[Syncline] Sync “Contacts → Intercom” failed: The database reported an error (line 1, column 8): "
        "column “emial” does not exist"
    ]
    assert mail.outbox[0].to == [owner.email]

    recovered = finish(sync, OK)
    finish(sync, OK)
    assert subjects()[1:] == [
        f"[Syncline] Sync “Contacts → Intercom” recovered: run {recovered.pk} succeeded"
    ]

    finish(sync, FAILED, first_error=ERROR)  # re-armed by the recovery
    assert len(mail.outbox) == 3


def test_a_run_that_succeeded_with_warnings_is_a_recovery_and_raises_nothing(sync, finish):
    finish(sync, RunStatus.SUCCEEDED_WITH_WARNINGS, {"source_rows": 10, "created": 9, "invalid": 1})
    assert mail.outbox == []
    finish(sync, FAILED, first_error=ERROR)
    recovered = finish(
        sync, RunStatus.SUCCEEDED_WITH_WARNINGS, {"source_rows": 10, "created": 9, "invalid": 1}
    )
    assert subjects()[1:] == [
        f"[Syncline] Sync “Contacts → Intercom” recovered: run {recovered.pk} succeeded with warnings"
    ]
    assert "9 created · 1 invalid" in mail.outbox[1].body


def test_a_cancelled_run_neither_raises_nor_clears(sync, finish):
    finish(sync, FAILED, first_error=ERROR)
    finish(sync, RunStatus.CANCELLED)
    assert len(mail.outbox) == 1
    assert AlertState.objects.for_workspace(sync.workspace).filter(kind=AlertKind.FAILED).exists()


def test_rejected_share_above_the_threshold_alerts_once_and_rearms_silently(sync, finish):
    bad = {"source_rows": 500, "updated": 88, "rejected": 412}
    finish(sync, RunStatus.PARTIALLY_FAILED, bad, first_error="42: Email is not a valid email")
    finish(sync, RunStatus.PARTIALLY_FAILED, bad)
    assert subjects() == [
        "[Syncline] Sync “Contacts → Intercom”: 412 of 500 records rejected (82%, above the 75% threshold)"
    ]
    finish(sync, RunStatus.PARTIALLY_FAILED, {"updated": 90, "rejected": 10})  # under: clears, no email
    assert len(mail.outbox) == 1
    finish(sync, RunStatus.PARTIALLY_FAILED, bad)
    assert len(mail.outbox) == 2


def test_exactly_at_the_threshold_does_not_alert_and_a_sync_sets_its_own(workspace, sync, finish):
    finish(sync, RunStatus.PARTIALLY_FAILED, {"updated": 25, "rejected": 75})
    assert mail.outbox == []
    finish(sync, RunStatus.PARTIALLY_FAILED, {"updated": 248, "rejected": 752})
    assert subjects() == [
        "[Syncline] Sync “Contacts → Intercom”: 752 of 1,000 records rejected (75.2%, above the 75% threshold)"
    ]
    mail.outbox.clear()
    finish(sync, OK)
    alert_services.sync_alert_settings_save(workspace=workspace, sync=sync, rejected_threshold=10)
    finish(sync, RunStatus.PARTIALLY_FAILED, {"updated": 80, "rejected": 20})
    assert subjects() == [
        "[Syncline] Sync “Contacts → Intercom”: 20 of 100 records rejected (20%, above the 10% threshold)"
    ]


def test_a_run_where_every_record_was_rejected_sends_the_failure_only(sync, finish):
    finish(sync, FAILED, {"source_rows": 412, "rejected": 412}, first_error="7: Email is not a valid email")
    assert subjects() == ["[Syncline] Sync “Contacts → Intercom” failed: 412 of 412 records rejected"]


def test_a_run_longer_than_the_limit_alerts_at_its_end(workspace, sync, finish):
    alert_services.sync_alert_settings_save(workspace=workspace, sync=sync, max_duration_minutes=10)
    finish(sync, OK, took=timedelta(minutes=12, seconds=5))
    finish(sync, OK, took=timedelta(minutes=15))
    assert subjects() == ["[Syncline] Sync “Contacts → Intercom” took 12 min 5 s (the limit is 10 min)"]
    finish(sync, OK, took=timedelta(minutes=2))  # within: clears silently
    finish(sync, OK, took=timedelta(minutes=11))
    assert len(mail.outbox) == 2


def test_a_run_still_running_past_the_limit_alerts_from_the_periodic_check(
    workspace, sync, finish, django_capture_on_commit_callbacks
):
    alert_services.sync_alert_settings_save(workspace=workspace, sync=sync, max_duration_minutes=30)
    run = SyncRunFactory(
        workspace=workspace,
        sync=sync,
        status=RunStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=20),
    )
    SyncRunFactory(  # another sync running for hours, without a limit: never alerts
        status=RunStatus.RUNNING, started_at=timezone.now() - timedelta(hours=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_services.alerts_check_long_runs() == 0
        run.started_at -= timedelta(minutes=11)  # eleven minutes later
        run.save(update_fields=["started_at"])
        assert alert_services.alerts_check_long_runs() == 1
        assert alert_services.alerts_check_long_runs() == 0  # raised already
    assert len(mail.outbox) == 1
    assert re.fullmatch(
        r"\[Syncline\] Sync “Contacts → Intercom” has been running for 31 min \d+ s \(the limit is 30 min\)",
        mail.outbox[0].subject,
    )

    with django_capture_on_commit_callbacks(execute=True):
        run_services.run_finish(
            run=run, status=OK, counts=RunCounts(updated=1)
        )  # over the limit, still raised
    assert len(mail.outbox) == 1


def test_recipients_default_to_owners_then_the_workspace_list_then_the_syncs_own(
    workspace, sync, finish, owner
):
    editor = member_of(workspace, Role.EDITOR).user
    viewer = member_of(workspace, Role.VIEWER).user
    finish(sync, FAILED, first_error=ERROR)
    assert [m.to for m in mail.outbox] == [[owner.email]]  # nothing saved yet: the owners

    alert_services.workspace_alert_settings_save(
        workspace=workspace, member_ids=[editor.pk, viewer.pk], extra_emails=["oncall@example.com"]
    )
    finish(sync, OK)
    assert sorted(m.to[0] for m in mail.outbox[1:]) == sorted(
        [editor.email, viewer.email, "oncall@example.com"]
    )
    assert all(len(m.to) == 1 for m in mail.outbox)  # one message each: outside addresses stay private

    mail.outbox.clear()
    alert_services.sync_alert_settings_save(
        workspace=workspace,
        sync=sync,
        use_workspace_recipients=False,
        member_ids=[viewer.pk],
        extra_emails=[],
    )
    finish(sync, FAILED, first_error=ERROR)
    assert [m.to for m in mail.outbox] == [[viewer.email]]


def test_members_who_left_and_syncs_with_alerts_off_get_nothing(workspace, sync, finish):
    leaver = member_of(workspace, Role.EDITOR)
    alert_services.workspace_alert_settings_save(
        workspace=workspace, member_ids=[leaver.user_id], extra_emails=[]
    )
    leaver.delete()
    finish(sync, FAILED, first_error=ERROR)
    assert mail.outbox == []

    other = SyncFactory(workspace=workspace)
    alert_services.sync_alert_settings_save(
        workspace=workspace,
        sync=other,
        enabled=False,
        use_workspace_recipients=False,
        extra_emails=["a@example.com"],
    )
    finish(other, FAILED, first_error=ERROR)
    assert mail.outbox == []
    # The state is kept while alerts are off, so the page can still say the sync is failing.
    assert AlertState.objects.for_workspace(workspace).filter(sync=other, kind=AlertKind.FAILED).exists()


def test_the_email_has_the_first_error_the_counts_and_an_absolute_link(settings, workspace, sync, finish):
    settings.SITE_URL = "https://syncline.example.com/"
    run = finish(
        sync,
        FAILED,
        {"source_rows": 500, "updated": 0, "rejected": 412, "invalid": 88},
        first_error="ada@example: Email is not a valid email address",
    )
    message = mail.outbox[0]
    run_url = f"https://syncline.example.com/w/{workspace.slug}/runs/{run.pk}/"
    assert "First error: ada@example: Email is not a valid email address" in message.body
    assert "500 rows read · 412 rejected · 88 invalid" in message.body
    assert f"Open the run: {run_url}" in message.body
    assert f"https://syncline.example.com/w/{workspace.slug}/syncs/{sync.pk}/alerts/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{run_url}"' in html
    assert "Contacts → Intercom" in html and "&lt;" not in message.body


def test_the_email_gives_the_start_in_the_workspaces_time_zone(workspace, sync, finish):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    run = finish(sync, FAILED, first_error="boom")
    started = run.started_at.astimezone(ZoneInfo("Asia/Tokyo"))
    message = mail.outbox[0]
    said = (
        f"started {started:%b} {started.day}, {started:%Y, %H:%M} JST (Asia/Tokyo)"  # the pages' one format
    )
    assert said in message.body
    assert said in message.alternatives[0][0]


def test_a_real_failing_run_raises_the_alert(workspace, django_capture_on_commit_callbacks, owner):
    """The run's end is told to the alerts: a run whose warehouse is gone fails and emails."""
    source = SourceConnectionFactory(
        workspace=workspace, type="duckdb", config={"path": "/nonexistent/w.duckdb"}
    )
    sync = SyncFactory(
        workspace=workspace, name="Companies", model=SqlModelFactory(workspace=workspace, source=source)
    )
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = sync_run_execute(run_id=run.pk)
    assert run.status == RunStatus.FAILED
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert mail.outbox[0].subject.startswith("[Syncline] Sync “Companies” failed: ")


def test_beat_runs_the_long_run_check_every_minute():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["alert-long-runs"]
    assert entry["task"] in app.tasks and entry["schedule"] == 60.0
