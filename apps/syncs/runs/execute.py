"""Running a sync: extract → plan → load, with the ledger written after Intercom accepted each record.

`sync_run_execute` runs a queued run to its end (or to the end of its slice); `apps.syncs.runs.preview`
stops after planning."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable

from django.conf import settings

from apps.common import logs
from apps.connections.intercom.client import AuthFailure, TransientFailure
from apps.connections.intercom.destination import DestinationUnavailable, client_for
from apps.connections.intercom.reconnect import run_refused
from apps.connections.services import source_adapter
from apps.connections.sources.errors import QueryInterrupted, SourceError
from apps.syncs.engine.load import IntercomLoader
from apps.syncs.engine.outcomes import RunCounts, Tally
from apps.syncs.models import Sync, SyncRun
from apps.syncs.runs import events_in_flight
from apps.syncs.runs import services as run_services
from apps.syncs.runs.drift import checks_drift, drift_check, restore_creates_first
from apps.syncs.runs.ledger import DbLedger, synced_companies
from apps.syncs.runs.loop import run_load
from apps.syncs.runs.planning import sync_plan
from apps.syncs.runs.recorder import RunRecorder
from apps.syncs.runs.statuses import run_status
from apps.syncs.runs.watch import RunWatch, Stop

logger = logging.getLogger(__name__)


def source_retry_delay(error: SourceError, attempt: int, waited: float) -> float | None:
    """Seconds to wait before extracting again after `attempt` failed with `error`, or None: only a
    transient error (a warehouse restarting refuses connections for a while) is retried, at most
    SYNC_SOURCE_RETRY_ATTEMPTS times in all, with a doubling pause, within SYNC_SOURCE_RETRY_SECONDS."""
    if not error.transient or attempt >= settings.SYNC_SOURCE_RETRY_ATTEMPTS:
        return None
    delay = min(
        settings.SYNC_SOURCE_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1),
        settings.SYNC_SOURCE_RETRY_SECONDS - waited,
    )
    return delay if delay > 0 else None


def _extract_and_load(
    sync: Sync, run: SyncRun, adapter, loader, recorder: RunRecorder, watch: RunWatch
) -> Stop:
    """Plan and load the run's records. A transient warehouse error before anything of this slice was
    planned or sent is retried (`source_retry_delay`); after that, it fails the run with its message."""
    untouched, waited = recorder.counts.to_json(), 0.0
    for attempt in itertools.count(1):
        try:
            records = sync_plan(sync=sync, full_resync=run.full_resync, adapter=adapter)
            return run_load(records=records, loader=loader, recorder=recorder, run=run, watch=watch)
        except SourceError as error:
            delay = source_retry_delay(error, attempt, waited)
            if delay is None or recorder.counts.to_json() != untouched or watch.stop is not None:
                raise
            logger.warning("Run %s: the warehouse failed (%s); trying again in %.1f s", run.pk, error, delay)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and watch.stop is None:  # a cancel does not wait
                time.sleep(min(0.1, delay))
            waited += delay
    raise AssertionError("unreachable")


def sync_run_execute(
    *, run_id: int, progress: Callable[[RunCounts], None] | None = None, max_running: int | None = None
) -> SyncRun:
    """Run a queued run to its end. `progress`, if given, is called with the counts after each record;
    `max_running` caps the workspace's runs running at once (run_services.WorkspaceBusy beyond it).

    A run cancelled by a user ends Cancelled with the counts of what it did; one whose worker shuts
    down, or whose slice's time is up, is queued again and goes on in a new task."""
    # The task only has an id: this is the one lookup that does not start from a workspace.
    run = (
        SyncRun.objects.across_all_workspaces_unsafe()
        .select_related("sync", "sync__model", "sync__model__source", "sync__destination")
        .get(pk=run_id)
    )
    logs.bind(workspace=run.workspace_id, sync_id=run.sync_id, run_id=run.pk)
    if not run_services.run_mark_running(run=run, max_running=max_running):
        return run
    sync = run.sync
    ledger = DbLedger(sync)
    recorder = RunRecorder(run, ledger, progress)
    error, client, stop = "", None, Stop.DONE
    with RunWatch(run) as watch:
        try:
            adapter = watch.adapter = source_adapter(sync.model.source)
            client = client_for(sync.destination)
            events_in_flight.settle(sync, client, ledger)
            config = sync.config
            known = synced_companies(sync).get if config.company_id_column else None
            restoring = run.restores is not None
            creates_first = restoring and restore_creates_first(RunCounts.from_json(run.restores.counts))
            loader = IntercomLoader(client, config, known_companies=known, creates_first=creates_first)
            if checks_drift(run, config):
                check = drift_check(sync, config, client)
                recorder.count(Tally.DRIFT_CHECKED, check.checked)
                recorder.count(Tally.DRIFT_MISSING, check.missing)
            stop = _extract_and_load(sync, run, adapter, loader, recorder, watch)
        except QueryInterrupted as interrupted:  # the watch stopped the query before any record was planned
            if watch.stop is None:
                error = str(interrupted)
            stop = watch.stop or stop
        except AuthFailure as failure:
            error = run_refused(sync.destination, failure)  # "reconnect", or "check the data host region"
        except (DestinationUnavailable, SourceError, TransientFailure) as failure:
            error = str(failure)
        except Exception:
            logger.exception("Run %s of sync %s failed", run.pk, sync.pk)
            error = "Syncline hit an internal error; the details are in the worker's log."
        finally:
            if client is not None:
                recorder.take_client_stats(client)
                client.close()
            recorder.flush()
    if watch.lost.is_set():
        logger.warning("Run %s was ended by the reaper while it ran here; its recovery run goes on", run.pk)
        return run
    if not error:
        events_in_flight.clear(sync)  # every answer is in the ledger now
    counts = recorder.counts
    if stop in (Stop.SLICE_ENDED, Stop.SHUTDOWN) and not error:
        if run_services.run_requeue_slice(run=run, counts=counts, resume_after_rows=recorder.position):
            return run
        if run_services.run_cancel_requested(run=run):  # a cancel is final: no next slice
            stop = Stop.CANCELLED
    if stop is Stop.CANCELLED and not error:
        return run_services.run_finish_cancelled(run=run, counts=counts)
    status = run_status(counts, stopped_by_error=bool(error))
    return run_services.run_finish(
        run=run, status=status, counts=counts, first_error=error or recorder.first_error
    )
