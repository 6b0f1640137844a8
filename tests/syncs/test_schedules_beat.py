"""The beat's pass over due syncs, sequences, and saving schedules, with a controlled clock (time-machine)
on PostgreSQL."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.db import connection

from apps.common.problems import Invalid, Problem
from apps.syncs import services
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus, RunTrigger, Sync, SyncRun
from apps.syncs.runs import lifecycle
from apps.syncs.runs import services as run_services
from apps.syncs.schedules import services as scheduling
from apps.syncs.schedules.compute import Schedule, ScheduleKind
from apps.syncs.tasks import run_due_schedules_task
from config.celery import app as celery_app
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def scheduled(workspace, schedule: Schedule, *, at: datetime, **sync_fields) -> Sync:
    sync = SyncFactory(workspace=workspace, **sync_fields)
    with time_machine.travel(at, tick=False):
        return scheduling.sync_schedule_set(workspace=workspace, sync=sync, schedule=schedule)


def beat_at(moment: datetime) -> list[SyncRun]:
    """One beat pass at `moment`, through the task the beat sends."""
    with time_machine.travel(moment, tick=False):
        before = set(SyncRun.objects.across_all_workspaces_unsafe().values_list("pk", flat=True))
        run_due_schedules_task.apply().get()
        return list(SyncRun.objects.across_all_workspaces_unsafe().exclude(pk__in=before).order_by("pk"))


def finish_all(sync: Sync, status=RunStatus.SUCCEEDED) -> None:
    SyncRun.objects.for_workspace(sync.workspace).filter(sync=sync, status__in=("queued", "running")).update(
        status=status
    )


def next_run_at(sync: Sync) -> datetime:
    sync.refresh_from_db()
    return sync.next_run_at


# --- every kind through the beat ------------------------------------------------------------------------

SAVED = utc(2025, 1, 6, 9, 7, 30)  # a Monday, 10:07:30 in Paris


@pytest.mark.parametrize(
    ("schedule", "first", "second"),
    [
        (Schedule(ScheduleKind.INTERVAL, every_minutes=15), utc(2025, 1, 6, 9, 15), utc(2025, 1, 6, 9, 30)),
        (
            Schedule(ScheduleKind.HOURLY, minute=45, timezone="Europe/Paris"),
            utc(2025, 1, 6, 9, 45),
            utc(2025, 1, 6, 10, 45),
        ),
        (
            Schedule(ScheduleKind.DAILY, at=time(8, 0), timezone="Europe/Paris"),
            utc(2025, 1, 7, 7, 0),
            utc(2025, 1, 8, 7, 0),
        ),
        (
            Schedule(ScheduleKind.WEEKLY, weekday=2, at=time(6, 0), timezone="America/New_York"),
            utc(2025, 1, 8, 11, 0),
            utc(2025, 1, 15, 11, 0),
        ),
        (
            Schedule(ScheduleKind.CRON, cron="*/20 9-17 * * 1-5", timezone="Europe/Paris"),
            utc(2025, 1, 6, 9, 20),
            utc(2025, 1, 6, 9, 40),
        ),
    ],
)
def test_every_kind_is_queued_when_due_and_not_before(workspace, schedule, first, second):
    sync = scheduled(workspace, schedule, at=SAVED)
    assert sync.next_run_at == first

    assert beat_at(first - timedelta(minutes=1)) == []
    assert next_run_at(sync) == first

    (run,) = beat_at(first + timedelta(seconds=2))
    assert (run.sync_id, run.trigger, run.status) == (sync.pk, RunTrigger.SCHEDULE, RunStatus.QUEUED)
    assert next_run_at(sync) == second

    finish_all(sync)
    assert beat_at(first + timedelta(seconds=30)) == []  # a second pass in the same minute: nothing
    assert [r.sync_id for r in beat_at(second)] == [sync.pk]


def test_manual_and_sequences_are_never_queued_by_the_beat(workspace):
    manual = scheduled(workspace, Schedule(ScheduleKind.MANUAL), at=SAVED)
    leader = SyncFactory(workspace=workspace)
    with time_machine.travel(SAVED, tick=False):
        follower = scheduling.sync_schedule_set(
            workspace=workspace,
            sync=SyncFactory(workspace=workspace),
            schedule=Schedule(ScheduleKind.AFTER_SYNC),
            after=leader,
        )
    assert manual.next_run_at is None and follower.next_run_at is None
    assert beat_at(SAVED + timedelta(days=30)) == []


def test_a_beat_down_for_an_hour_runs_a_due_sync_once(workspace):
    sync = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=15), at=utc(2025, 1, 6, 8, 55))
    assert len(beat_at(utc(2025, 1, 6, 9, 0, 1))) == 1
    finish_all(sync)

    # The beat stops; four slots pass (09:15, 09:30, 09:45, 10:00). When it is back at 10:07:
    runs = beat_at(utc(2025, 1, 6, 10, 7))
    assert len(runs) == 1
    assert next_run_at(sync) == utc(2025, 1, 6, 10, 15)  # the next slot after now, not 09:30
    finish_all(sync)
    assert beat_at(utc(2025, 1, 6, 10, 8)) == []


def test_a_daily_sync_missed_for_a_day_runs_once(workspace):
    sync = scheduled(
        workspace, Schedule(ScheduleKind.DAILY, at=time(9), timezone="UTC"), at=utc(2025, 1, 6, 8)
    )
    assert len(beat_at(utc(2025, 1, 8, 12))) == 1  # two days late: one run
    assert next_run_at(sync) == utc(2025, 1, 9, 9)


def test_a_paused_sync_is_skipped_and_its_next_time_still_advances(workspace):
    sync = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=10), at=utc(2025, 1, 6, 9, 1))
    services.sync_set_paused(workspace=workspace, sync=sync, paused=True)
    assert beat_at(utc(2025, 1, 6, 9, 10)) == []
    assert next_run_at(sync) == utc(2025, 1, 6, 9, 20)

    services.sync_set_paused(workspace=workspace, sync=sync, paused=False)
    assert len(beat_at(utc(2025, 1, 6, 9, 20))) == 1


def test_a_due_sync_whose_run_is_still_active_is_skipped_not_queued_twice(workspace):
    sync = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=5), at=utc(2025, 1, 6, 9, 1))
    with time_machine.travel(utc(2025, 1, 6, 9, 4, 50), tick=False):  # alive: a heartbeat within the lease
        running = SyncRunFactory(
            workspace=workspace, sync=sync, status=RunStatus.RUNNING, heartbeat_at=utc(2025, 1, 6, 9, 4, 50)
        )

    assert beat_at(utc(2025, 1, 6, 9, 5)) == []
    assert next_run_at(sync) == utc(2025, 1, 6, 9, 10)
    assert SyncRun.objects.for_workspace(workspace).filter(sync=sync).count() == 1

    running.status = RunStatus.SUCCEEDED
    running.save()
    assert len(beat_at(utc(2025, 1, 6, 9, 10))) == 1


def test_one_pass_serves_every_workspace(workspace):
    mine = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=5), at=utc(2025, 1, 6, 9, 1))
    other = SyncFactory()
    with time_machine.travel(utc(2025, 1, 6, 9, 1), tick=False):
        scheduling.sync_schedule_set(
            workspace=other.workspace, sync=other, schedule=Schedule(ScheduleKind.INTERVAL, every_minutes=5)
        )
    runs = beat_at(utc(2025, 1, 6, 9, 5))
    assert {(r.sync_id, r.workspace_id) for r in runs} == {
        (mine.pk, mine.workspace_id),
        (other.pk, other.workspace_id),
    }


def test_the_beat_sends_the_pass_every_minute():
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("run_due_schedules_task")
    )
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == crontab()  # at the start of every minute


# --- daylight saving time through the beat (a pass every minute) --------------------------------------


def beat_every_minute(start: datetime, end: datetime, sync: Sync) -> list[datetime]:
    """The beat passing each minute from start to end; each run ends before the next pass (so an active
    run can never hide a second one). Returns when runs were queued."""
    queued, moment = [], start
    while moment <= end:
        if beat_at(moment):
            queued.append(moment)
            finish_all(sync)
        moment += timedelta(minutes=1)
    return queued


def test_spring_forward_a_skipped_daily_time_runs_once_at_the_jump(workspace):
    # 30 March 2025, Paris: 02:00 → 03:00; 02:30 does not exist. Passes from 01:00 to 04:00 local.
    sync = scheduled(
        workspace,
        Schedule(ScheduleKind.DAILY, at=time(2, 30), timezone="Europe/Paris"),
        at=utc(2025, 3, 29, 12),
    )
    queued = beat_every_minute(utc(2025, 3, 30, 0, 0), utc(2025, 3, 30, 2, 0), sync)
    assert queued == [utc(2025, 3, 30, 1, 0)]  # 03:00 CEST
    assert next_run_at(sync) == utc(2025, 3, 31, 0, 30)


def test_fall_back_a_repeated_daily_time_runs_once(workspace):
    # 26 October 2025, Paris: 03:00 → 02:00; 02:30 happens twice. Passes from 01:00 CEST to 03:30 CET.
    sync = scheduled(
        workspace,
        Schedule(ScheduleKind.DAILY, at=time(2, 30), timezone="Europe/Paris"),
        at=utc(2025, 10, 25, 12),
    )
    queued = beat_every_minute(utc(2025, 10, 25, 23, 0), utc(2025, 10, 26, 2, 30), sync)
    assert queued == [utc(2025, 10, 26, 0, 30)]
    assert next_run_at(sync) == utc(2025, 10, 27, 1, 30)


# --- sequences ----------------------------------------------------------------------------------------


@pytest.fixture
def sequence(workspace):
    """leader → follower (after the leader succeeds)."""
    leader, follower = SyncFactory(workspace=workspace), SyncFactory(workspace=workspace)
    scheduling.sync_schedule_set(
        workspace=workspace, sync=follower, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=leader
    )
    return leader, follower


def end_run_of(sync: Sync, status: RunStatus) -> SyncRun:
    run = SyncRunFactory(workspace=sync.workspace, sync=sync, status=RunStatus.RUNNING)
    run = run_services.run_finish(run=run, status=status, counts=RunCounts(created=1))
    lifecycle.run_announce(run_id=run.pk, event="finished")  # the task run_finish enqueued (on commit)
    return run


def runs_of(sync: Sync):
    return list(SyncRun.objects.for_workspace(sync.workspace).filter(sync=sync))


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS])
def test_a_succeeded_run_queues_the_syncs_that_follow(sequence, status):
    leader, follower = sequence
    end_run_of(leader, status)
    (run,) = runs_of(follower)
    assert (run.trigger, run.status) == (RunTrigger.SCHEDULE, RunStatus.QUEUED)


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.PARTIALLY_FAILED, RunStatus.CANCELLED])
def test_a_run_that_did_not_succeed_queues_nothing(sequence, status):
    leader, follower = sequence
    end_run_of(leader, status)
    assert runs_of(follower) == []


def test_a_paused_follower_is_not_queued(workspace, sequence):
    leader, follower = sequence
    services.sync_set_paused(workspace=workspace, sync=follower, paused=True)
    end_run_of(leader, RunStatus.SUCCEEDED)
    assert runs_of(follower) == []


def test_a_follower_still_running_is_not_queued_twice(workspace, sequence):
    leader, follower = sequence
    SyncRunFactory(workspace=workspace, sync=follower, status=RunStatus.QUEUED)
    end_run_of(leader, RunStatus.SUCCEEDED)
    assert len(runs_of(follower)) == 1


def test_a_chain_runs_one_after_the_other(workspace, sequence):
    leader, follower = sequence
    last = SyncFactory(workspace=workspace)
    scheduling.sync_schedule_set(
        workspace=workspace, sync=last, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=follower
    )
    end_run_of(leader, RunStatus.SUCCEEDED)
    assert runs_of(last) == []  # not yet: only after the follower's own run succeeds
    (follower_run,) = runs_of(follower)
    run_services.run_finish(run=follower_run, status=RunStatus.SUCCEEDED, counts=RunCounts())
    lifecycle.run_announce(run_id=follower_run.pk, event="finished")
    assert len(runs_of(last)) == 1


def test_a_real_run_that_succeeds_queues_its_follower(workspace, warehouse, destination):
    """The whole path: a run of the leader executes against the emulator over HTTP and ends succeeded."""
    from apps.syncs.runs.execute import sync_run_execute
    from tests.fixtures.syncs import m, make_sync

    warehouse.table("companies", "id VARCHAR, name VARCHAR", [("c1", "Acme"), ("c2", "Globex")])
    model = warehouse.model("SELECT * FROM companies", "id", ["id", "name"])
    leader = make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="upsert",
        key_column="id",
        key_identifier="company_id",
        mappings=[m("name", "string", "name")],
    )
    follower = SyncFactory(workspace=workspace)
    scheduling.sync_schedule_set(
        workspace=workspace, sync=follower, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=leader
    )

    run = sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=leader, enqueue=False).pk
    )
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    lifecycle.run_announce(run_id=run.pk, event="finished")
    (queued,) = runs_of(follower)
    assert queued.trigger == RunTrigger.SCHEDULE


# --- saving a schedule --------------------------------------------------------------------------------


def test_a_sync_cannot_follow_itself(workspace):
    sync = SyncFactory(workspace=workspace)
    with pytest.raises(Invalid) as refused:
        scheduling.sync_schedule_set(
            workspace=workspace, sync=sync, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=sync
        )
    assert "cannot run after itself" in " ".join(refused.value.about("after"))


def test_a_loop_of_sequences_is_refused(workspace, sequence):
    leader, follower = sequence
    last = SyncFactory(workspace=workspace, name="Last")
    scheduling.sync_schedule_set(
        workspace=workspace, sync=last, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=follower
    )
    with pytest.raises(Invalid) as refused:
        scheduling.sync_schedule_set(
            workspace=workspace, sync=leader, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=last
        )
    message = " ".join(refused.value.about("after"))
    assert "loop" in message and f"“{leader.name}” → “{follower.name}” → “Last” → “{leader.name}”" in message
    leader.refresh_from_db()
    assert leader.schedule_kind == ScheduleKind.MANUAL  # nothing saved


def test_a_sync_of_another_workspace_cannot_be_followed(workspace):
    sync, foreign = SyncFactory(workspace=workspace), SyncFactory()
    with pytest.raises(Invalid) as refused:
        scheduling.sync_schedule_set(
            workspace=workspace, sync=sync, schedule=Schedule(ScheduleKind.AFTER_SYNC), after=foreign
        )
    assert refused.value.problems == [
        Problem("after", "invalid_schedule", "There is no such sync in this workspace.")
    ]


def test_changing_the_kind_clears_the_settings_it_no_longer_reads(workspace, sequence):
    leader, follower = sequence
    with time_machine.travel(SAVED, tick=False):
        scheduling.sync_schedule_set(
            workspace=workspace,
            sync=follower,
            schedule=Schedule(
                ScheduleKind.DAILY, at=time(9), timezone="Europe/Paris", every_minutes=5, cron="* * * * *"
            ),
        )
    follower.refresh_from_db()
    assert (follower.schedule_after, follower.schedule_every_minutes, follower.schedule_cron) == (
        None,
        None,
        "",
    )
    assert follower.next_run_at == utc(2025, 1, 7, 8, 0)
    assert leader.followers.count() == 0

    scheduling.sync_schedule_set(workspace=workspace, sync=follower, schedule=Schedule(ScheduleKind.MANUAL))
    follower.refresh_from_db()
    assert (follower.next_run_at, follower.schedule_at) == (None, None)


def test_upcoming_runs_for_the_home_page(workspace):
    later = scheduled(workspace, Schedule(ScheduleKind.DAILY, at=time(9), timezone="UTC"), at=SAVED)
    sooner = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=30), at=SAVED)
    paused = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=5), at=SAVED, paused=True)
    SyncFactory(workspace=workspace)  # manual
    scheduled(
        SyncFactory().workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=1), at=SAVED
    )  # another's
    assert scheduling.upcoming_runs(workspace=workspace) == [sooner, later]
    assert paused not in scheduling.upcoming_runs(workspace=workspace)


# --- at the same time, on real PostgreSQL connections ---------------------------------------------------


def at_once(*calls):
    """Run the calls in threads released together, each on its own database connection."""
    barrier, errors = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as error:  # returned to the test, which checks them
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_beat_passes_at_once_queue_each_due_sync_once(workspace):
    syncs = [
        scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=5), at=utc(2025, 1, 6, 9, 1))
        for _ in range(5)
    ]
    with time_machine.travel(utc(2025, 1, 6, 9, 5), tick=False):
        assert at_once(scheduling.schedules_run_due, scheduling.schedules_run_due) == []
    assert sorted(SyncRun.objects.for_workspace(workspace).values_list("sync_id", flat=True)) == sorted(
        s.pk for s in syncs
    )
    assert {next_run_at(s) for s in syncs} == {utc(2025, 1, 6, 9, 10)}


@pytest.mark.django_db(transaction=True)
def test_run_now_and_the_beat_at_once_queue_one_run(workspace):
    sync = scheduled(workspace, Schedule(ScheduleKind.INTERVAL, every_minutes=5), at=utc(2025, 1, 6, 9, 1))
    with time_machine.travel(utc(2025, 1, 6, 9, 5), tick=False):
        errors = at_once(
            scheduling.schedules_run_due,
            lambda: run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False),
        )
        assert all(isinstance(e, run_services.SyncAlreadyRunning) for e in errors)
        assert len(runs_of(sync)) == 1
        scheduling.schedules_run_due()  # a pass that found the row locked comes back a minute later
    assert len(runs_of(sync)) == 1
    assert next_run_at(sync) == utc(2025, 1, 6, 9, 10)
