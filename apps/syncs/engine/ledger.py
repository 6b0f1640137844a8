"""The planner's read-only view of a sync's ledger.

The ledger remembers, per record key, what Intercom last *accepted*: the payload's hash, the payload itself
(so a preview can show each changed field's old and new value), the company the contact was attached to,
and the Intercom id. It also keeps the last rejection, and for Send syncs, which event ids were sent.
Only the loader writes it, after Intercom accepted a record; the planner only reads, one batch at a time
(`get_many` and `sent_among` are called with the keys of one batch: 1-10k keys, one query each;
`fingerprints` once per rerun planned by fingerprint).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from apps.connections.sources.base import FINGERPRINT

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class LedgerEntry:
    payload_hash: str | None  # None: never accepted by Intercom (only a rejection is recorded)
    destination_id: str | None = None
    last_rejection: str | None = None
    payload: dict[str, Any] | None = None  # the last accepted payload, as JSON; None if not kept
    company_id: str | None = None  # contacts: the company last attached
    row_hash: str | None = None  # fingerprint of the source row (and sync config) behind the payload


class LedgerView(Protocol):
    def get_many(self, keys: Collection[str]) -> dict[str, LedgerEntry]:
        """The entries of those keys that have one."""
        ...

    def fingerprints(self) -> np.ndarray:
        """Every row fingerprint stored beside an accepted payload, as sorted 64-bit integers
        (`sorted_fingerprints`): a rerun's first pass looks up every row's fingerprint in it."""
        ...

    def keys_of(self, fingerprints: Collection[str]) -> dict[str, str]:
        """fingerprint → key, for the accepted records stored with those fingerprints."""
        ...

    def sent_among(self, keys: Collection[str]) -> set[str]:
        """Send syncs: which of these event ids were already sent (or recorded as sent)."""
        ...


def sorted_fingerprints(texts: Iterable[str]) -> np.ndarray:
    """Fingerprints as the ledger stores them (decimal text) → a sorted int64 array: 8 bytes each, where
    a set of the strings costs about 100. Text that is no fingerprint of today's form (an md5 an older
    version stored) is left out: no row has it, so its row is read and planned."""
    import numpy as np  # here, not at the top: 15 MB in every process, needed only by a rerun's first pass

    values = (int(text) for text in texts if FINGERPRINT.fullmatch(text) and -(2**63) <= int(text) < 2**63)
    return np.sort(np.fromiter(values, dtype=np.int64))


class InMemoryLedger:
    """A `LedgerView` in a dict, with the writes the loader would make. For tests and previews."""

    def __init__(self, entries: dict[str, LedgerEntry] | None = None, sent: Collection[str] = ()):
        self.entries: dict[str, LedgerEntry] = dict(entries or {})
        self.sent: set[str] = set(sent)
        self.lookups = 0  # batch lookups made, to check the planner asks per batch

    def get_many(self, keys: Collection[str]) -> dict[str, LedgerEntry]:
        self.lookups += 1
        return {key: self.entries[key] for key in keys if key in self.entries}

    def fingerprints(self) -> np.ndarray:
        self.lookups += 1
        return sorted_fingerprints(e.row_hash for e in self.entries.values() if e.payload_hash and e.row_hash)

    def keys_of(self, fingerprints: Collection[str]) -> dict[str, str]:
        self.lookups += 1
        wanted = set(fingerprints)
        return {
            e.row_hash: key
            for key, e in self.entries.items()
            if e.payload_hash and e.row_hash is not None and e.row_hash in wanted
        }

    def sent_among(self, keys: Collection[str]) -> set[str]:
        self.lookups += 1
        return {key for key in keys if key in self.sent}

    def record_row_hash(self, key: str, row_hash: str) -> None:
        self.entries[key] = replace(self.entries[key], row_hash=row_hash)

    def record_accepted(
        self,
        key: str,
        *,
        payload_hash: str,
        destination_id: str | None,
        payload: dict[str, Any] | None = None,
        company_id: str | None = None,
        row_hash: str | None = None,
    ) -> None:
        self.entries[key] = LedgerEntry(payload_hash, destination_id, None, payload, company_id, row_hash)

    def record_rejection(self, key: str, reason: str) -> None:
        entry = self.entries.get(key, LedgerEntry(payload_hash=None))
        self.entries[key] = replace(entry, last_rejection=reason)

    def record_sent(self, event_id: str) -> None:
        self.sent.add(event_id)
