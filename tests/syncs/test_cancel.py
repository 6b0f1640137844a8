"""Cancel cancels: the warehouse query is interrupted and the Intercom loop stops within seconds, a
cancelled run ends Cancelled and is never continued, requeued or recovered, a worker's warm shutdown stops
its queries instead of waiting for them, and a killed worker leaves no PostgreSQL backend running on.

The tests with workers start real Celery worker processes (threads pool, as the Procfile) on the real
Redis, and read a real PostgreSQL warehouse whose model sleeps for ten minutes."""

from __future__ import annotations

import signal
import time
import uuid

import psycopg
import pytest
from django.urls import reverse

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus, SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.tasks import execute_sync_run_task
from tests.factories import SourceConnectionFactory, SqlModelFactory
from tests.fixtures.syncs import m, make_sync
from tests.syncs.conftest import LEASE
from tests.syncs.test_recovery import kill_worker_of, people, people_sync
from tests.syncs.test_workers import finished, run_of, wait_for

# Also on SQLite, the run command's embedded database (worker processes share its file).
pytestmark = pytest.mark.embedded

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


# --- a PostgreSQL warehouse whose model sleeps ---------------------------------------------------------


@pytest.fixture(scope="module")
def pg_warehouse():
    name = f"syncline_cancel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}", autocommit=True) as conn:
            conn.execute("CREATE TABLE people (id int, email text, name text)")
            conn.execute("INSERT INTO people VALUES (1, 'p1@example.com', 'Person 1')")
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sleeping_sync(workspace, destination, database):
    """A sync whose model's query takes ten minutes (pg_sleep(600) for its one row)."""
    source = SourceConnectionFactory(
        workspace=workspace,
        type="postgres",
        config={
            "host": "127.0.0.1",
            "port": 5432,
            "database": database,
            "user": "postgres",
            "sslmode": "disable",
        },
        credentials={"password": ""},
    )
    model = SqlModelFactory(
        workspace=workspace,
        source=source,
        sql="SELECT id, email, name, pg_sleep(600) AS nap FROM people",
        primary_key="id",
        unique_columns=["email"],
        columns=[{"name": c, "db_type": "", "kind": "string"} for c in ("id", "email", "name", "nap")],
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


def sleeping_backends(database: str) -> list[tuple]:
    """Syncline's backends in the warehouse that are executing (the sleep runs inside a FETCH)."""
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return conn.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = %s AND application_name = 'syncline' "
            "AND state = 'active'",
            [database],
        ).fetchall()


def syncline_backends(database: str) -> list[tuple]:
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s AND application_name = 'syncline'",
            [database],
        ).fetchall()


def gone(probe, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --- with real workers --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_cancel_stops_a_sleeping_warehouse_query_and_the_run_ends_cancelled_within_seconds(
    workspace, owner, destination, pg_warehouse, workers
):
    workers()
    sync = sleeping_sync(workspace, destination, pg_warehouse)
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: sleeping_backends(pg_warehouse), timeout=30)
    asked = time.monotonic()
    run_services.sync_run_cancel(workspace=workspace, run=run_of(run), user=owner)
    done = wait_for(lambda: finished(run), timeout=10)
    assert time.monotonic() - asked < 10
    assert done.status == RunStatus.CANCELLED
    assert done.first_error == f"Cancelled by {owner.email}."
    assert done.counts["source_rows"] == 0 and done.finished_at is not None
    assert gone(lambda: syncline_backends(pg_warehouse), seconds=5), syncline_backends(pg_warehouse)
    time.sleep(LEASE + 1)  # long enough for the reaper to see a dead run, had it been one
    assert run_services.runs_reap_stale() == 0
    assert SyncRun.objects.for_workspace(workspace).filter(sync=sync).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_worker_killed_with_a_cancel_requested_is_not_restarted_and_leaves_no_backend(
    workspace, owner, destination, pg_warehouse, workers
):
    worker = workers()
    sync = sleeping_sync(workspace, destination, pg_warehouse)
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: sleeping_backends(pg_warehouse), timeout=30)
    worker.kill()  # SIGKILL mid-query: nothing of the worker is left to cancel anything
    # The server notices its client is gone within seconds, not at the query's end ten minutes on.
    assert gone(lambda: syncline_backends(pg_warehouse), seconds=10), syncline_backends(pg_warehouse)
    run_services.sync_run_cancel(workspace=workspace, run=run_of(run), user=owner)  # before the lease ran out
    assert run_of(run).status == RunStatus.RUNNING and run_of(run).cancel_requested
    workers()  # a worker is back: it must not take the run up again either
    time.sleep(LEASE + 1)
    run_services.runs_reap_stale()
    run_services.runs_reap_stale()
    ended = run_of(run)
    assert ended.status == RunStatus.CANCELLED
    assert (
        ended.first_error.startswith(f"Cancelled by {owner.email}.")
        and "no run continues it" in ended.first_error
    )
    # The run's message delivered again (acks_late, reject_on_worker_lost) does not start it.
    execute_sync_run_task.apply(args=[run.pk])
    assert SyncRun.objects.for_workspace(workspace).filter(sync=sync).count() == 1
    assert run_of(run).status == RunStatus.CANCELLED
    assert not sleeping_backends(pg_warehouse)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_warm_shutdown_stops_the_query_and_queues_the_run_again_uncancelled(
    workspace, destination, pg_warehouse, workers
):
    worker = workers()
    sync = sleeping_sync(workspace, destination, pg_warehouse)
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: sleeping_backends(pg_warehouse), timeout=30)
    asked = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)  # warm shutdown: it waits for its tasks to end
    worker.process.wait(timeout=15)
    assert time.monotonic() - asked < 15
    assert gone(lambda: syncline_backends(pg_warehouse), seconds=5), syncline_backends(pg_warehouse)
    left = run_of(run)
    assert left.status == RunStatus.QUEUED and not left.cancel_requested and left.first_error == ""
    assert left.slices == 1  # the next worker continues it as its second slice
    run_services.sync_run_cancel(workspace=workspace, run=left)  # no worker: cancelled at once
    assert run_of(run).status == RunStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_cancel_during_the_intercom_loop_stops_within_seconds(
    workspace, owner, warehouse, destination, intercom_emulator, intercom_workspace, workers
):
    intercom_emulator.set_faults(latency_ms=20)
    sync = people_sync(workspace, warehouse, destination, people(5000))
    workers()
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: len(intercom_emulator.contacts(intercom_workspace.id_code)) >= 100)
    asked = time.monotonic()
    run_services.sync_run_cancel(workspace=workspace, run=run_of(run), user=owner)
    done = wait_for(lambda: finished(run), timeout=10)
    assert time.monotonic() - asked < 5
    assert done.status == RunStatus.CANCELLED and done.first_error == f"Cancelled by {owner.email}."
    created = len(intercom_emulator.contacts(intercom_workspace.id_code))
    assert done.counts["created"] == created < 5000  # what it did is counted, nothing went on after
    time.sleep(1)
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == created


# --- the status machine, without workers ----------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_the_reaper_ends_a_dead_run_with_a_cancel_requested_and_starts_no_recovery_run(
    workspace, owner, warehouse, destination, settings
):
    sync = people_sync(workspace, warehouse, destination, people(3))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=dead)
    run_services.sync_run_cancel(workspace=workspace, run=dead, user=owner)  # its worker was alive then
    assert run_of(dead).status == RunStatus.RUNNING
    kill_worker_of(dead, settings)  # and died before it could stop
    assert run_services.runs_reap_stale() == 0  # nothing continued
    assert run_services.runs_reap_stale() == 0
    ended = run_of(dead)
    assert ended.status == RunStatus.CANCELLED and ended.finished_at is not None
    assert ended.first_error.startswith(f"Cancelled by {owner.email}.")
    assert SyncRun.objects.for_workspace(workspace).filter(sync=sync).count() == 1
    assert sync_run_execute(run_id=dead.pk).status == RunStatus.CANCELLED  # a redelivered message
    # The sync is free again: a new run can start.
    assert (
        run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).status == RunStatus.QUEUED
    )


@pytestmark_db
def test_cancelling_a_run_whose_worker_is_dead_ends_it_at_once(workspace, warehouse, destination, settings):
    sync = people_sync(workspace, warehouse, destination, people(3))
    dead = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    kill_worker_of(dead, settings)
    cancelled = run_services.sync_run_cancel(workspace=workspace, run=dead)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.first_error.startswith("Cancelled.")
    assert not SyncRun.objects.for_workspace(workspace).filter(continues=dead).exists()


@pytestmark_db
def test_a_cancel_that_arrives_while_a_long_run_is_between_slices_is_final(
    workspace,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SYNC_RUN_SLICE_SECONDS = 0.3
    settings.SYNC_CONCURRENCY = 2
    settings.SYNC_RUN_REQUEUE_SECONDS = 0
    intercom_emulator.set_faults(latency_ms=40)
    sync = people_sync(workspace, warehouse, destination, people(60))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run = sync_run_execute(run_id=run.pk)
    assert run.status == RunStatus.QUEUED and run.counts["created"] > 0  # one slice done, the next queued
    # The cancel lands as the next slice's message is taken: the run is queued with a cancel requested.
    SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(cancel_requested=True)
    with django_capture_on_commit_callbacks() as enqueued:
        run_services.runs_reap_stale()  # the requeue of lost messages ends it, and sends no next slice
    assert [callback.func.__self__.name for callback in enqueued] == ["apps.syncs.tasks.run_finished_task"]
    done = sync_run_execute(run_id=run.pk)
    assert done.status == RunStatus.CANCELLED and done.slices == 1
    assert done.counts["created"] == run.counts["created"]  # the first slice's work is kept


@pytestmark_db
def test_a_slice_that_ends_with_a_cancel_requested_is_not_queued_again(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings, monkeypatch
):
    from apps.syncs.runs import loop, watch

    settings.SYNC_RUN_SLICE_SECONDS = 0.3
    settings.SYNC_CONCURRENCY = 2
    intercom_emulator.set_faults(latency_ms=40)
    # Neither the watch nor a progress save hears of the cancel before the slice's time is up.
    monkeypatch.setattr(watch, "CANCEL_CHECK_SECONDS", 60.0)
    monkeypatch.setattr(loop, "PROGRESS_EVERY_SECONDS", 60.0)
    sync = people_sync(workspace, warehouse, destination, people(60))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)

    def cancel_at_the_first_record(counts):
        if counts["source_rows"] == 1:
            SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(cancel_requested=True)

    done = sync_run_execute(run_id=run.pk, progress=cancel_at_the_first_record)
    assert done.status == RunStatus.CANCELLED and 0 < done.counts["created"] < 60


@pytestmark_db
def test_the_cancel_button_says_who_cancelled_and_that_the_run_will_not_restart(
    owner_client, owner, workspace, warehouse, destination
):
    sync = people_sync(workspace, warehouse, destination, people(3))
    running = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run_services.run_mark_running(run=running)
    page = owner_client.post(reverse("run_cancel", args=[workspace.slug, running.pk]), follow=True)
    assert "will not be restarted" in page.content.decode()
    assert run_of(running).cancel_requested and run_of(running).first_error == f"Cancelled by {owner.email}."
    run_services.run_finish_cancelled(
        run=run_of(running), counts=RunCounts(source_rows=1)
    )  # what its worker does
    page = owner_client.get(reverse("run_detail", args=[workspace.slug, running.pk])).content.decode()
    assert f"Cancelled by {owner.email}." in page

    other = people_sync(workspace, warehouse, destination, people(3))
    queued = run_services.sync_run_start(workspace=workspace, sync=other, enqueue=False)
    page = owner_client.post(reverse("run_cancel", args=[workspace.slug, queued.pk]), follow=True)
    assert f"Run {queued.pk} is cancelled." in page.content.decode()
    assert run_of(queued).status == RunStatus.CANCELLED
    assert run_of(queued).first_error == f"Cancelled by {owner.email}."
