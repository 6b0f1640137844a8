"""The planner: model rows + the sync's ledger → what each record needs, with no HTTP and no database.

It streams: rows arrive in batches, the ledger is asked once per batch, and the only state kept across
batches is the set of keys seen in this run (to mark duplicates). Records come out in the model's order.

Fingerprints (`plan_by_fingerprint`): when the warehouse can compute each row's fingerprint (a 64-bit hash
of the columns the payload is built from, salted with everything else it depends on: `fingerprint_salt`),
a rerun first reads only (key, fingerprint) pairs, once. A row whose fingerprint is one the ledger stored
beside a payload Intercom accepted is UNCHANGED without reading its row (nor its key); rows without a key
are reported as they come; only the rows of the other keys are read in full and planned as above; the
unchanged rows come out last, as one record. Same plan, same counts (duplicate keys included:
`_FirstPass` says how). A row that plans UNCHANGED with a fingerprint the ledger does not have yet (a
changed configuration, say) carries `row_hash_stale`, so the run stores the new fingerprint and the next
run skips that row again.
Before that, the run compares one aggregate of the model's (key, fingerprint) pairs with the same aggregate
of the ledger (`runs.planning.unchanged_as_a_whole`); when they are the same set, every row is UNCHANGED and
the plan is a single `unchanged_rows(n)` record standing for the n rows, with nothing read row by row.

Rules (each one a decision users can read in the docs):
- Invalid: a NULL or blank key; a key that more than one row has: every one of those rows, so that the
  outcome never depends on the rows' order (`duplicate_keys` counts the keys in a first pass over the key
  column, before anything is planned; a rerun by fingerprint finds them in its pass over the pairs); a
  value that cannot be coerced (the coercion's reason). Keys are compared as the sync key's identifier compares them: emails trimmed and without regard to case.
- Update or Create: CREATE a key Intercom never accepted, UPDATE a changed payload (with the Intercom id
  when the ledger knows it), UNCHANGED for the same hash: no call.
- Update Only: UPDATE when the ledger knows the record's Intercom id; otherwise UPDATE_IF_FOUND: the loader
  finds it with one lookup and reports "not found, skipped" when Intercom has no such record. Nothing is
  written to the ledger for a record not found, so it is looked up again on the next run (it may exist by
  then).
- Keyed by the Intercom id, the key *is* the destination id: nothing can be created, so a record Intercom
  never accepted from this sync is UPDATE_IF_FOUND with that id, in both behaviors.
- Delete: each record of the model is ARCHIVEd (contacts) or DELETEd (companies, or contacts with
  permanent deletion), with the Intercom id when known. The loader records the deletion in the ledger, so
  the next run leaves it UNCHANGED (a full resync deletes again).
- Send: SEND an event id not yet in the ledger, UNCHANGED one already sent (full resync or not). On the
  first run with "skip rows that exist today", every valid row is SKIP: the loader records its id as sent
  without calling Intercom, so only rows that appear later are sent.
- Full resync ignores the ledger's hashes (unchanged records are updated again), never its sent event ids.
- A NULL under a field's "Keep Intercom's value" policy (`NullPolicy.KEEP`, and every field Intercom cannot
  clear) is left out of the body, so Intercom keeps the last value; when the ledger keeps the last payload,
  the planned payload takes that field's last value, so a NULL alone is no change (no call), and the
  ledger keeps describing what Intercom holds. A NULL company column never detaches a contact: the last
  company is kept the same way. Under "Clear in Intercom" a NULL is sent as null: a change like any other.
- Company attachment (contacts with a company column): the ledger's hash covers the payload and the company
  the contact is attached to. The contact is attached (`attach`) only when its company is not the one the
  ledger says is attached; when only the company changed, the body is not sent again (`attach_only`). A
  NULL company keeps the last attachment: Syncline attaches, it never detaches.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from apps.connections.intercom.catalog import Behavior
from apps.connections.intercom.coercion import CoercionError
from apps.connections.sources.base import PairBatch
from apps.syncs.engine.config import FirstRunMode, SyncConfig
from apps.syncs.engine.ledger import LedgerEntry, LedgerView
from apps.syncs.engine.payload import (
    CUSTOM,
    Built,
    InvalidValue,
    PayloadBuilder,
    key_reader,
    payload_hash,
)

if TYPE_CHECKING:
    import numpy as np

COMPANY_CHANGE = "company"  # the name of the company attachment in `PlannedRecord.changes`


class Operation(StrEnum):
    CREATE = "create"
    UPDATE = "update"  # destination_id known, or None for an upsert the loader resolves (409 → update)
    UPDATE_IF_FOUND = "update_if_found"  # Update Only, id unknown: one lookup; absent → "not found, skipped"
    ARCHIVE = "archive"
    DELETE = "delete"
    SEND = "send"
    SKIP = "skip"  # first run, "skip rows that exist today": recorded as sent, no call
    UNCHANGED = "unchanged"
    INVALID = "invalid"

    @property
    def calls_intercom(self) -> bool:
        return self not in NO_CALL


NO_CALL = frozenset({Operation.SKIP, Operation.UNCHANGED, Operation.INVALID})
# The operations whose payload goes to Intercom as a request body (checked against its schema first).
BODY_SENT = frozenset({Operation.CREATE, Operation.UPDATE, Operation.UPDATE_IF_FOUND, Operation.SEND})


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    key: str | None  # None for a row without a key
    operation: Operation
    payload: dict[str, Any] | None = None  # the request body (None for invalid records)
    payload_hash: str | None = None  # what the loader writes to the ledger once Intercom accepted it
    destination_id: str | None = None  # the Intercom id, when known
    reason: str | None = None  # why the record is invalid
    changes: dict[str, tuple[Any, Any]] | None = None  # updates: field → (old, new), when the old is known
    company_id: str | None = None  # contacts: the company (its company_id) to attach the contact to
    row_number: int = 0  # 1-based position in the model, for invalid-record reports
    row_hash: str | None = None  # the row's fingerprint, stored beside payload_hash once accepted
    row_hash_stale: bool = False  # UNCHANGED, but the ledger has another fingerprint: store this one
    rows: int = 1  # the rows it stands for: more for `unchanged_rows` (every row of an unchanged model)
    attach: bool = False  # contacts: attach to `company_id` (not the company the ledger says is attached)
    attach_only: bool = False  # contacts: Intercom has this payload already, only the attachment is sent


def unchanged_rows(count: int) -> PlannedRecord:
    """One record for `count` rows proven unchanged all at once (no key, no call): a rerun of a model
    whose (key, fingerprint) pairs are the ledger's, as a whole."""
    return PlannedRecord(None, Operation.UNCHANGED, rows=count)


def duplicate_keys(key_batches: Iterable[Iterable[Any]], config: SyncConfig) -> dict[str, int]:
    """The keys that more than one row has, with how many rows have each: the first pass of a plan, over
    the key column's values only (in batches). Keys are read as the planner reads them (`key_reader`);
    empty and unreadable keys are left to the planner, which reports them row by row. Memory: one set of
    every key, dropped once the pass is over."""
    read = key_reader(config)
    seen: set[str] = set()
    repeated: dict[str, int] = {}
    for batch in key_batches:
        for value in batch:
            try:
                key = read(value)
            except CoercionError:
                continue
            if key is None:
                continue
            if key in seen:
                repeated[key] = repeated.get(key, 1) + 1
            else:
                seen.add(key)
    return repeated


def plan(
    batches: Iterable[Sequence[Sequence[Any]]],
    columns: Sequence[str],
    config: SyncConfig,
    ledger: LedgerView,
    *,
    duplicates: Mapping[str, int] | None = None,
    full_resync: bool = False,
    first_run: bool = False,
    fingerprinted: bool = False,
) -> Iterator[PlannedRecord]:
    """Plan every row of the model, batch by batch, in order.

    `duplicates`: what `duplicate_keys` found in a first pass over the same rows. Rows already in memory
    (a list of batches) may leave it out: they are counted here; a stream of rows cannot be read twice,
    so its caller must count them first.
    `first_run` is true when the sync has never completed a run (the caller knows from the run history;
    an empty ledger cannot tell "first run" from "the model was empty last time"). With `fingerprinted`,
    each row ends with its fingerprint (one more value than `columns`).
    """
    key_index = list(columns).index(config.sync_key.column)
    duplicates = _counted(duplicates, batches, config, lambda row: row[key_index])
    planner = _Planner(config, columns, ledger, duplicates, full_resync=full_resync, first_run=first_run)
    for batch in batches:
        yield from planner.plan_batch(batch, fingerprinted=fingerprinted)


def _counted(
    duplicates: Mapping[str, int] | None,
    batches: Iterable[Sequence[Any]],
    config: SyncConfig,
    key_of: Callable[[Any], Any],
) -> Mapping[str, int]:
    if duplicates is not None:
        return duplicates
    if not isinstance(batches, Sequence):
        raise TypeError("a stream of rows is read once: count its duplicate keys first (duplicate_keys)")
    return duplicate_keys(([key_of(row) for row in batch] for batch in batches), config)


def _shown(key: str) -> str:
    return key if len(key) <= 80 else key[:80] + "…"


# (key value, fingerprint) pairs of the rows wanted (None: every row) → batches of rows, each ending with
# its fingerprint
RowsOf = Callable[[Collection[tuple[Any, str]] | None], Iterable[Sequence[Sequence[Any]]]]


def uses_fingerprints(config: SyncConfig) -> bool:
    """Where a payload is a function of the row (and of the last accepted payload, idempotently, for
    NULLs that keep Intercom's value). Send plans from the event ids, Delete from the keys alone."""
    return config.behavior in (Behavior.UPSERT, Behavior.UPDATE_ONLY)


def fingerprint_columns(config: SyncConfig) -> tuple[str, ...]:
    """The columns a payload is built from, the key first."""
    columns = [config.sync_key.column]
    columns += [m.column for m in config.mappings if m.column is not None]
    if config.company_id_column:
        columns.append(config.company_id_column)
    return tuple(dict.fromkeys(columns))


def fingerprint_salt(config: SyncConfig, column_types: Sequence[tuple[str, str]]) -> str:
    """Everything but the values that the payload depends on: the configuration (constants, types,
    options) and the columns' database types (an int that became text can coerce differently)."""
    document = repr(("fingerprint v1", config, tuple(column_types)))
    return hashlib.blake2b(document.encode(), digest_size=16).hexdigest()


def plan_by_fingerprint(
    keys: Iterable[PairBatch],
    rows_of: RowsOf,
    columns: Sequence[str],
    config: SyncConfig,
    ledger: LedgerView,
    *,
    reread_limit: int = 20_000,
) -> Iterator[PlannedRecord]:
    """The same plan as `plan`, reading full rows only for keys whose fingerprint the ledger lacks.

    `keys`: batches of (key value, fingerprint) of every row, in the model's order, read once: the first
    pass (`_FirstPass`) finds the rows whose fingerprint the ledger holds (unchanged, their keys never
    read) and the keys of the others. `rows_of(wanted)`: batches of the rows of those (key value,
    fingerprint) pairs, each row ending with its fingerprint (`None`: every row); the source picks them
    by key or by fingerprint. Up to `reread_limit` rows are asked for; past it, every row is read again
    and the ones needed are picked out. Records come out as: rows without a usable key (as the pass meets
    them), the rows of keys seen more than once among the others, the planned rows, then the duplicates
    among the unchanged rows and the unchanged rows as one record. Memory: 8 bytes a stored fingerprint
    and 8 a row count beside it, and the keys that need their rows.
    """
    planner = _Planner(config, columns, ledger, {}, full_resync=False, first_run=False)
    first = _FirstPass(planner, ledger.fingerprints(), reread_limit)
    for batch in keys:
        yield from first.batch(batch)
    yield from first.repeated_rows()
    needed = first.needed
    if needed:
        plan_needed = functools.partial(planner.plan_needed, needed=needed, unchanged_of=first.unchanged_of)
        if first.values is None:  # too many to ask for: every row is read again, each needed key planned once
            yield from plan_needed(rows_of(None), match_fingerprint=False)
        else:  # below the limit, every needed key has its fingerprint
            wanted = [(first.values[key], fp) for key, fp in needed.items() if fp is not None]
            yield from plan_needed(rows_of(wanted), match_fingerprint=True)
            if needed:  # the query gave these rows other values the second time (random(), a clock …)
                yield from plan_needed(rows_of(None), match_fingerprint=False)
        for key in needed:  # gone: a query whose rows change from one read to the next
            reason = "the model returned this row once and not the next time it was read (is the query non-deterministic?)"
            yield PlannedRecord(key, Operation.INVALID, reason=reason)
    yield from first.finish()


class _FirstPass:
    """One pass over every row's (key, fingerprint), a batch at a time. A row whose fingerprint the ledger
    holds is unchanged, and its key is not even read: a fingerprint covers the key's value, so the ledger
    holds it for this very key, which was a valid one; only a count per stored fingerprint is kept. Of
    the other rows, those without a usable key are reported at once, and the keys are kept (`needed`).

    A key in several rows makes every one of them invalid, whatever their order. Among the rows read by
    key, the pass sees it. Two unchanged rows with one key have one fingerprint (the ledger holds one per
    key): a count above one, named after the pass (`finish`, one ledger query). A key both unchanged and
    read by key is found where its ledger entry is read (`unchanged_of`).

    The loop every row of a rerun goes through is numpy's; Python's only meets the rows that changed."""

    def __init__(self, planner: _Planner, fingerprints: np.ndarray, reread_limit: int) -> None:
        import numpy as np  # here, not at the top: 15 MB in every process, needed only by this pass

        self.planner, self.known, self.reread_limit = planner, fingerprints, reread_limit
        self.counts = np.zeros(len(fingerprints), dtype=np.int64)  # rows with each stored fingerprint
        self.needed: dict[str, str | None] = {}  # key → its fingerprint (None past the reread limit)
        self.values: dict[str, Any] | None = {}  # key → its value as read, while few rows are needed
        self.repeated: dict[str, int] = {}  # key → how many rows read by key have it

    def batch(self, batch: PairBatch) -> list[PlannedRecord]:
        import numpy as np

        planner, values = self.planner, self.values
        needed, repeated = self.needed, self.repeated
        plain = planner.plain_text_keys
        at = _positions(self.known, batch.fingerprints)
        found = at >= 0
        np.add.at(self.counts, at[found], 1)
        invalid: list[PlannedRecord] = []
        start = planner.row_number
        for index in np.flatnonzero(~found).tolist():
            planner.row_number = start + index + 1
            value = batch.values[index]
            if plain and type(value) is str and value and not value.isspace():
                key = value  # what `_read_key` does for a plain text key, the short way
            else:
                read = planner._read_key(value)
                if isinstance(read, PlannedRecord):
                    invalid.append(read)
                    continue
                key = read
            if key in repeated:
                repeated[key] += 1
            elif key in needed:
                del needed[key]
                repeated[key] = 2
            elif values is None:
                needed[key] = None
            else:
                needed[key] = batch.fingerprint(index)
                values[key] = value
                if len(values) > self.reread_limit:  # too many to ask for: every row is read again, so
                    self.values = values = None  # neither their values nor their fingerprints are kept
                    self.needed = needed = dict.fromkeys(needed)
        planner.row_number = start + len(batch)
        return invalid

    def unchanged_of(self, entry: LedgerEntry | None) -> int:
        """How many unchanged rows have the key of this ledger entry (taken out of the unchanged rows:
        the key is in other rows too, so they are not unchanged but invalid). Asked for every key read
        by key: one lookup, a microsecond."""
        if entry is None or entry.payload_hash is None or not entry.row_hash or not len(self.known):
            return 0
        try:
            value = int(entry.row_hash)
        except ValueError:  # not of today's form: no row has it
            return 0
        if not -(2**63) <= value < 2**63:
            return 0
        at = int(self.known.searchsorted(value))
        if at == len(self.known) or self.known[at] != value:
            return 0
        count = int(self.counts[at])
        self.counts[at] = 0
        return count

    def repeated_rows(self) -> Iterator[PlannedRecord]:
        """The rows of keys that several rows read by key have (and any unchanged row with that key)."""
        repeated, ledger = self.repeated, self.planner.ledger
        keys = list(repeated)
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            entries = ledger.get_many(chunk)
            for key in chunk:
                count = repeated[key] + self.unchanged_of(entries.get(key))
                yield from self.planner.duplicate_rows(key, count)
        self.repeated = {}

    def finish(self) -> Iterator[PlannedRecord]:
        """The unchanged rows that share a fingerprint (one key: invalid), then the others as one record."""
        counts = self.counts
        shared = (counts > 1).nonzero()[0]
        if len(shared):
            fingerprints = [str(value) for value in self.known[shared].tolist()]
            keys = self.planner.ledger.keys_of(fingerprints)
            for fingerprint, count in zip(fingerprints, counts[shared].tolist(), strict=True):
                yield from self.planner.duplicate_rows(keys.get(fingerprint), count)
        unchanged = int((counts == 1).sum())
        self.known, self.counts = self.known[:0].copy(), counts[:0].copy()  # 16 bytes a stored fingerprint
        if unchanged:
            yield unchanged_rows(unchanged)


def _positions(known: np.ndarray, fingerprints: np.ndarray) -> np.ndarray:
    """Where each fingerprint is in `known` (sorted), -1 where it is not there."""
    import numpy as np

    at = np.full(len(fingerprints), -1, dtype=np.int64)
    if not len(known) or not len(fingerprints):
        return at
    order = np.argsort(fingerprints)  # looked up in order, they walk `known` once: about twice as fast
    wanted = fingerprints[order]
    found = np.minimum(known.searchsorted(wanted), len(known) - 1)
    match = known[found] == wanted
    at[order[match]] = found[match]
    return at


@dataclass(frozen=True, slots=True)
class _Valid:
    """A row with a usable, first-seen key, waiting for its batch's ledger lookup. Its payload is built
    only when needed: a row whose fingerprint matches the ledger's is unchanged without building it."""

    row_number: int
    key: str
    row: Sequence[Any]
    row_hash: str | None
    built: Built | None = None  # events are built (checked) before the ledger is asked


class _Planner:
    def __init__(
        self,
        config: SyncConfig,
        columns: Sequence[str],
        ledger: LedgerView,
        duplicates: Mapping[str, int],
        *,
        full_resync: bool,
        first_run: bool,
    ) -> None:
        self.config = config
        self.duplicates = duplicates
        self.read_key = key_reader(config)
        # Text keys read as they are (not emails, which are trimmed and lowercased): the first pass of a
        # rerun takes a short way for them.
        self.plain_text_keys = config.sync_key.identifier != "email"
        self.ledger = ledger
        self.full_resync = full_resync
        self.skip_existing = (
            first_run and config.event is not None and config.event.first_run is FirstRunMode.SKIP_EXISTING
        )
        self.builder = PayloadBuilder(config, columns)
        self.key_column = config.sync_key.column
        self.key_index = list(columns).index(self.key_column)
        self.seen: set[str] = set()
        self.row_number = 0
        self.delete_operation = (
            Operation.ARCHIVE if config.is_contact and not config.permanent_delete else Operation.DELETE
        )

    def plan_batch(
        self, batch: Sequence[Sequence[Any]], *, fingerprinted: bool = False
    ) -> list[PlannedRecord]:
        """Check every row first, then ask the ledger once for the batch's valid keys, then decide."""
        checked: list[PlannedRecord | _Valid] = []
        for row in batch:
            self.row_number += 1
            checked.append(self._check(row, row[-1] if fingerprinted else None))
        return self._decide_batch(checked)

    def plan_needed(
        self,
        batches: Iterable[Sequence[Sequence[Any]]],
        needed: dict[str, str | None],
        *,
        match_fingerprint: bool,
        unchanged_of: Callable[[LedgerEntry | None], int],
    ) -> Iterator[PlannedRecord]:
        """Second pass: plan the rows of the keys in `needed` (each once), skipping every other row. A key
        that `unchanged_of` says unchanged rows have too is in several rows: they are all invalid."""
        self.row_number = 0  # not the rows' positions any more; these records all have keys
        for batch in batches:
            checked: list[_Valid] = []
            for row in batch:
                try:
                    key = self.read_key(row[self.key_index])
                except CoercionError:
                    continue  # reported in the first pass
                if key is None or key not in needed or (match_fingerprint and needed[key] != row[-1]):
                    continue
                del needed[key]
                checked.append(_Valid(0, key, row, row[-1]))
            entries = self.ledger.get_many([item.key for item in checked]) if checked else {}
            for item in checked:
                entry = entries.get(item.key)
                if also := unchanged_of(entry):
                    yield from self.duplicate_rows(item.key, also + 1)
                else:
                    yield self._decide(item, entry)

    def _decide_batch(self, checked: list[PlannedRecord | _Valid]) -> list[PlannedRecord]:
        keys = [item.key for item in checked if isinstance(item, _Valid)]
        if not keys:
            return [item for item in checked if isinstance(item, PlannedRecord)]  # all invalid
        if self.config.behavior is Behavior.SEND:
            sent = self.ledger.sent_among(keys)
            return [
                self._send(item, item.key in sent) if isinstance(item, _Valid) else item for item in checked
            ]
        entries = self.ledger.get_many(keys)
        return [
            self._decide(item, entries.get(item.key)) if isinstance(item, _Valid) else item
            for item in checked
        ]

    def _decide(self, item: _Valid, entry: LedgerEntry | None) -> PlannedRecord:
        if (
            item.row_hash is not None
            and entry is not None
            and entry.payload_hash is not None
            and entry.row_hash == item.row_hash
            and not self.full_resync
        ):
            known_id = item.key if self.config.key_is_destination_id else entry.destination_id
            return PlannedRecord(
                item.key,
                Operation.UNCHANGED,
                None,
                entry.payload_hash,
                known_id,
                company_id=entry.company_id,
                row_number=item.row_number,
                row_hash=item.row_hash,
            )
        try:
            built = self.builder.build(item.row, item.key)
        except InvalidValue as error:
            return PlannedRecord(item.key, Operation.INVALID, reason=str(error), row_number=item.row_number)
        planned = self._diff(item, built, entry)
        if (
            planned.operation in BODY_SENT
            and planned.payload is not None
            and (refusal := self.builder.refusal(planned.payload))
        ):
            return PlannedRecord(item.key, Operation.INVALID, reason=refusal, row_number=item.row_number)
        return planned

    def _check(self, row: Sequence[Any], row_hash: str | None) -> PlannedRecord | _Valid:
        key = self._key(row[self.key_index])
        if isinstance(key, PlannedRecord):
            return key
        return self._valid(key, row, row_hash)

    def _read_key(self, value: Any) -> str | PlannedRecord:
        """The row's key, or the record saying why it has none."""
        try:
            key = self.read_key(value)
        except CoercionError as error:
            return PlannedRecord(None, Operation.INVALID, reason=str(error), row_number=self.row_number)
        if key is None:
            reason = f"{self.key_column}: the sync key is empty"
            return PlannedRecord(None, Operation.INVALID, reason=reason, row_number=self.row_number)
        return key

    def duplicate_reason(self, key: str, count: int) -> str:
        return (
            f"{self.key_column}: the key “{_shown(key)}” appears in {count} rows; "
            "a sync key must be unique, so none of them is synced"
        )

    def duplicate_rows(self, key: str | None, count: int) -> Iterator[PlannedRecord]:
        """The `count` rows of a key that several rows have (None: a key the ledger no longer names)."""
        reason = self.duplicate_reason(key if key is not None else "?", count)
        for _ in range(count):
            yield PlannedRecord(key, Operation.INVALID, reason=reason)

    def _key(self, value: Any) -> str | PlannedRecord:
        """The row's key, or the record saying why it has none (counting the row)."""
        key = self._read_key(value)
        if isinstance(key, PlannedRecord):
            return key
        number = self.row_number
        if key in self.duplicates:
            reason = self.duplicate_reason(key, self.duplicates[key])
            return PlannedRecord(key, Operation.INVALID, reason=reason, row_number=number)
        if key in self.seen:  # not in the first pass: the query returned other rows the second time
            reason = (
                f"{self.key_column}: the key “{_shown(key)}” appeared in more rows than the model had when its "
                "keys were counted (is the query non-deterministic?)"
            )
            return PlannedRecord(key, Operation.INVALID, reason=reason, row_number=number)
        self.seen.add(key)
        return key

    def _valid(self, key: str, row: Sequence[Any], row_hash: str | None) -> PlannedRecord | _Valid:
        number = self.row_number
        if self.config.behavior is Behavior.SEND:
            try:
                built = self.builder.build(row, key)
            except InvalidValue as error:
                return PlannedRecord(key, Operation.INVALID, reason=str(error), row_number=number)
            refusal = self.builder.refusal(built.payload)
            if refusal is not None:
                return PlannedRecord(key, Operation.INVALID, reason=refusal, row_number=number)
            return _Valid(number, key, row, None, built)
        return _Valid(number, key, row, row_hash)

    def _send(self, item: _Valid, already_sent: bool) -> PlannedRecord:
        if already_sent:
            operation = Operation.UNCHANGED
        else:
            operation = Operation.SKIP if self.skip_existing else Operation.SEND
        if item.built is None:  # `_valid` builds every event before the ledger is asked
            raise ValueError(f"row {item.row_number}: an event reached the ledger unbuilt")
        payload = item.built.payload
        return PlannedRecord(item.key, operation, payload, payload_hash(payload), row_number=item.row_number)

    def _diff(self, item: _Valid, built: Built, entry: LedgerEntry | None) -> PlannedRecord:
        config = self.config
        key, payload, company_id = item.key, built.payload, built.company_id
        behavior = config.behavior
        if behavior is Behavior.DELETE:
            digest = payload_hash({"operation": str(self.delete_operation), **payload})
        else:
            if entry is not None and entry.payload is not None:
                payload = keep_previous_values(entry.payload, payload, config.kept_on_null)
            if company_id is None and entry is not None:
                company_id = entry.company_id  # Syncline never detaches: a NULL company keeps the last one
            digest = payload_hash(payload, company_id)
        # The ledger's entry when Intercom accepted this record before (None: never accepted).
        accepted = entry if entry is not None and entry.payload_hash is not None else None
        known_id = key if config.key_is_destination_id else (entry.destination_id if entry else None)
        # Attach when the ledger has another company (or none: one that did not exist yet, say).
        attach = company_id is not None and (
            self.full_resync or accepted is None or company_id != accepted.company_id
        )

        def record(
            operation: Operation, changes: dict[str, tuple[Any, Any]] | None = None, stale: bool = False
        ) -> PlannedRecord:
            attach_only = (
                operation is Operation.UPDATE
                and attach
                and known_id is not None
                and not self.full_resync
                and accepted is not None
                and payload_hash(payload, accepted.company_id) == accepted.payload_hash
            )
            return PlannedRecord(
                key,
                operation,
                payload,
                digest,
                known_id,
                None,
                changes,
                company_id,
                item.row_number,
                item.row_hash,
                stale,
                attach=attach and operation is not Operation.UNCHANGED,
                attach_only=attach_only,
            )

        if accepted is not None and digest == accepted.payload_hash and not self.full_resync:
            stale = item.row_hash is not None and item.row_hash != accepted.row_hash
            return record(Operation.UNCHANGED, stale=stale)
        if behavior is Behavior.DELETE:
            return record(self.delete_operation)
        if behavior is Behavior.UPDATE_ONLY:
            if accepted is not None and known_id is not None:
                return record(Operation.UPDATE, _changes(accepted, payload, company_id))
            return record(Operation.UPDATE_IF_FOUND)
        if accepted is not None:
            return record(Operation.UPDATE, _changes(accepted, payload, company_id))
        return record(Operation.UPDATE_IF_FOUND if config.key_is_destination_id else Operation.CREATE)


def keep_previous_values(
    previous: dict[str, Any], current: dict[str, Any], kept: Collection[tuple[bool, str]]
) -> dict[str, Any]:
    """The current payload, plus the previous value of each `kept` field (custom, target) it leaves out:
    a NULL that keeps Intercom's value. Fields no longer mapped are not carried over."""
    merged = dict(current)
    custom = dict(current.get(CUSTOM, {}))
    previous_custom = previous.get(CUSTOM, {})
    for is_custom, target in kept:
        into, source = (custom, previous_custom) if is_custom else (merged, previous)
        if target not in into and target in source:
            into[target] = source[target]
    if custom:
        merged[CUSTOM] = custom
    return merged


def flatten(payload: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields by name, custom attributes as `custom_attributes.<name>`."""
    flat = {name: value for name, value in payload.items() if name != CUSTOM}
    flat.update({f"{CUSTOM}.{name}": value for name, value in payload.get(CUSTOM, {}).items()})
    return flat


def _changes(
    entry: LedgerEntry, payload: dict[str, Any], company_id: str | None
) -> dict[str, tuple[Any, Any]] | None:
    if entry.payload is None:
        return None
    old, new = flatten(entry.payload), flatten(payload)
    changes = {name: (old.get(name), new.get(name)) for name in old.keys() | new.keys()}
    changes = {
        name: pair for name, pair in changes.items() if pair[0] != pair[1] or (name in old) != (name in new)
    }
    if entry.company_id != company_id:
        changes[COMPANY_CHANGE] = (entry.company_id, company_id)
    return dict(sorted(changes.items()))


@dataclass
class PlanSummary:
    counts: Counter[Operation] = field(default_factory=Counter)  # Operation → records
    samples: dict[Operation, list[PlannedRecord]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def calls(self) -> int:
        """Records that will cost at least one Intercom call."""
        return sum(n for operation, n in self.counts.items() if operation.calls_intercom)


def summarize(records: Iterable[PlannedRecord], *, sample_size: int = 0) -> PlanSummary:
    """Counts per operation (and the first `sample_size` records of each), consuming the plan as it streams."""
    summary = PlanSummary()
    counts, samples = summary.counts, summary.samples
    for planned in records:
        counts[planned.operation] += planned.rows
        if sample_size and planned.rows == 1:
            kept = samples.setdefault(planned.operation, [])
            if len(kept) < sample_size:
                kept.append(planned)
    return summary
