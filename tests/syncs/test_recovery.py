"""Runs whose worker died are ended and continued; long runs are cut into slices; lost messages are sent
again. The end state in the emulator is checked over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.syncs import services
from apps.syncs.engine.plan import unchanged_rows
from apps.syncs.models import RecordResult, RunStatus, RunTrigger, SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.ledger import DbLedger
from apps.syncs.runs.planning import sync_plan
from apps.syncs.runs.recorder import RunRecorder
from tests.fixtures.syncs import m, make_sync

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def people(n, *, bad_every=0):
    """n rows; every `bad_every`-th one has no key."""
    return [
        (i, None if bad_every and i % bad_every == 0 else f"p{i}@example.com", f"Person {i}")
        for i in range(1, n + 1)
    ]


def people_sync(workspace, warehouse, destination, rows):
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR", rows)
    model = warehouse.model(
        "SELECT * FROM people ORDER BY id", "id", ["id", "email", "name"], unique=("email",)
    )
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )


def kill_worker_of(run, settings):
    """What a SIGKILL leaves behind: a running run whose heartbeat stopped."""
    stale = timezone.now() - timedelta(seconds=settings.SYNC_RUN_LEASE_SECONDS + 1)
    SyncRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=stale, heartbeat_at=stale
    )


def test_a_run_whose_worker_died_is_ended_and_continued_by_a_recovery_run(
    workspace,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    settings,
    django_capture_on_commit_callbacks,
    eager_tasks,
):
    sync = people_sync(workspace, warehouse, destination, people(5))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=dead)
    with pytest.raises(run_services.SyncAlreadyRunning):  # a live run blocks a second one
        run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    kill_worker_of(dead, settings)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(run_services.SyncAlreadyRunning) as blocked,  # the recovery run holds the sync now
    ):
        run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    recovery = blocked.value.run
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "stopped answering" in dead.first_error and f"run {recovery.pk} continues it" in dead.first_error
    assert recovery.trigger == RunTrigger.RECOVERY and recovery.continues_id == dead.pk
    dead.refresh_from_db()  # alerts, webhooks, metrics and followers heard about the ended run
    assert dead.announced == [
        "finished:metrics",
        "finished:followers",
        "finished:alerts",
        "finished:webhooks",
    ]
    done = sync_run_execute(run_id=recovery.pk)
    assert done.status == RunStatus.SUCCEEDED and done.counts["created"] == 5


def test_the_periodic_reaper_continues_runs_in_every_workspace_except_paused_syncs(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    sync = people_sync(workspace, warehouse, destination, people(3))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=dead)
    alive_sync = people_sync(workspace, warehouse, destination, people(3))
    alive = run_services.sync_run_start(workspace=workspace, sync=alive_sync, enqueue=False)
    run_services.run_mark_running(run=alive)
    kill_worker_of(dead, settings)
    assert run_services.runs_reap_stale() == 1
    alive.refresh_from_db()
    assert alive.status == RunStatus.RUNNING  # its heartbeat is fresh
    recovery = SyncRun.objects.for_workspace(workspace).get(continues=dead)
    assert recovery.status == RunStatus.QUEUED
    sync_run_execute(run_id=recovery.pk)

    paused = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=paused)
    services.sync_set_paused(workspace=workspace, sync=sync, paused=True)
    kill_worker_of(paused, settings)
    run_services.runs_reap_stale()
    paused.refresh_from_db()
    assert paused.status == RunStatus.FAILED and "The sync is paused" in paused.first_error
    assert not SyncRun.objects.for_workspace(workspace).filter(continues=paused).exists()


def test_a_recovery_run_sends_only_what_the_dead_run_had_not_sent(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    sync = people_sync(workspace, warehouse, destination, people(4))
    first = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    assert sync_run_execute(run_id=first.pk).counts["created"] == 4
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR", people(10))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    kill_worker_of(dead, settings)  # died before sending anything
    run_services.runs_reap_stale()
    recovery = SyncRun.objects.for_workspace(workspace).get(continues=dead)
    done = sync_run_execute(run_id=recovery.pk)
    assert done.counts["created"] == 6 and done.counts["unchanged"] == 4 and done.counts["api_calls"] == 6


def test_a_long_run_is_cut_into_slices_and_every_record_is_counted_and_sent_once(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    settings.SYNC_RUN_SLICE_SECONDS = 0.3
    settings.SYNC_CONCURRENCY = 2
    intercom_emulator.set_faults(latency_ms=40)
    rows = people(60, bad_every=10)  # 6 rows without a key
    sync = people_sync(workspace, warehouse, destination, rows)
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    for _ in range(100):  # what the worker does with each slice's re-enqueued task
        run = sync_run_execute(run_id=run.pk)
        if run.status != RunStatus.QUEUED:
            break
    assert run.status == RunStatus.SUCCEEDED_WITH_WARNINGS, run.first_error  # the invalid rows
    assert run.slices > 2
    counts = run.counts
    assert counts["source_rows"] == 60 and counts["invalid"] == 6 and counts["created"] == 54
    assert counts["unchanged"] == 0 and counts["rejected"] == 0
    assert counts["api_calls"] == 54  # each contact created once, in whichever slice
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 54
    assert RecordResult.objects.for_workspace(workspace).filter(run=run, outcome="invalid").count() == 6
    assert run.started_at < run.finished_at


def test_every_slice_gets_past_the_rows_earlier_slices_read_however_short_it_is(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    # On a loaded worker, reading the model again up to where the last slice stopped can take longer than
    # a slice: each slice must still go past it, or the run would be queued again forever.
    settings.SYNC_RUN_SLICE_SECONDS = 0
    sync = people_sync(workspace, warehouse, destination, people(8))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    for _ in range(20):
        run = sync_run_execute(run_id=run.pk)
        if run.status != RunStatus.QUEUED:
            break
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    assert 2 < run.slices <= 9
    assert run.counts["created"] == 8 and run.counts["api_calls"] == 8
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 8


def test_rows_proven_unchanged_as_a_whole_are_counted_once_across_slices(workspace, warehouse, destination):
    sync = people_sync(workspace, warehouse, destination, people(5))
    fresh = RunRecorder(SyncRun(workspace=workspace, sync=sync, slices=1), DbLedger(sync))
    assert fresh.planned(unchanged_rows(5)) is False
    assert (fresh.counts["source_rows"], fresh.counts["unchanged"], fresh.position) == (5, 5, 5)
    # A later slice: the earlier one got through 3 rows (then the model grew by 2) and counted them.
    later = SyncRun(
        workspace=workspace,
        sync=sync,
        slices=2,
        resume_after_rows=3,
        started_at=timezone.now(),
        counts={"source_rows": 3, "unchanged": 3},
    )
    recorder = RunRecorder(later, DbLedger(sync))
    assert recorder.planned(unchanged_rows(5)) is False
    assert (recorder.counts["source_rows"], recorder.counts["unchanged"], recorder.position) == (5, 5, 5)


def test_a_queued_run_whose_message_was_lost_is_enqueued_again(
    workspace, warehouse, destination, settings, django_capture_on_commit_callbacks
):
    sync = people_sync(workspace, warehouse, destination, people(2))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)  # no message: "lost"
    settings.SYNC_RUN_REQUEUE_SECONDS = 60
    assert run_services.runs_reap_stale() == 0  # queued for less than a minute: left alone
    SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(seconds=61)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert run_services.runs_reap_stale() == 1
    assert len(callbacks) == 1  # the run's task, sent once the transaction commits
    assert run_services.runs_reap_stale() == 0  # and not again at the next pass


def event_sync(workspace, warehouse, destination, n_events, n_people=5):
    """People (as users) and `n_events` events spread over them, one second apart."""
    people_run = run_services.sync_run_start(
        workspace=workspace,
        sync=people_sync(workspace, warehouse, destination, people(n_people)),
        enqueue=False,
    )
    sync_run_execute(run_id=people_run.pk)
    rows = [
        (f"e{i}", f"p{i % n_people + 1}@example.com", "2026-01-01 00:00:00+00:00", i) for i in range(n_events)
    ]
    warehouse.table("events", "event_id VARCHAR, email VARCHAR, day TIMESTAMPTZ, n INTEGER", rows)
    model = warehouse.model(
        "SELECT event_id, email, day + n * INTERVAL 1 SECOND AS happened_at FROM events",
        "event_id",
        ["event_id", "email", "happened_at"],
    )
    options = {"event": {"contact_column": "email", "contact_key": "email", "created_at_column": "happened_at",
                         "event_name": "ordered"}}  # fmt: skip
    return make_sync(
        workspace,
        model,
        destination,
        object_key="event",
        behavior="send",
        key_column="event_id",
        key_identifier="event_id",
        options=options,
    )


def test_events_in_flight_when_a_run_died_are_not_sent_twice(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    from apps.syncs.runs import events_in_flight

    sync = event_sync(workspace, warehouse, destination, 6)
    planned = list(sync_plan(sync=sync, full_resync=False))
    arrived, lost = planned[0], planned[1]
    # What a run killed mid-call leaves: both noted, the first one reached Intercom, neither is in the ledger.
    api = intercom_emulator.client(intercom_workspace.token)
    assert api.post("/events", json=arrived.payload).status_code == 202
    events_in_flight.note(sync, arrived.key, arrived.payload)
    events_in_flight.note(sync, lost.key, lost.payload)
    done = sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
    )
    assert done.status == RunStatus.SUCCEEDED, done.first_error
    assert done.counts["sent"] == 5 and done.counts["unchanged"] == 1  # the one that arrived is not resent
    assert len(intercom_emulator.events(intercom_workspace.id_code)) == 6
    assert intercom_emulator.duplicate_event_count() == 0
    assert intercom_emulator.request_count("GET /events") == 2  # one question per event in flight
    assert not events_in_flight.EventInFlight.objects.for_workspace(workspace).exists()


def test_the_run_pages_link_a_dead_run_and_the_run_that_continued_it(
    owner_client, workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    from django.urls import reverse

    sync = people_sync(workspace, warehouse, destination, people(2))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    kill_worker_of(dead, settings)
    run_services.runs_reap_stale()
    recovery = SyncRun.objects.for_workspace(workspace).get(continues=dead)
    dead_page = owner_client.get(reverse("run_detail", args=[workspace.slug, dead.pk])).content.decode()
    assert (
        f'Continued by <a href="{reverse("run_detail", args=[workspace.slug, recovery.pk])}">run {recovery.pk}</a>'
        in dead_page
    )
    assert "stopped answering" in dead_page
    page = owner_client.get(reverse("run_detail", args=[workspace.slug, recovery.pk])).content.decode()
    assert (
        f'This run continues <a href="{reverse("run_detail", args=[workspace.slug, dead.pk])}">run {dead.pk}</a>'
        in page
    )
    assert "Recovery" in page
