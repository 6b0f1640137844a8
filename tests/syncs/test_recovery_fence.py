"""A run the reaper ended while its worker was alive after all (a long pause, a network split) stops
sending at its next heartbeat and writes nothing over the ended run: the recovery run alone goes on."""

import pytest

from apps.syncs.models import RunStatus, SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.syncs.test_recovery import people, people_sync

# transaction=True: the run's heartbeat is written on the watch thread's own connection (committed rows only).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]

REAPED = "The worker running this sync stopped answering (test)."


def test_a_run_reaped_while_its_worker_lives_stops_and_leaves_the_ended_run_alone(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    settings.SYNC_RUN_HEARTBEAT_SECONDS = 0.2
    settings.SYNC_CONCURRENCY = 2
    intercom_emulator.set_faults(latency_ms=20)
    sync = people_sync(workspace, warehouse, destination, people(300))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)

    def reap_once(counts):  # what the reaper writes when the heartbeat looked stale
        if counts.created >= 10:
            SyncRun.objects.for_workspace(workspace).filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, first_error=REAPED
            )

    sync_run_execute(run_id=run.pk, progress=reap_once)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.first_error == REAPED  # not overwritten by the late worker
    sent = len(intercom_emulator.contacts(intercom_workspace.id_code))
    assert 10 <= sent < 100  # it stopped within a heartbeat or so, far from the 300


def test_a_run_slower_than_its_lease_is_not_reaped_while_its_worker_beats(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    """The reaper itself passes over the run several times while it outlasts its lease: only the heartbeat
    keeps it alive (switched off, the first pass after a second ends it and starts a recovery run)."""
    settings.SYNC_RUN_HEARTBEAT_SECONDS = 0.1
    settings.SYNC_RUN_LEASE_SECONDS = 1
    settings.SYNC_CONCURRENCY = 1  # one record at a time: 20 records × 150 ms, about three leases
    intercom_emulator.set_faults(latency_ms=150)
    sync = people_sync(workspace, warehouse, destination, people(20))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    passes = []

    def reap(counts):  # the periodic reaper, as beat runs it, after every record
        passes.append(run_services.runs_reap_stale())

    result = sync_run_execute(run_id=run.pk, progress=reap)
    assert result.status == RunStatus.SUCCEEDED, result.first_error
    assert len(passes) >= 10 and not any(passes)  # it looked at the run each time and left it alone
    assert not SyncRun.objects.for_workspace(workspace).filter(continues=run).exists()
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 20
