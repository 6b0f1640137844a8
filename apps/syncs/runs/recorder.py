"""What a run records as it goes: counts, ledger writes and per-record results (`RunRecorder`)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from apps.connections.intercom.client import IntercomClient
from apps.syncs.engine.load import LoadResult
from apps.syncs.engine.outcomes import CountKey, Outcome, RunCounts, Tally
from apps.syncs.engine.payload import payload_hash
from apps.syncs.engine.plan import (
    Operation,
    PlannedRecord,
)
from apps.syncs.models import RecordOutcome, SyncRun
from apps.syncs.runs import events_in_flight
from apps.syncs.runs.ledger import DbLedger, keys_settled_since
from apps.syncs.runs.records import lookup_text, record_results_insert

RETRY_STOPPED = "retry_stopped"  # the code of a record skipped because a user stopped retrying it
# Record results and ledger acceptances are written in batches of this many, or this often: one statement
# for hundreds of records instead of one per record (the worker's CPU per call, the database's load). A
# worker killed mid-run loses at most that much of its ledger: those records are sent again by the next
# run (a create finds the contact, 409 → update; an event is noted in flight first, and looked up).
WRITE_EVERY_RECORDS = 500
WRITE_EVERY_SECONDS = 2.0


def retry_stopped_refusal(stopped: dict[str, tuple[str, str]], record: PlannedRecord) -> str:
    """Why a run leaves the record out, when a user stopped retrying it (`DbLedger.retry_stopped`) and its
    row still makes the payload Intercom refused; "" otherwise."""
    if not stopped or not record.operation.calls_intercom:
        return ""
    refused_hash, refusal = stopped.get(record.key, ("", ""))
    if not refused_hash or refused_hash != record.payload_hash:
        return ""
    return f"Stopped retrying after Intercom refused it: {refusal}"


class RunRecorder:
    """Counts, ledger writes and per-record results of one run, all from the run's own thread.

    A later slice of a long run starts from the counts stored at the end of the previous one, and reads
    the model again from its first row: the first `replayed_rows` rows were counted already, so they are
    counted again only when they still need a call; a record that this run already sent (or that Intercom
    rejected in this run) is never sent twice, wherever it appears.

    What it writes is written in batches (`WRITE_EVERY_RECORDS`, `WRITE_EVERY_SECONDS`, and `flush` at the
    end of a slice): the ledger's acceptances, the record results, the fingerprints of unchanged rows. The
    events a run is about to send are noted by `note_events` in one statement, before any of them is sent."""

    def __init__(self, run: SyncRun, ledger: DbLedger, progress: Callable[[RunCounts], None] | None = None):
        self.run, self.ledger, self.progress = run, ledger, progress
        self._tally: Counter[CountKey] = Counter()
        self.first_error = ""
        self._results: list[dict] = []  # record results to write: RecordResult columns by name
        self._row_hashes: list[tuple[str, str]] = []
        self._accepted: list[dict[str, Any]] = []  # ledger acceptances to write (record_accepted_many)
        self._events: list[tuple[str, dict]] = []  # events to note in flight before they are sent
        self._written_at = time.monotonic()
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

    def count(self, key: CountKey, n: int = 1) -> None:
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
                self.count(Tally.SOURCE_ROWS, fresh)
                self.count(Outcome.UNCHANGED, fresh)
                self._progressed()
            return False
        self.position += 1
        stopped = retry_stopped_refusal(self.stopped, record)
        sends = record.operation.calls_intercom and record.key not in self.settled and not stopped
        if self.position <= self.replayed_rows and not sends:
            return False  # counted by an earlier slice
        if record.operation.calls_intercom and not sends and not stopped:
            return False  # sent earlier in this run (the model's rows came back in another order)
        self.count(Tally.SOURCE_ROWS)
        self._progressed()
        if stopped:
            self.count(Outcome.SKIPPED)
            self._result(record.key, RecordOutcome.SKIPPED, RETRY_STOPPED, stopped)
        elif record.operation is Operation.INVALID:
            self.count(Outcome.INVALID)
            where = record.key if record.key is not None else f"row {record.row_number}"
            self._result(
                record.key or "", RecordOutcome.INVALID, Outcome.INVALID, f"{where}: {record.reason}"
            )
        elif record.operation is Operation.UNCHANGED:
            self.count(Outcome.UNCHANGED)
            if record.row_hash_stale:
                self._row_hashes.append((record.key, record.row_hash))
                if len(self._row_hashes) >= 1000:
                    self.ledger.record_row_hashes(self._row_hashes)
                    self._row_hashes = []
        elif record.operation is Operation.SKIP:
            self.count(Outcome.SKIPPED)
            self._accept(key=record.key, payload_hash=record.payload_hash, destination_id=None)
        elif record.operation is Operation.SEND and sends:
            self._events.append((record.key, record.payload))
        return sends

    def note_events(self) -> None:
        """Note the events `planned` said are to be sent, in one statement: call before sending them."""
        if self._events:
            events_in_flight.note_many(self.run.sync, self._events)
            self._events = []

    def loaded(self, record: PlannedRecord, result: LoadResult) -> None:
        self.count(result.outcome)
        if result.matched_existing:
            self.count(Tally.MATCHED_EXISTING)
        if result.restored:
            self.count(Tally.RESTORED)
        if result.warning:
            self.count(Tally.WARNINGS)
            self._result(
                record.key,
                RecordOutcome.WARNING,
                result.code,
                result.warning,
                destination_id=result.destination_id,
            )
        if result.outcome is Outcome.REJECTED:
            message = result.message or result.code
            self._write_accepted()  # a refusal reads the ledger
            first_refused_in = self.ledger.record_rejection(
                record.key,
                f"{result.code}: {message}",
                payload_hash=record.payload_hash or "",
                code="" if result.transient else result.code,
                run_id=self.run.pk,
            )
            if first_refused_in is not None and first_refused_in != self.run.pk:
                self.count(Tally.STILL_REJECTED)
            else:
                first_refused_in = None
                self.first_error = self.first_error or f"{record.key}: {message}"
            self._result(
                record.key,
                RecordOutcome.REJECTED,
                result.code,
                message,
                payload=record.payload,
                first_refused_in=first_refused_in,
            )
        elif result.outcome is Outcome.SKIPPED:
            self._result(
                record.key, RecordOutcome.SKIPPED, result.code, result.message, identified_by=record.payload
            )
            if result.forget:  # the next run looks it up again, as a record never synced
                self._write_accepted()
                self.ledger.forget(record.key)
        elif result.outcome is not Outcome.UNCHANGED:
            self._accepted_result(record, result)
            # Deletions too: the ledger keeps the record as deleted, so the next run leaves it unchanged.
            # A contact saved without the company it is to be attached to: its hash is the payload's with
            # no company, and no row fingerprint, so the next run reads the row and plans the attachment.
            attached = result.company_id == record.company_id
            digest = record.payload_hash if attached else payload_hash(record.payload, result.company_id)
            self._accept(
                key=record.key,
                payload_hash=digest,
                destination_id=result.destination_id,
                payload=record.payload,
                company_id=result.company_id,
                row_hash=record.row_hash if attached else None,
            )
        if (
            len(self._accepted) >= WRITE_EVERY_RECORDS
            or time.monotonic() - self._written_at >= WRITE_EVERY_SECONDS
        ):
            self.flush()

    def _accept(self, **entry: Any) -> None:
        """A ledger acceptance, written with the next batch (`DbLedger.record_accepted_many`)."""
        entry["synced_at"] = timezone.now()
        self._accepted.append(entry)

    def _write_accepted(self) -> None:
        self.ledger.record_accepted_many(self._accepted)
        self._accepted = []

    def take_client_stats(self, client: IntercomClient) -> None:
        """The client's running totals (requests sent, 429s received, time held by the rate limiter) plus
        the earlier slices'."""
        stats = client.stats()
        self._tally[Tally.API_CALLS] = stats.calls
        self._tally[Tally.RATE_LIMITED] = stats.rate_limited
        self._tally[Tally.RATE_LIMIT_WAIT_MS] = stats.held_ms

    def _accepted_result(self, record: PlannedRecord, result: LoadResult) -> None:
        """An accepted record's result: the body sent and Intercom's answer (record lookup)."""
        payload, message = record.payload, ""
        if record.attach_only and record.destination_id:  # only the attachment was sent (the loader)
            payload, message = (
                None,
                f"Only attached to company “{record.company_id}”: the fields were up to date.",
            )
        self._result(
            record.key,
            RecordOutcome(result.outcome.value),
            "",
            message,
            payload=payload,
            destination_id=result.destination_id,
            already_existed=result.matched_existing,
        )

    def _result(
        self,
        key: str,
        outcome: str,
        code: str,
        message: str,
        *,
        payload: dict | None = None,
        destination_id: str | None = None,
        already_existed: bool = False,
        identified_by: dict | None = None,
        first_refused_in: int | None = None,
    ) -> None:
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
        if len(self._results) >= WRITE_EVERY_RECORDS:
            self.flush()

    def flush(self) -> None:
        """Write what is waiting: ledger acceptances, record results, fingerprints."""
        self._write_accepted()
        record_results_insert(self._results)
        self._results = []
        self.ledger.record_row_hashes(self._row_hashes)
        self._row_hashes = []
        self._written_at = time.monotonic()
