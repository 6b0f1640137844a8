"""A toy Intercom and loader for the planner's tests: applies a plan the way the real loader will.

Intercom here is a dict of records by key (with ids), merging updates like Intercom does (top-level fields
replace, custom attributes merge per key); a create on an existing key behaves like the 409 → update path.
The ledger is written only for what this fake Intercom accepted, as the loader will.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from apps.syncs.engine.ledger import InMemoryLedger
from apps.syncs.engine.plan import Operation, PlannedRecord

_ids = itertools.count(1)


@dataclass
class FakeIntercom:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → state (with "_company")
    ids: dict[str, str] = field(default_factory=dict)  # key → Intercom id
    removed: dict[str, str] = field(default_factory=dict)  # key → "archived" / "deleted"
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def add(self, key: str, state: dict[str, Any], *, intercom_id: str | None = None) -> str:
        self.records[key] = copy.deepcopy(state)
        self.ids[key] = intercom_id or f"ic-{next(_ids)}"
        return self.ids[key]

    def find(self, record: PlannedRecord) -> str | None:
        """The key of the record the loader would reach: by known id, else by one lookup of the key."""
        if record.destination_id is not None:
            return next(
                (k for k, i in self.ids.items() if i == record.destination_id and k in self.records), None
            )
        return record.key if record.key in self.records else None

    def write(self, key: str, record: PlannedRecord) -> None:
        """The body (unless the plan says Intercom has it: `attach_only`), and the company when the plan
        attaches it (`attach`): so a plan that skips a change shows as a state that does not converge."""
        state = self.records.get(key, {})
        if not record.attach_only:
            state = intercom_merge(state, copy.deepcopy(record.payload))
        if record.attach:
            state["_company"] = record.company_id
        self.records[key] = state


def intercom_merge(state: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Intercom's update: the body's top-level fields replace, custom attributes merge per key."""
    merged = state | body
    if "custom_attributes" in state or "custom_attributes" in body:
        merged["custom_attributes"] = state.get("custom_attributes", {}) | body.get("custom_attributes", {})
    return merged


def apply(records, intercom: FakeIntercom, ledger: InMemoryLedger) -> dict[Operation, int]:
    """Load a plan into the fake Intercom; returns what happened, counted per operation."""
    done: dict[Operation, int] = {}
    for record in records:
        op = record.operation
        done[op] = done.get(op, 0) + 1
        if op in (Operation.UNCHANGED, Operation.INVALID):
            continue
        if op is Operation.SKIP:
            ledger.record_sent(record.key)
            continue
        intercom.calls += 1
        if op is Operation.SEND:
            intercom.events.append(copy.deepcopy(record.payload))
            ledger.record_sent(record.key)
        elif op is Operation.CREATE:
            if record.key not in intercom.records:  # else: 409 "already exists" → update it
                intercom.ids.setdefault(record.key, f"ic-{next(_ids)}")
            intercom.write(record.key, record)
            _accept(ledger, record, intercom.ids[record.key])
        elif op in (Operation.UPDATE, Operation.UPDATE_IF_FOUND):
            key = intercom.find(record)
            if key is None:
                if op is Operation.UPDATE:
                    ledger.record_rejection(record.key, "not_found: User Not Found")
                continue  # UPDATE_IF_FOUND: "not found, skipped", nothing recorded
            intercom.write(key, record)
            _accept(ledger, record, intercom.ids[key])
        elif op in (Operation.ARCHIVE, Operation.DELETE):
            key = intercom.find(record)
            if key is not None:
                del intercom.records[key]
                intercom.removed[key] = str(op)
            _accept(ledger, record, intercom.ids.get(key) if key else record.destination_id)
        else:  # pragma: no cover - a new operation must be taught to the loader
            raise AssertionError(op)
    return done


def _accept(ledger: InMemoryLedger, record: PlannedRecord, intercom_id: str | None) -> None:
    ledger.record_accepted(
        record.key,
        payload_hash=record.payload_hash,
        destination_id=intercom_id,
        payload=copy.deepcopy(record.payload),
        company_id=record.company_id,
        row_hash=record.row_hash,
    )
