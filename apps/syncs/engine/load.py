"""The loader: sends planned records to Intercom, one call (or a few) per record, and says what happened.

It never reads the warehouse and never writes the database: `IntercomLoader.apply` returns a
`LoadResult`; the executor writes the ledger after Intercom accepted a record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from apps.connections.intercom.catalog import Behavior
from apps.connections.intercom.client import Accepted, IntercomClient, Rejected, TransientFailure
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.outcomes import Outcome
from apps.syncs.engine.plan import Operation, PlannedRecord

KnownCompanies = Callable[[str], str | None]  # company_id → Intercom id, when known without a call


@dataclass(frozen=True)
class LoadResult:
    outcome: Outcome  # never invalid: the planner keeps invalid records from the loader
    destination_id: str | None = None
    code: str = ""
    message: str = ""  # why it was rejected or skipped
    company_id: str | None = None  # contacts: the company it is attached to now (None: none, or not known)
    warning: str = ""  # the record went through, but not all of it (the company could not be attached)
    matched_existing: bool = False  # updated: a create that found the contact already in Intercom
    transient: bool = False  # rejected: Intercom or the network kept failing (no refusal of this record)
    restored: bool = False  # created: the ledger had it in Intercom, where it was missing (drift)
    forget: bool = False  # skipped: Intercom lost the id the ledger remembers; look the record up next time


def _rejected(outcome: Rejected) -> LoadResult:
    return LoadResult(Outcome.REJECTED, code=outcome.code, message=outcome.message)


def _key(record: PlannedRecord) -> str:
    """The record's key: every record sent to the loader has one (the planner keeps keyless rows invalid)."""
    if record.key is None:
        raise ValueError(f"a {record.operation} record without a key cannot be loaded")
    return record.key


def _body(record: PlannedRecord) -> dict[str, Any]:
    """The request body of a record that sends one (every operation that calls Intercom has a payload)."""
    if record.payload is None:
        raise ValueError(f"a {record.operation} record without a payload cannot be loaded")
    return record.payload


class IntercomLoader:
    """Applies one planned record through the client. Thread-safe: the executor calls it from a pool.

    `known_companies` gives the Intercom id of a company without a call when it can (the ledgers of the
    Company syncs to the same Intercom); any other company is looked up once per run, however many
    threads need it at the same time.

    `creates_first`: a restore where most records are missing from Intercom (`apps.syncs.drift`): a
    record the ledger has an Intercom id for is created first (one call when it is missing; one it still
    has answers "already exists" and is updated, two calls) instead of updated by that id (one call when it
    is there; a 404 then creates it, two calls)."""

    def __init__(
        self,
        client: IntercomClient,
        config: SyncConfig,
        known_companies: KnownCompanies | None = None,
        *,
        creates_first: bool = False,
    ):
        self.client = client
        self.config = config
        self.known_companies = known_companies
        # Update Only never creates; nor does a sync keyed by the Intercom id (it has nothing to create by).
        self.creates = config.behavior is Behavior.UPSERT and not config.key_is_destination_id
        self.creates_first = creates_first and self.creates
        # company_id → its Intercom id (None: not in Intercom)
        self._companies: dict[str, Future[str | None]] = {}
        self._lock = threading.Lock()

    def apply(self, record: PlannedRecord) -> LoadResult:
        """One record's calls. A failure that outlasted the client's retries rejects this record only (it
        is retried on the next run); an AuthFailure stops the run and propagates."""
        try:
            return self._apply(record)
        except TransientFailure as failure:
            code = f"http_{failure.status}" if failure.status else "unreachable"
            return LoadResult(Outcome.REJECTED, code=code, message=str(failure), transient=True)

    def _apply(self, record: PlannedRecord) -> LoadResult:
        operation = record.operation
        if operation is Operation.SEND:
            return self._sent(self.client.send_event(_body(record)))
        if self.config.object_key == "company":
            return self._company(record)
        return self._contact(record)

    # --- events ------------------------------------------------------------------------------------
    def _sent(self, outcome: Accepted | Rejected) -> LoadResult:
        return LoadResult(Outcome.SENT) if isinstance(outcome, Accepted) else _rejected(outcome)

    # --- companies ---------------------------------------------------------------------------------
    def _company(self, record: PlannedRecord) -> LoadResult:
        if record.operation is Operation.DELETE:
            intercom_id = record.destination_id or self.company_intercom_id(_key(record))
            if intercom_id is None:
                return LoadResult(
                    Outcome.SKIPPED, code="not_found", message="Not found in Intercom, nothing to delete."
                )
            outcome = self.client.delete_company(intercom_id)
            if isinstance(outcome, Rejected):
                return _rejected(outcome)
            return LoadResult(Outcome.DELETED, intercom_id)
        outcome = self.client.upsert_company(_body(record))
        if isinstance(outcome, Rejected):
            return _rejected(outcome)
        known: Future[str | None] = Future()
        known.set_result(outcome.intercom_id)
        with self._lock:
            self._companies[_key(record)] = known
        # Upserted under another id than the ledger's: Intercom no longer had it, and created it again.
        restored = bool(record.destination_id and outcome.intercom_id not in (None, record.destination_id))
        created = record.operation is Operation.CREATE or restored
        return LoadResult(
            Outcome.CREATED if created else Outcome.UPDATED, outcome.intercom_id, restored=restored
        )

    def company_intercom_id(self, company_id: str) -> str | None:
        """The Intercom id of the company `company_id` (None: Intercom has none), found once per run: the
        first thread to ask finds it, the others wait for its answer. A failure is not kept: the threads
        waiting get it, a later record asks again."""
        future: Future[str | None] = Future()
        with self._lock:
            asked = self._companies.setdefault(company_id, future)
        if asked is not future:  # another thread is finding it, or found it
            return asked.result()
        try:
            intercom_id = self._find_company(company_id)
        except BaseException as error:
            with self._lock:
                del self._companies[company_id]
            future.set_exception(error)
            raise
        future.set_result(intercom_id)
        return intercom_id

    def _find_company(self, company_id: str) -> str | None:
        if self.known_companies is not None and (known := self.known_companies(company_id)):
            return known
        found = self.client.find_company(company_id)
        return found.intercom_id if isinstance(found, Accepted) else None

    # --- contacts ----------------------------------------------------------------------------------
    def _find_contact(self, record: PlannedRecord) -> str | None:
        if record.destination_id:
            return record.destination_id
        found = self.client.find_contact(self.config.sync_key.identifier, _key(record))
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
                    Outcome.SKIPPED, code="not_found", message="Not found in Intercom, nothing to remove."
                )
            if operation is Operation.ARCHIVE:
                outcome, done = self.client.archive_contact(contact_id), Outcome.ARCHIVED
            else:
                outcome, done = self.client.delete_contact(contact_id), Outcome.DELETED
            return LoadResult(done, contact_id) if isinstance(outcome, Accepted) else _rejected(outcome)

        if record.attach_only and record.destination_id:
            return self._attach(record, record.destination_id, saved=None)
        if operation is Operation.UPDATE_IF_FOUND:
            contact_id = self._find_contact(record)
            if contact_id is None:
                return LoadResult(Outcome.SKIPPED, code="not_found", message=self._not_found(record))
            outcome, done = self.client.update_contact(contact_id, _body(record)), Outcome.UPDATED
        elif operation is Operation.UPDATE and record.destination_id and self.creates_first:
            outcome, done = self.client.create_contact(_body(record)), Outcome.CREATED  # 409 → an update
        elif operation is Operation.UPDATE and record.destination_id:
            outcome, done = self.client.update_contact(record.destination_id, _body(record)), Outcome.UPDATED
            if isinstance(outcome, Rejected) and outcome.status == 404:
                # Deleted or archived in Intercom since the last run: create it again, if this sync creates.
                if not self.creates:
                    return LoadResult(
                        Outcome.SKIPPED, code="not_found", message=self._not_found(record), forget=True
                    )
                outcome, done = self.client.create_contact(_body(record)), Outcome.CREATED
        elif (lead_id := self._existing_lead(record)) is not None:  # Intercom would take a duplicate lead
            outcome, done = self.client.update_contact(lead_id, _body(record)), Outcome.UPDATED
            if isinstance(outcome, Accepted):
                outcome = replace(outcome, matched_existing=True)
        else:  # CREATE, or an UPDATE whose id is not known yet: create, and a 409 becomes an update
            outcome = self.client.create_contact(_body(record))
            done = Outcome.CREATED if operation is Operation.CREATE else Outcome.UPDATED
        if isinstance(outcome, Rejected):
            return _rejected(outcome)
        # A contact created here (a 404 on update included) has no company yet, whatever the ledger said.
        attach = record.attach or done is Outcome.CREATED
        if outcome.matched_existing:  # Intercom had it already: the create updated it
            done = Outcome.UPDATED
        result = self._attach(record, outcome.intercom_id, saved=done, attach=attach)
        # Created although the ledger had an Intercom id for it: Intercom had lost it.
        restored = done is Outcome.CREATED and record.destination_id is not None
        return replace(result, matched_existing=outcome.matched_existing, restored=restored)

    def _existing_lead(self, record: PlannedRecord) -> str | None:
        """A lead to create, matched by email: the Intercom id of a lead Intercom already has with it. Intercom
        never answers 409 for leads (they may share an email, and it replaces their External ID with its own),
        so a create would add a duplicate; its search lags writes, so one made seconds ago can still be missed."""
        if _body(record).get("role") != "lead" or self.config.sync_key.identifier != "email":
            return None
        found = self.client.find_contact("email", _key(record))
        if isinstance(found, Rejected):
            raise _RecordRejected(found)
        return found.intercom_id if found and (found.body or {}).get("role") == "lead" else None

    def _not_found(self, record: PlannedRecord) -> str:
        """Why an Update Only record (or one keyed by the Intercom id) was skipped, in the mapper's words."""
        key = self.config.sync_key.identifier
        identifier = next((i.label for i in self.config.object.identifiers if i.key == key), key)
        if self.config.behavior is not Behavior.UPDATE_ONLY:  # keyed by the Intercom id: nothing to create by
            return (
                f"No Intercom contact with {identifier} {record.key}: a sync keyed by it cannot create one."
            )
        return f"Update Only: no Intercom contact with {identifier} {record.key}."

    def _attach(
        self, record: PlannedRecord, contact_id: str | None, *, saved: Outcome | None, attach: bool = True
    ) -> LoadResult:
        """The contact's attachment to its company, when it needs one. `saved`: the contact's outcome when
        its body was just sent (None when only the attachment is sent). A company that cannot be attached
        leaves a warning: the contact itself went through (or was up to date already), and the ledger says
        "no company", so the next run attaches it."""
        done = saved or Outcome.UPDATED
        if not attach or not record.company_id:
            return LoadResult(done, contact_id, company_id=record.company_id)
        if not contact_id:  # Intercom answered without the contact's id: nothing to attach it by
            return LoadResult(done)
        company_id = record.company_id
        intercom_id = self.company_intercom_id(company_id)
        if intercom_id is None:
            code = "company_not_found"
            problem = f"company “{company_id}” is not in Intercom yet: it is attached on a later run once it exists."
        else:
            outcome = self.client.attach_contact_to_company(contact_id, intercom_id)
            if isinstance(outcome, Accepted):
                return LoadResult(done, contact_id, company_id=company_id)
            code = outcome.code or f"http_{outcome.status}"
            problem = (
                f"Intercom refused attaching it to company “{company_id}” ({outcome.message}): "
                "it is attached on a later run."
            )
        if saved is None:
            return LoadResult(Outcome.UNCHANGED, contact_id, code=code, warning=f"Already saved; {problem}")
        return LoadResult(saved, contact_id, code=code, warning=f"Saved; {problem}")


class _RecordRejected(Exception):
    def __init__(self, outcome: Rejected):
        self.outcome = outcome
