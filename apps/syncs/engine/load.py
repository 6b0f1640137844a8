"""The loader: sends planned records to Intercom, one call (or a few) per record, and says what happened.

It never reads the warehouse and never writes the database: `IntercomLoader.apply` returns a
`LoadResult`; the executor writes the ledger after Intercom accepted a record.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from apps.connections.intercom.client import Accepted, IntercomClient, Rejected, TransientFailure
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.plan import Operation, PlannedRecord


@dataclass(frozen=True)
class LoadResult:
    outcome: str  # created, updated, archived, deleted, sent, skipped, rejected
    destination_id: str | None = None
    code: str = ""
    message: str = ""
    company_id: str | None = None  # contacts: the company it is now attached to

    @property
    def accepted(self) -> bool:
        return self.outcome not in ("rejected", "skipped")


def _rejected(outcome: Rejected) -> LoadResult:
    return LoadResult("rejected", code=outcome.code, message=outcome.message)


class IntercomLoader:
    """Applies one planned record through the client. Thread-safe: the executor calls it from a pool."""

    def __init__(self, client: IntercomClient, config: SyncConfig):
        self.client = client
        self.config = config
        self._companies: dict[str, str | None] = {}  # company_id → Intercom id, found once per run
        self._lock = threading.Lock()

    def apply(self, record: PlannedRecord) -> LoadResult:
        """One record's calls. A failure that outlasted the client's retries rejects this record only (it
        is retried on the next run); an AuthFailure stops the run and propagates."""
        try:
            return self._apply(record)
        except TransientFailure as failure:
            code = f"http_{failure.status}" if failure.status else "unreachable"
            return LoadResult("rejected", code=code, message=str(failure))

    def _apply(self, record: PlannedRecord) -> LoadResult:
        operation = record.operation
        if operation is Operation.SEND:
            return self._sent(self.client.send_event(record.payload))
        if self.config.object_key == "company":
            return self._company(record)
        return self._contact(record)

    # --- events ------------------------------------------------------------------------------------
    def _sent(self, outcome) -> LoadResult:
        return LoadResult("sent") if isinstance(outcome, Accepted) else _rejected(outcome)

    # --- companies ---------------------------------------------------------------------------------
    def _company(self, record: PlannedRecord) -> LoadResult:
        if record.operation is Operation.DELETE:
            intercom_id = record.destination_id or self._company_id(record.key)
            if intercom_id is None:
                return LoadResult(
                    "skipped", code="not_found", message="Not found in Intercom, nothing to delete."
                )
            outcome = self.client.delete_company(intercom_id)
            return LoadResult("deleted", intercom_id) if isinstance(outcome, Accepted) else _rejected(outcome)
        outcome = self.client.upsert_company(record.payload)
        if isinstance(outcome, Rejected):
            return _rejected(outcome)
        with self._lock:
            self._companies[record.key] = outcome.intercom_id
        return LoadResult(
            "created" if record.operation is Operation.CREATE else "updated", outcome.intercom_id
        )

    def _company_id(self, company_id: str) -> str | None:
        with self._lock:
            if company_id in self._companies:
                return self._companies[company_id]
        found = self.client.find_company(company_id)
        intercom_id = found.intercom_id if isinstance(found, Accepted) else None
        with self._lock:
            self._companies[company_id] = intercom_id
        return intercom_id

    # --- contacts ----------------------------------------------------------------------------------
    def _find_contact(self, record: PlannedRecord) -> str | None:
        if record.destination_id:
            return record.destination_id
        found = self.client.find_contact(self.config.sync_key.identifier, record.key)
        if isinstance(found, Rejected):
            raise _RecordRejected(found)
        return found.intercom_id if found else None

    def _contact(self, record: PlannedRecord) -> LoadResult:
        try:
            return self._contact_call(record)
        except _RecordRejected as rejected:
            return _rejected(rejected.outcome)

    def _contact_call(self, record: PlannedRecord) -> LoadResult:
        operation = record.operation
        if operation in (Operation.ARCHIVE, Operation.DELETE):
            contact_id = self._find_contact(record)
            if contact_id is None:
                return LoadResult(
                    "skipped", code="not_found", message="Not found in Intercom, nothing to remove."
                )
            if operation is Operation.ARCHIVE:
                outcome, done = self.client.archive_contact(contact_id), "archived"
            else:
                outcome, done = self.client.delete_contact(contact_id), "deleted"
            return LoadResult(done, contact_id) if isinstance(outcome, Accepted) else _rejected(outcome)

        if operation is Operation.UPDATE_IF_FOUND:
            contact_id = self._find_contact(record)
            if contact_id is None:
                return LoadResult(
                    "skipped", code="not_found", message="Not found in Intercom (Update Only): skipped."
                )
            outcome, done = self.client.update_contact(contact_id, record.payload), "updated"
        elif operation is Operation.UPDATE and record.destination_id:
            outcome, done = self.client.update_contact(record.destination_id, record.payload), "updated"
            if isinstance(outcome, Rejected) and outcome.status == 404:
                # Deleted in Intercom since the last run: create it again.
                outcome, done = self.client.create_contact(record.payload), "created"
        else:  # CREATE, or an UPDATE whose id is not known yet: create, and a 409 becomes an update
            outcome = self.client.create_contact(record.payload)
            done = "created" if operation is Operation.CREATE else "updated"
        if isinstance(outcome, Rejected):
            return _rejected(outcome)
        return self._attach(record, LoadResult(done, outcome.intercom_id))

    def _attach(self, record: PlannedRecord, result: LoadResult) -> LoadResult:
        if not record.company_id or not result.destination_id:
            return result
        company = self._company_id(record.company_id)
        if company is None:
            return LoadResult(
                "rejected",
                result.destination_id,
                code="company_not_found",
                message=f"The contact was saved, but company “{record.company_id}” does not exist in Intercom "
                "(sync companies first); the attachment is retried on the next run.",
            )
        outcome = self.client.attach_contact_to_company(result.destination_id, company)
        if isinstance(outcome, Rejected):
            return LoadResult("rejected", result.destination_id, code=outcome.code, message=outcome.message)
        return LoadResult(result.outcome, result.destination_id, company_id=record.company_id)


class _RecordRejected(Exception):
    def __init__(self, outcome: Rejected):
        self.outcome = outcome
