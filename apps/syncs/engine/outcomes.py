"""What happened to the records of a run: one vocabulary (`Outcome`, `Tally`) and one value (`RunCounts`),
read by the engine, the run recorder, the pages, the alert emails, the webhooks and the API alike.

`SyncRun.counts` holds `RunCounts.to_json()`. Its keys are the strings runs have always stored, so a run
recorded before a counter existed reads that counter as 0. Plain Python: the engine imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What happened to one record in a run; every record read has exactly one."""

    CREATED = "created"  # Intercom created it
    UPDATED = "updated"  # Intercom updated it (a create answered "already exists" included)
    UNCHANGED = "unchanged"  # Intercom has it as it is (says the ledger): no call
    SKIPPED = "skipped"  # nothing to do by design: Update Only and no such contact, nothing to remove…
    ARCHIVED = "archived"
    DELETED = "deleted"
    SENT = "sent"  # an event
    INVALID = (
        "invalid"  # refused by Syncline before any call: no key, a duplicate key, a value it cannot send
    )
    REJECTED = "rejected"  # refused by Intercom

    @property
    def accepted(self) -> bool:
        """Intercom took the record's write."""
        return self in ACCEPTED


ACCEPTED = frozenset({Outcome.CREATED, Outcome.UPDATED, Outcome.ARCHIVED, Outcome.DELETED, Outcome.SENT})


class Tally(StrEnum):
    """A run's counters that are not one outcome per record."""

    SOURCE_ROWS = "source_rows"  # rows read from the model
    WARNINGS = "warnings"  # records that went through, not all of it (saved; company not attached yet)
    MATCHED_EXISTING = "matched_existing"  # of the updated: creates Intercom answered "already exists"
    # Of the rejected: refused before, the same payload for the same reason ("still refused"). Retried by
    # each run, but not a new failure: the status rules read `RunCounts.newly_rejected`.
    STILL_REJECTED = "still_rejected"
    API_CALLS = "api_calls"  # requests sent to Intercom
    RATE_LIMITED = "rate_limited"  # of those, answered 429 and retried
    # Milliseconds of the run during which the shared rate limiter held calls back (wall clock, however
    # many calls were waiting): how much of the run Intercom's allowance decided.
    RATE_LIMIT_WAIT_MS = "rate_limit_wait_ms"
    RESTORED = "restored"  # of the created: records the ledger had in Intercom, missing there, created again
    DRIFT_CHECKED = "drift_checked"  # ledger records looked up in Intercom to check they are still there
    DRIFT_MISSING = "drift_missing"  # of those, missing from Intercom (deleted, archived, a workspace reset)


CountKey = Outcome | Tally


@dataclass(frozen=True, slots=True)
class RunCounts:
    """A run's counts (so far, while it runs). The fields are named after `Outcome` and `Tally` values."""

    source_rows: int = 0
    invalid: int = 0
    unchanged: int = 0
    created: int = 0
    updated: int = 0
    archived: int = 0
    deleted: int = 0
    sent: int = 0
    skipped: int = 0
    rejected: int = 0
    still_rejected: int = 0
    warnings: int = 0
    matched_existing: int = 0
    api_calls: int = 0
    rate_limited: int = 0
    rate_limit_wait_ms: int = 0
    restored: int = 0
    drift_checked: int = 0
    drift_missing: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RunCounts:
        """The counts stored in `SyncRun.counts` (any missing, NULL or unreadable count is 0; unknown keys
        are dropped)."""
        data = data or {}
        return cls(**{key: _whole(data.get(key)) for key in COUNT_KEYS})

    def to_json(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in COUNT_KEYS}

    def __getitem__(self, key: CountKey | str) -> int:
        if key not in COUNT_KEYS:
            raise KeyError(key)
        count: int = getattr(self, key)
        return count

    def __add__(self, other: RunCounts) -> RunCounts:
        """Two slices' counts together."""
        return RunCounts(**{key: self[key] + other[key] for key in COUNT_KEYS})

    @property
    def accepted(self) -> int:
        """Records whose write Intercom took."""
        return sum(self[outcome] for outcome in ACCEPTED)

    @property
    def attempted(self) -> int:
        """Records whose write reached Intercom: accepted or refused."""
        return self.accepted + self.rejected

    @property
    def newly_rejected(self) -> int:
        """Rejected records that were not refused before for the same reason: the run's new failures."""
        return max(0, self.rejected - self.still_rejected)

    @property
    def total(self) -> int:
        """Records given an outcome (each record read has one)."""
        return sum(self[outcome] for outcome in Outcome)

    @property
    def all_went_through(self) -> bool:
        """No record was refused (by Syncline or Intercom), skipped or saved with a warning, and none of
        the records checked in Intercom was missing there (drift: the unchanged may be missing too)."""
        return not (self.rejected or self.invalid or self.skipped or self.warnings or self.drift_missing)


COUNT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(RunCounts))
if set(COUNT_KEYS) != {*Outcome, *Tally}:  # a new outcome or counter needs its field, and the reverse
    raise AssertionError("RunCounts' fields must be exactly the Outcome and Tally values")


def _whole(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


# How each count is called on the pages and in emails, in the order they are shown.
LABELS: dict[CountKey, str] = {
    Tally.SOURCE_ROWS: "rows read",
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.ARCHIVED: "archived",
    Outcome.DELETED: "deleted",
    Outcome.SENT: "sent",
    Outcome.SKIPPED: "skipped",
    Outcome.REJECTED: "rejected",
    Tally.STILL_REJECTED: "of them still refused",
    Outcome.INVALID: "invalid",
    Tally.WARNINGS: "warnings",
}
# The counts that did not go as asked (shown in red), and those that went with a warning.
BAD: frozenset[CountKey] = frozenset({Outcome.REJECTED, Outcome.INVALID})
WARN: frozenset[CountKey] = frozenset({Tally.WARNINGS, Tally.STILL_REJECTED})
# The counts a run's one-line summary names when they are not zero.
SUMMARY: tuple[CountKey, ...] = (Outcome.CREATED, Outcome.UPDATED, Outcome.ARCHIVED, Outcome.DELETED,
                                 Outcome.SENT, Outcome.SKIPPED, Outcome.REJECTED, Tally.STILL_REJECTED,
                                 Outcome.INVALID, Tally.WARNINGS)  # fmt: skip


# What a run of each behavior did, as its run table's columns (a behavior's own outcomes first): so an
# event, Delete or Update Only run never reads as a row of zeros.
BEHAVIOR_COUNTS: dict[str, tuple[CountKey, ...]] = {
    "upsert": (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REJECTED, Outcome.INVALID),
    "update_only": (Outcome.UPDATED, Outcome.SKIPPED, Outcome.UNCHANGED, Outcome.REJECTED, Outcome.INVALID),
    "delete": (Outcome.ARCHIVED, Outcome.DELETED, Outcome.SKIPPED, Outcome.UNCHANGED, Outcome.REJECTED,
               Outcome.INVALID),
    "send": (Outcome.SENT, Outcome.SKIPPED, Outcome.UNCHANGED, Outcome.REJECTED, Outcome.INVALID),
}  # fmt: skip


def counts_summary(counts: RunCounts) -> str:
    """A run's result in a few words: its counts that are not zero ("120 updated · 2 rejected")."""
    parts = [f"{counts[key]:,} {LABELS[key]}" for key in SUMMARY if counts[key]]
    if parts:
        return " · ".join(parts)
    if counts.unchanged:
        return f"{counts.unchanged:,} unchanged, nothing to send"
    return "no records"
