"""Running a sync: extract → plan → load, with the ledger written after Intercom accepted each record.

`sync_preview` stops after planning (nothing is sent, no ledger row changes); `sync_run_execute` goes on
to load, with bounded concurrency under the shared rate limiter, and records every outcome.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextvars import copy_context
from dataclasses import dataclass, field, replace
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError
from django.db import connection as db_connection

from apps.common import logs
from apps.connections.intercom.client import AuthFailure, IntercomClient, TransientFailure, intercom_client
from apps.connections.intercom.reconnect import mark_needs_reconnect
from apps.connections.models import Connection
from apps.connections.services import source_adapter
from apps.connections.sources.base import FingerprintedRead, FingerprintSpec, SourceAdapter
from apps.connections.sources.errors import QueryInterrupted, SourceError
from apps.syncs import events_in_flight, services
from apps.syncs.drift import checks_drift, drift_check, restore_creates_first
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.load import IntercomLoader, LoadResult
from apps.syncs.engine.payload import payload_hash
from apps.syncs.engine.plan import (
    Operation,
    PlannedRecord,
    duplicate_keys,
    fingerprint_columns,
    fingerprint_salt,
    plan,
    plan_by_fingerprint,
    summarize,
    unchanged_rows,
    uses_fingerprints,
)
from apps.syncs.ledger import DbLedger, keys_settled_since, synced_companies
from apps.syncs.models import RecordOutcome, Sync, SyncRun
from apps.syncs.outcomes import CountKey, Outcome, RunCounts, Tally
from apps.syncs.records import lookup_text, record_results_insert
from apps.syncs.statuses import COMPLETED, run_status

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 2.0
RETRY_STOPPED = "retry_stopped"  # the code of a record skipped because a user stopped retrying it
CANCEL_CHECK_SECONDS = 1.0  # how soon a running run hears of its Cancel


class DestinationUnavailable(Exception):
    pass


def client_for(connection: Connection) -> IntercomClient:
    token = (connection.credentials or {}).get("access_token")
    if not token:
        raise DestinationUnavailable(f"{connection.name} is disconnected: reconnect Intercom to sync.")
    region = connection.config.get("region", "US")
    return intercom_client(
        base_url=settings.INTERCOM_API_BASE_URLS[region],
        access_token=token,
        workspace_key=connection.config.get("workspace_id") or f"connection-{connection.pk}",
        max_attempts=settings.INTERCOM_CLIENT_MAX_ATTEMPTS,
        backoff_base=settings.INTERCOM_CLIENT_BACKOFF_SECONDS,
    )


def _extract(sync: Sync, adapter: SourceAdapter | None = None) -> tuple[list[str], Iterator[list[tuple]]]:
    """The model's columns and its rows in batches, streamed from the warehouse."""
    adapter = adapter or source_adapter(sync.model.source)
    stream = iter(adapter.stream(sync.model.sql, batch_size=settings.SYNC_BATCH_SIZE))
    first = next(stream, None)
    if first is None:
        return sync.model.column_names, iter(())
    columns = [c.name for c in first.columns]
    return columns, (batch.rows for batch in itertools.chain([first], stream))


def _is_first_run(sync: Sync) -> bool:
    if sync.pk is None:  # an unsaved sync (the wizard's draft) has never run
        return True
    return not sync.runs.filter(status__in=COMPLETED).exists()


def _plan(
    sync: Sync, *, full_resync: bool, preview: bool = False, adapter: SourceAdapter | None = None
) -> Iterator[PlannedRecord]:
    """The plan of a run (or of a preview: the same plan, so the same counts).

    Where the warehouse can fingerprint rows, a rerun first asks whether the model's (key, fingerprint)
    pairs are the ledger's as a whole (then every row is unchanged, one record says so), else reads the
    pairs and then only the rows that changed (engine.plan's docstring); otherwise, and on first runs and
    full resyncs, every row. A run passes its own `adapter`, the one its watch interrupts on Cancel.
    """
    config = services.sync_engine_config(sync)
    # NULLs that keep Intercom's value plan over the last accepted payloads, in runs as in previews.
    ledger = DbLedger(sync, with_payloads=preview or config.needs_previous_payloads)
    first_run = _is_first_run(sync)
    adapter = adapter or source_adapter(sync.model.source)
    if getattr(adapter, "fingerprints", False) and uses_fingerprints(config):
        described = [(column.name, column.db_type) for column in adapter.describe(sync.model.sql)]
        _check_columns(config, [name for name, _ in described])
        spec = _fingerprint_spec(config, described)
        if spec is not None:
            columns = [name for name, _ in described]
            opened = adapter.fingerprinted(sync.model.sql, spec)
            return _plan_fingerprinted(
                opened, columns, config, ledger, full_resync=full_resync, first_run=first_run
            )
    # Two reads of the model: its keys first (a key in several rows makes each of them invalid, whatever
    # their order), then its rows.
    columns, batches = _extract(sync, adapter)
    _check_columns(config, columns)
    key_index = columns.index(config.sync_key.column)
    duplicates = duplicate_keys(([row[key_index] for row in batch] for batch in batches), config)
    columns, batches = _extract(sync, adapter)
    return plan(
        batches, columns, config, ledger, duplicates=duplicates, full_resync=full_resync, first_run=first_run
    )


class ModelColumnsChanged(SourceError):
    """The model no longer has a column the sync reads: its SQL changed after the sync was saved."""


def _check_columns(config: SyncConfig, columns: list[str]) -> None:
    """Refuse to plan when the model no longer has a column the sync reads (its SQL changed since the sync
    was saved): every row would be wrong, so the run fails before reading them, saying which column."""
    if problems := config.validate(columns):
        raise ModelColumnsChanged(
            f"The model's columns no longer fit this sync: {' '.join(problem.message for problem in problems)} "
            "Edit the sync's mappings, or put the column back in the model."
        )


def _fingerprint_spec(config: SyncConfig, described: list[tuple[str, str]]) -> FingerprintSpec | None:
    """What the warehouse fingerprints, salted with the sync's configuration and the columns' types;
    None when the model's columns cannot be named one by one (two columns with the same name)."""
    types = dict(described)
    columns = fingerprint_columns(config)
    if len(types) != len(described) or not set(columns) <= set(types):
        return None
    salt = fingerprint_salt(config, [(name, types[name]) for name in columns])
    return FingerprintSpec(key_column=config.sync_key.column, columns=columns, salt=salt)


def _plan_fingerprinted(
    opened, columns: list[str], config: SyncConfig, ledger: DbLedger, *, full_resync: bool, first_run: bool
) -> Iterator[PlannedRecord]:
    batch_size = settings.SYNC_BATCH_SIZE
    with opened as read:

        def rows_of(only):
            return (batch.rows for batch in read.rows(batch_size, only))

        def duplicates():  # the keys first: see `plan`
            return duplicate_keys(([key for key, _ in batch] for batch in read.keys(batch_size * 4)), config)

        if first_run or full_resync:  # nothing to skip: read every row, with the fingerprint to store
            yield from plan(
                rows_of(None),
                columns,
                config,
                ledger,
                duplicates=duplicates(),
                full_resync=full_resync,
                first_run=first_run,
                fingerprinted=True,
            )
        elif unchanged := _unchanged_as_a_whole(read, ledger):
            yield unchanged_rows(unchanged)
        else:  # two short values a row: bigger batches, fewer ledger queries
            yield from plan_by_fingerprint(
                read.keys(batch_size * 4), rows_of, columns, config, ledger, duplicates=duplicates()
            )


def _unchanged_as_a_whole(read: FingerprintedRead, ledger: DbLedger) -> int:
    """How many rows the model has when every one of them is unchanged, else 0: one aggregate query on
    each side, at once. The model's (key, fingerprint) pairs, with no NULL key, are exactly the pairs of
    the ledger's accepted, unrejected records (so no key is duplicated: the ledger has each key once):
    each row's fingerprint is the one the ledger keeps for its key. A fingerprint covers the key's value too, so the key the planner would
    derive from the row is the ledger's, and the pairs' digest can be the fingerprints' digest. Any
    difference (a row changed, added or removed, a duplicate or NULL key, a rejection to retry, a changed
    configuration: new fingerprints) leaves it to the row-by-row plan."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest") as pool:
        model = pool.submit(read.digest)  # the warehouse and the app database work at once
        stored = ledger.unchanged_digest()
        digest = model.result()
    if stored is None or not stored.rows:
        return 0
    if digest.rows == digest.keys and digest == stored:
        return digest.rows
    return 0


# --- preview --------------------------------------------------------------------------------------------


@dataclass
class SyncPreview:
    counts: RunCounts  # what a run would count now
    invalid: list[PlannedRecord] = field(default_factory=list)
    samples: dict[str, list[PlannedRecord]] = field(default_factory=dict)
    calls: int = 0
    error: str = ""
    retry_stopped: int = 0  # of the skipped: refused records a user stopped retrying (their row unchanged)


# What each planned operation becomes in a run's counts, when Intercom accepts it.
PLANNED_OUTCOME = {
    Operation.CREATE: Outcome.CREATED, Operation.UPDATE: Outcome.UPDATED,
    Operation.UPDATE_IF_FOUND: Outcome.UPDATED, Operation.ARCHIVE: Outcome.ARCHIVED,
    Operation.DELETE: Outcome.DELETED, Operation.SEND: Outcome.SENT, Operation.SKIP: Outcome.SKIPPED,
    Operation.UNCHANGED: Outcome.UNCHANGED, Operation.INVALID: Outcome.INVALID,
}  # fmt: skip


def sync_preview(*, workspace, sync: Sync, full_resync: bool = False, sample_size: int = 5) -> SyncPreview:
    """What a run would do now, without sending anything or changing the ledger."""
    stopped = DbLedger(sync).retry_stopped()
    left_out = 0

    def planned() -> Iterator[PlannedRecord]:
        nonlocal left_out
        for record in _plan(sync, full_resync=full_resync, preview=True):
            if refusal := retry_stopped_refusal(stopped, record):  # skipped by the run, as by RunRecorder
                left_out += 1
                record = replace(record, operation=Operation.SKIP, reason=refusal)
            yield record

    try:
        summary = summarize(planned(), sample_size=max(sample_size, 20))
    except SourceError as error:
        return SyncPreview(counts=RunCounts(), error=str(error))
    counts = Counter({Tally.SOURCE_ROWS: summary.total})
    for operation, n in summary.counts.items():
        counts[PLANNED_OUTCOME[operation]] += n
    samples: dict[str, list[PlannedRecord]] = {}
    for op, records in summary.samples.items():  # UPDATE and UPDATE_IF_FOUND are both “updated”
        records = [r for r in records if not (op is Operation.SKIP and r.reason)]  # events' skips only
        kept = samples.setdefault(PLANNED_OUTCOME[op], [])
        kept += records[: sample_size - len(kept)]
    return SyncPreview(
        counts=RunCounts.from_json(counts),
        invalid=summary.samples.get(Operation.INVALID, []),
        samples=samples,
        calls=summary.calls,
        retry_stopped=left_out,
    )


def retry_stopped_refusal(stopped: dict[str, tuple[str, str]], record: PlannedRecord) -> str:
    """Why a run leaves the record out, when a user stopped retrying it (`DbLedger.retry_stopped`) and its
    row still makes the payload Intercom refused; "" otherwise."""
    if not stopped or not record.operation.calls_intercom:
        return ""
    refused_hash, refusal = stopped.get(record.key, ("", ""))
    if not refused_hash or refused_hash != record.payload_hash:
        return ""
    return f"Stopped retrying after Intercom refused it: {refusal}"


# --- run ------------------------------------------------------------------------------------------------


class RunRecorder:
    """Counts, ledger writes and per-record results of one run, all from the run's own thread.

    A later slice of a long run starts from the counts stored at the end of the previous one, and reads
    the model again from its first row: the first `replayed_rows` rows were counted already, so they are
    counted again only when they still need a call; a record that this run already sent (or that Intercom
    rejected in this run) is never sent twice, wherever it appears."""

    def __init__(self, run: SyncRun, ledger: DbLedger, progress: Callable[[RunCounts], None] | None = None):
        self.run, self.ledger, self.progress = run, ledger, progress
        self._tally: Counter[CountKey] = Counter()
        self.first_error = ""
        self._results: list[dict] = []  # record results to write: RecordResult columns by name
        self._row_hashes: list[tuple[str, str]] = []
        self.position = 0  # source rows planned in this slice
        self.replayed_rows, self.settled = 0, frozenset()
        self.before = RunCounts()  # what the earlier slices counted
        self.stopped = ledger.retry_stopped()  # "Stop retrying": key → (the payload refused, the refusal)
        if run.slices > 1:
            self.before = RunCounts.from_json(run.counts)
            self.replayed_rows = run.resume_after_rows
            self.settled = keys_settled_since(run.sync, run.started_at)

    @property
    def counts(self) -> RunCounts:
        """The run's counts so far, earlier slices included."""
        return self.before + RunCounts.from_json(self._tally)

    def _count(self, key: CountKey, n: int = 1) -> None:
        self._tally[key] += n

    def _progressed(self) -> None:
        if self.progress is not None:
            self.progress(self.counts)

    def planned(self, record: PlannedRecord) -> bool:
        """Count a planned record; True when it is to be sent."""
        if record.rows != 1:  # rows proven unchanged as a whole: counted, never sent
            start, self.position = self.position, self.position + record.rows
            fresh = self.position - max(start, self.replayed_rows)  # not counted by an earlier slice
            if fresh > 0:
                self._count(Tally.SOURCE_ROWS, fresh)
                self._count(Outcome.UNCHANGED, fresh)
                self._progressed()
            return False
        self.position += 1
        stopped = retry_stopped_refusal(self.stopped, record)
        sends = record.operation.calls_intercom and record.key not in self.settled and not stopped
        if self.position <= self.replayed_rows and not sends:
            return False  # counted by an earlier slice
        if record.operation.calls_intercom and not sends and not stopped:
            return False  # sent earlier in this run (the model's rows came back in another order)
        self._count(Tally.SOURCE_ROWS)
        self._progressed()
        if stopped:
            self._count(Outcome.SKIPPED)
            self._result(record.key, RecordOutcome.SKIPPED, RETRY_STOPPED, stopped)
        elif record.operation is Operation.INVALID:
            self._count(Outcome.INVALID)
            where = record.key if record.key is not None else f"row {record.row_number}"
            self._result(
                record.key or "", RecordOutcome.INVALID, Outcome.INVALID, f"{where}: {record.reason}"
            )
        elif record.operation is Operation.UNCHANGED:
            self._count(Outcome.UNCHANGED)
            if record.row_hash_stale:
                self._row_hashes.append((record.key, record.row_hash))
                if len(self._row_hashes) >= 1000:
                    self.ledger.record_row_hashes(self._row_hashes)
                    self._row_hashes = []
        elif record.operation is Operation.SKIP:
            self._count(Outcome.SKIPPED)
            self.ledger.record_accepted(record.key, payload_hash=record.payload_hash, destination_id=None)
        elif record.operation is Operation.SEND and sends:
            events_in_flight.note(self.run.sync, record.key, record.payload)
        return sends

    def loaded(self, record: PlannedRecord, result: LoadResult) -> None:
        self._count(result.outcome)
        if result.matched_existing:
            self._count(Tally.MATCHED_EXISTING)
        if result.restored:
            self._count(Tally.RESTORED)
        if result.warning:
            self._count(Tally.WARNINGS)
            self._result(
                record.key,
                RecordOutcome.WARNING,
                result.code,
                result.warning,
                destination_id=result.destination_id,
            )
        if result.outcome is Outcome.REJECTED:
            message = result.message or result.code
            first_refused_in = self.ledger.record_rejection(
                record.key,
                f"{result.code}: {message}",
                payload_hash=record.payload_hash or "",
                code="" if result.transient else result.code,
                run_id=self.run.pk,
            )
            if first_refused_in is not None and first_refused_in != self.run.pk:
                self._count(Tally.STILL_REJECTED)
            else:
                first_refused_in = None
                self.first_error = self.first_error or f"{record.key}: {message}"
            self._result(
                record.key, RecordOutcome.REJECTED, result.code, message, payload=record.payload,
                first_refused_in=first_refused_in,
            )  # fmt: skip
        elif result.outcome is Outcome.SKIPPED:
            self._result(
                record.key, RecordOutcome.SKIPPED, result.code, result.message, identified_by=record.payload
            )
            if result.forget:  # the next run looks it up again, as a record never synced
                self.ledger.forget(record.key)
        elif result.outcome is not Outcome.UNCHANGED:
            self._accepted_result(record, result)
            # Deletions too: the ledger keeps the record as deleted, so the next run leaves it unchanged.
            # A contact saved without the company it is to be attached to: its hash is the payload's with
            # no company, and no row fingerprint, so the next run reads the row and plans the attachment.
            attached = result.company_id == record.company_id
            digest = record.payload_hash if attached else payload_hash(record.payload, result.company_id)
            self.ledger.record_accepted(
                record.key,
                payload_hash=digest,
                destination_id=result.destination_id,
                payload=record.payload,
                company_id=result.company_id,
                row_hash=record.row_hash if attached else None,
            )

    def take_client_stats(self, client: IntercomClient) -> None:
        """The client's running totals (requests sent, 429s received) plus the earlier slices'."""
        stats = client.stats()
        self._tally[Tally.API_CALLS] = stats["calls"]
        self._tally[Tally.RATE_LIMITED] = stats["rate_limited"]

    def _accepted_result(self, record: PlannedRecord, result: LoadResult) -> None:
        """An accepted record's result: the body sent and Intercom's answer (record lookup)."""
        payload, message = record.payload, ""
        if record.attach_only and record.destination_id:  # only the attachment was sent (the loader)
            payload, message = (
                None,
                f"Only attached to company “{record.company_id}”: the fields were up to date.",
            )
        self._result(
            record.key, RecordOutcome(result.outcome.value), "", message, payload=payload,
            destination_id=result.destination_id, already_existed=result.matched_existing,
        )  # fmt: skip

    def _result(self, key: str, outcome: str, code: str, message: str, *, payload: dict | None = None,
                destination_id: str | None = None, already_existed: bool = False,
                identified_by: dict | None = None, first_refused_in: int | None = None) -> None:  # fmt: skip
        """`identified_by`: a body not sent whose identifying values the search finds the record by."""
        self._results.append(
            {
                "workspace_id": self.run.workspace_id,
                "run_id": self.run.pk,
                "key": key[:512],
                "outcome": outcome,
                "code": code[:100],
                "message": message,
                "payload": payload,
                "destination_id": (destination_id or "")[:64],
                "already_existed": already_existed,
                "lookup": lookup_text(key, payload or identified_by, destination_id),
                "first_refused_in": first_refused_in,
            }
        )
        if len(self._results) >= 500:
            self.flush()

    def flush(self) -> None:
        record_results_insert(self._results)
        self._results = []
        self.ledger.record_row_hashes(self._row_hashes)
        self._row_hashes = []


class Stop(StrEnum):
    """Why `_load` returned."""

    DONE = "done"  # every record planned and settled
    CANCELLED = "cancelled"  # a user asked to stop
    SLICE_ENDED = "slice_ended"  # the slice's time is up: the run goes on in a new task
    SHUTDOWN = "shutdown"  # the worker is shutting down: the run goes on in a new task, on another worker


def _load(
    records: Iterable[PlannedRecord],
    loader: IntercomLoader,
    recorder: RunRecorder,
    run: SyncRun,
    watch: _RunWatch | None = None,
) -> Stop:
    """Send every record that needs a call through a bounded pool. Stops taking records when the run is
    to stop (`watch`: a cancel, the worker's shutdown; the warehouse query it interrupts ends the records
    early) or the slice's time (SYNC_RUN_SLICE_SECONDS) is up; the records in flight are settled first."""
    workers = settings.SYNC_CONCURRENCY
    in_flight: dict[Future, PlannedRecord] = {}
    now = time.monotonic()
    next_progress, slice_ends = now + PROGRESS_EVERY_SECONDS, now + settings.SYNC_RUN_SLICE_SECONDS
    stop = Stop.DONE
    records = iter(records)

    def settle(done) -> None:
        for future in done:
            recorder.loaded(in_flight.pop(future), future.result())  # AuthFailure propagates from here

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"run-{run.pk}") as pool:
        try:
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except QueryInterrupted:
                    if watch is None or watch.stop is None:
                        raise
                    stop = watch.stop
                    break
                if watch is not None and watch.stop is not None:
                    stop = watch.stop  # this record is not counted: a later slice plans it again
                    break
                if recorder.planned(record):
                    # In a copy of the run's context: the record's log lines carry the run's fields.
                    in_flight[pool.submit(copy_context().run, loader.apply, record)] = record
                    if len(in_flight) >= workers * 2:
                        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                        settle(done)
                now = time.monotonic()
                if now >= slice_ends:
                    stop = Stop.SLICE_ENDED
                    break
                if now >= next_progress:
                    recorder.take_client_stats(loader.client)
                    if services.run_save_progress(run, recorder.counts):
                        stop = Stop.CANCELLED
                        break
                    next_progress = now + PROGRESS_EVERY_SECONDS
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                settle(done)
        finally:
            for future in in_flight:
                future.cancel()
    return stop


# The runs executing in this process, for a warm shutdown to stop them (`runs_stop_for_shutdown`).
_watches: set[_RunWatch] = set()
_watches_lock = threading.Lock()


class _RunWatch(threading.Thread):
    """Runs beside a running run, on a thread (and a database connection) of its own:
    - tells the database every few seconds that the run's worker is alive, whatever the run is doing (a
      long warehouse query included), so that a run whose worker died can be told apart and ended;
    - asks every second whether a user cancelled the run;
    - once the run is to stop (cancelled, or its worker shutting down), interrupts the run's warehouse
      query, and again every second until the run is over: an interrupt that lands between two
      statements stops nothing, and the next statement must not run its course either.
    The Intercom loop reads `stop` before each record."""

    def __init__(self, run: SyncRun):
        super().__init__(name=f"watch-{run.pk}", daemon=True)
        self.sync_run = run
        self.adapter: SourceAdapter | None = None  # set once the run has built it
        self.cancelled, self.shutting_down = threading.Event(), threading.Event()
        self.lost = threading.Event()  # the run was ended by the reaper while this worker ran it
        self._over, self._wake = threading.Event(), threading.Event()

    @property
    def stop(self) -> Stop | None:
        """Why the run is to stop, if it is; a user's cancel wins over a shutdown."""
        if self.cancelled.is_set():
            return Stop.CANCELLED
        if self.shutting_down.is_set():
            return Stop.SHUTDOWN
        return None

    def run(self) -> None:
        beat_every = settings.SYNC_RUN_HEARTBEAT_SECONDS
        next_beat = time.monotonic() + beat_every
        try:
            while True:
                self._wake.wait(min(CANCEL_CHECK_SECONDS, beat_every))
                self._wake.clear()
                if self._over.is_set():
                    return
                try:
                    if time.monotonic() >= next_beat:
                        if not services.run_heartbeat(self.sync_run):
                            # Reaped (this worker looked dead): stop sending, the recovery run goes on.
                            self.lost.set()
                            self.cancelled.set()
                        next_beat = time.monotonic() + beat_every
                    if not self.cancelled.is_set() and services.run_cancel_requested(self.sync_run):
                        self.cancelled.set()
                except DatabaseError:  # a blip must not end the heartbeat: the run would be reaped
                    logger.warning("Run %s: could not reach the database", self.sync_run.pk, exc_info=True)
                    db_connection.close()
                if self.stop is not None and self.adapter is not None:
                    self.adapter.interrupt()
        finally:
            db_connection.close()  # this thread's own database connection

    def __enter__(self) -> _RunWatch:
        with _watches_lock:
            _watches.add(self)
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with _watches_lock:
            _watches.discard(self)
        self._over.set()
        self._wake.set()
        self.join(timeout=10)

    def shut_down(self) -> None:
        self.shutting_down.set()
        self._wake.set()


def runs_stop_for_shutdown() -> int:
    """This worker process is shutting down (warm): stop its running runs within seconds instead of
    waiting for their warehouse queries (up to the extraction limit, an hour). Each one settles the
    records in flight and is queued again, as at the end of a slice, for another worker to go on with;
    none of them is marked cancelled. Returns how many. Safe to call from a signal handler: it only
    wakes the runs' watch threads, which do the interrupting."""
    with _watches_lock:
        watches = list(_watches)
    for watch in watches:
        watch.shut_down()
    return len(watches)


def source_retry_delay(error: SourceError, attempt: int, waited: float) -> float | None:
    """Seconds to wait before extracting again after `attempt` failed with `error`, or None: only a
    transient error (a warehouse restarting refuses connections for a while) is retried, at most
    SYNC_SOURCE_RETRY_ATTEMPTS times in all, with a doubling pause, within SYNC_SOURCE_RETRY_SECONDS."""
    if not error.transient or attempt >= settings.SYNC_SOURCE_RETRY_ATTEMPTS:
        return None
    delay = min(settings.SYNC_SOURCE_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1),
                settings.SYNC_SOURCE_RETRY_SECONDS - waited)  # fmt: skip
    return delay if delay > 0 else None


def _extract_and_load(
    sync: Sync, run: SyncRun, adapter, loader, recorder: RunRecorder, watch: _RunWatch
) -> Stop:
    """Plan and load the run's records. A transient warehouse error before anything of this slice was
    planned or sent is retried (`source_retry_delay`); after that, it fails the run with its message."""
    untouched, waited = recorder.counts.to_json(), 0.0
    for attempt in itertools.count(1):
        try:
            records = _plan(sync, full_resync=run.full_resync, adapter=adapter)
            return _load(records, loader, recorder, run, watch)
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
    `max_running` caps the workspace's runs running at once (services.WorkspaceBusy beyond it).

    A run cancelled by a user ends Cancelled with the counts of what it did; one whose worker shuts
    down, or whose slice's time is up, is queued again and goes on in a new task."""
    # The task only has an id: this is the one lookup that does not start from a workspace.
    run = (
        SyncRun.objects.across_all_workspaces_unsafe()
        .select_related("sync", "sync__model", "sync__model__source", "sync__destination")
        .get(pk=run_id)
    )
    logs.bind(workspace=run.workspace_id, sync_id=run.sync_id, run_id=run.pk)
    if not services.run_mark_running(run, max_running=max_running):
        return run
    sync = run.sync
    ledger = DbLedger(sync)
    recorder = RunRecorder(run, ledger, progress)
    error, client, stop = "", None, Stop.DONE
    with _RunWatch(run) as watch:
        try:
            adapter = watch.adapter = source_adapter(sync.model.source)
            client = client_for(sync.destination)
            events_in_flight.settle(sync, client, ledger)
            config = services.sync_engine_config(sync)
            known = synced_companies(sync).get if config.company_id_column else None
            restoring = run.restores is not None
            creates_first = restoring and restore_creates_first(RunCounts.from_json(run.restores.counts))
            loader = IntercomLoader(client, config, known_companies=known, creates_first=creates_first)
            if checks_drift(run, config):
                check = drift_check(sync, config, client)
                recorder._count(Tally.DRIFT_CHECKED, check.checked)
                recorder._count(Tally.DRIFT_MISSING, check.missing)
            stop = _extract_and_load(sync, run, adapter, loader, recorder, watch)
        except QueryInterrupted as interrupted:  # the watch stopped the query before any record was planned
            if watch.stop is None:
                error = str(interrupted)
            stop = watch.stop or stop
        except AuthFailure as failure:
            mark_needs_reconnect(sync.destination, str(failure))
            error = f"Intercom refused the access token: reconnect {sync.destination.name}. ({failure})"
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
        if services.run_requeue_slice(run, counts=counts, resume_after_rows=recorder.position):
            return run
        if services.run_cancel_requested(run):  # a cancel is final: no next slice
            stop = Stop.CANCELLED
    if stop is Stop.CANCELLED and not error:
        return services.run_finish_cancelled(run, counts=counts)
    status = run_status(counts, stopped_by_error=bool(error))
    return services.run_finish(run, status=status, counts=counts, first_error=error or recorder.first_error)
