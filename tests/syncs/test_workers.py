"""Runs on real Celery worker processes and the real Redis: a worker killed mid-run, Redis flushed mid-run,
two triggers at once. The workers run with the threads pool, as `./syncline run` and the Procfile start them."""

import threading
import time

import pytest
import redis
from django.conf import settings as django_settings

from apps.syncs.models import ACTIVE_STATUSES, RunStatus, RunTrigger, SyncRun
from apps.syncs.runs import services as run_services
from tests.syncs.conftest import LEASE
from tests.syncs.test_recovery import event_sync, people, people_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for(condition, timeout=90.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s")


def run_of(run):
    return SyncRun.objects.for_workspace(run.workspace_id).get(pk=run.pk)


def finished(run):
    current = run_of(run)
    return current if current.status not in ACTIVE_STATUSES else None


def test_a_worker_killed_mid_run_is_recovered_and_every_event_arrives_once(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, workers
):
    intercom_emulator.set_faults(latency_ms=15)
    sync = event_sync(workspace, warehouse, destination, 5000)
    first = workers()
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: len(intercom_emulator.events(intercom_workspace.id_code)) >= 1000)
    first.kill()  # SIGKILL: the requests in flight may or may not have reached Intercom
    assert run_of(run).status == RunStatus.RUNNING
    workers()
    time.sleep(LEASE + 1)
    assert run_services.runs_reap_stale() == 1
    dead = run_of(run)
    recovery = SyncRun.objects.for_workspace(workspace).get(continues=dead)
    assert dead.status == RunStatus.FAILED and f"run {recovery.pk} continues it" in dead.first_error
    assert recovery.trigger == RunTrigger.RECOVERY
    done = wait_for(lambda: finished(recovery), timeout=240)
    assert done.status == RunStatus.SUCCEEDED, done.first_error
    events = intercom_emulator.events(intercom_workspace.id_code)
    assert len(events) == 5000 and intercom_emulator.duplicate_event_count() == 0  # each event once
    assert done.counts["sent"] + done.counts["unchanged"] == 5000 and done.counts["unchanged"] >= 1000
    # Not one accepted twice. (A request the kill cut off before its body arrived is in the log too,
    # without a 202: it never reached Intercom, so it is sent again.)
    assert intercom_emulator.request_count("POST /events", status=202) == 5000


def test_redis_flushed_mid_run_leaves_no_run_running_and_the_next_run_completes(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, workers, settings
):
    intercom_emulator.set_faults(latency_ms=10)
    sync = people_sync(workspace, warehouse, destination, people(1500))
    workers()
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    run = run_services.sync_run_start(workspace=workspace, sync=sync)
    wait_for(lambda: len(intercom_emulator.contacts(intercom_workspace.id_code)) >= 200)
    broker.flushdb()  # the broker's queues, unacknowledged messages and the rate limiter's buckets
    done = wait_for(lambda: finished(run), timeout=LEASE + 120)
    assert done.status == RunStatus.SUCCEEDED, done.first_error
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 1500

    # A run queued when Redis lost its message: the reaper enqueues it again.
    settings.SYNC_RUN_REQUEUE_SECONDS = 0
    lost = run_services.sync_run_start(workspace=workspace, sync=sync)
    broker.flushdb()
    time.sleep(0.5)
    if run_of(lost).status == RunStatus.QUEUED:  # the worker did not take it before the flush
        run_services.runs_reap_stale()
    done = wait_for(lambda: finished(lost), timeout=60)
    assert done.status == RunStatus.SUCCEEDED and done.counts["unchanged"] == 1500


@pytest.mark.embedded  # two workers race for one run: SQLite's write lock decides, as in ./syncline run
def test_the_same_sync_triggered_twice_at_once_executes_exactly_once(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, workers
):
    sync = people_sync(workspace, warehouse, destination, people(20))
    workers()
    outcomes, barrier = [], threading.Barrier(2)

    def trigger(kind):
        from django.db import connection

        barrier.wait()
        try:
            outcomes.append(run_services.sync_run_start(workspace=workspace, sync=sync, trigger=kind).pk)
        except run_services.SyncAlreadyRunning as refused:
            outcomes.append(("refused", refused.run.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger, args=(k,)) for k in (RunTrigger.MANUAL, RunTrigger.SCHEDULE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, tuple)]
    assert len(started) == 1 and refused == [("refused", started[0])]
    done = wait_for(lambda: finished(SyncRun.objects.for_workspace(workspace).get(pk=started[0])))
    assert done.status == RunStatus.SUCCEEDED
    assert SyncRun.objects.for_workspace(workspace).filter(sync=sync).count() == 1
    assert intercom_emulator.request_count("POST /contacts") == 20
