"""The ledger in PostgreSQL: the engine's `LedgerView` for one sync, and the writes the loader makes."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.db import connection as db
from django.db.models import Q
from django.utils import timezone

from apps.connections.intercom.catalog import Behavior
from apps.connections.sources.base import PairDigest
from apps.syncs.engine.ledger import LedgerEntry as EngineEntry
from apps.syncs.engine.ledger import sorted_fingerprints
from apps.syncs.models import LedgerEntry, Sync
from apps.tenancy.scoping import WorkspaceScopedQuerySet

if TYPE_CHECKING:
    import numpy as np

# What an acceptance writes over a refusal: the record is no longer refused.
NOT_REFUSED = {"last_rejection": "", "last_rejected_at": None, "rejected_hash": "", "rejection_code": "",
               "first_rejected_run": None, "retry_stopped": False}  # fmt: skip


# A sync's records Intercom accepted, with a fingerprint of today's form: a 64-bit integer in decimal has at
# most 20 characters, an md5 that an older version stored has 32 (a regular expression cost 2 s a million).
_ACCEPTED_WITH_FINGERPRINTS = (
    "FROM syncs_ledgerentry WHERE workspace_id = %s AND sync_id = %s AND payload_hash <> '' "
    "AND octet_length(row_hash) BETWEEN 1 AND 20"
)


class DbLedger:
    """`with_payloads` loads the last accepted payloads too, so a preview can show old → new values; a run
    only needs the hashes and ids, and skips them (most of the ledger's bytes)."""

    def __init__(self, sync: Sync, *, with_payloads: bool = False):
        self.sync = sync
        self.with_payloads = with_payloads
        # By id, so that an unsaved sync (the wizard's draft) reads an empty ledger.
        self._rows = LedgerEntry.objects.for_workspace(sync.workspace_id).filter(sync_id=sync.pk)

    def get_many(self, keys: Collection[str]) -> dict[str, EngineEntry]:
        """One query per batch. Raw SQL with one array parameter: the ORM's IN list of thousands of
        parameters cost more than the lookup itself (measured with benchmarks/no_change_rerun.py)."""
        fields = [
            "key",
            "payload_hash",
            "destination_id",
            "last_rejection",
            "payload",
            "company_id",
            "row_hash",
        ]
        if not self.with_payloads:
            fields[4] = "NULL"
        if db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute(
                    f"SELECT {', '.join(fields)} FROM syncs_ledgerentry "  # noqa: S608 - fixed column names
                    "WHERE workspace_id = %s AND sync_id = %s AND key = ANY(%s)",
                    [self.sync.workspace_id, self.sync.pk, list(keys)],
                )
                rows = cursor.fetchall()
        else:  # the embedded SQLite database: the ORM, payloads dropped when not asked for
            fields[4] = "payload"
            rows = self._rows.filter(key__in=list(keys)).values_list(*fields)
            if not self.with_payloads:
                rows = [(*row[:4], None, *row[5:]) for row in rows]
        return {
            key: EngineEntry(
                payload_hash=payload_hash or None,
                destination_id=destination_id or None,
                last_rejection=last_rejection or None,
                payload=_json(stored),
                company_id=company_id or None,
                row_hash=row_hash or None,
            )
            for key, payload_hash, destination_id, last_rejection, stored, company_id, row_hash in rows
        }

    def fingerprints(self) -> np.ndarray:
        """Every fingerprint stored beside an accepted payload, sorted (`sorted_fingerprints`): what the
        first pass of a rerun by fingerprint asks about every row. On PostgreSQL one value of packed
        64-bit integers (int8send): read row by row, a million fingerprints cost about a second in the
        driver alone; as one value, the database's scan (0.5 s). A fingerprint of the old form (an md5 an
        older worker wrote during an upgrade) is left out: its row is read and planned."""
        import numpy as np  # here, not at the top: 15 MB in every process, needed only by a rerun's first pass

        if db.vendor != "postgresql":  # the embedded SQLite database: the ORM
            rows = self._rows.exclude(payload_hash="").exclude(row_hash="")
            return sorted_fingerprints(rows.values_list("row_hash", flat=True).iterator(chunk_size=5000))
        with db.cursor() as cursor:
            cursor.execute(
                f"SELECT string_agg(int8send(row_hash::bigint), ''::bytea) {_ACCEPTED_WITH_FINGERPRINTS}",
                [self.sync.workspace_id, self.sync.pk],
            )
            (packed,) = cursor.fetchone()
        return np.sort(np.frombuffer(packed or b"", dtype=">i8").astype(np.int64))

    def unchanged_digest(self) -> PairDigest | None:
        """The digest of the (key, row fingerprint) pairs of every record a rerun may leave unchanged:
        accepted by Intercom, with no rejection since, with a fingerprint of today's form. The warehouse computes the same digest of the model's pairs
        (`FingerprintedRead.digest`). None off PostgreSQL."""
        if db.vendor != "postgresql":
            return None
        with db.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), coalesce(sum(row_hash::bigint), 0) {_ACCEPTED_WITH_FINGERPRINTS} "
                "AND last_rejection = ''",
                [self.sync.workspace_id, self.sync.pk],
            )
            rows, total = cursor.fetchone()
        return PairDigest(rows, rows, int(total))

    def keys_of(self, fingerprints: Collection[str]) -> dict[str, str]:
        rows = self._rows.exclude(payload_hash="").filter(row_hash__in=list(fingerprints))
        return dict(rows.values_list("row_hash", "key"))

    def sent_among(self, keys: Collection[str]) -> set[str]:
        return set(
            self._rows.filter(key__in=list(keys)).exclude(payload_hash="").values_list("key", flat=True)
        )

    # --- writes: only after Intercom accepted the record ---------------------------------------------

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
        _upsert(
            self.sync,
            key,
            payload_hash=payload_hash,
            row_hash=row_hash or "",
            destination_id=destination_id or "",
            payload=payload,
            company_id=company_id or "",
            synced_at=timezone.now(),
            **NOT_REFUSED,
        )

    def record_accepted_many(self, accepted: list[dict[str, Any]]) -> None:
        """`record_accepted` for many records in one statement (the run writes its acceptances in batches):
        each dict holds its keyword arguments (`key`, `payload_hash`, `destination_id`, and optionally
        `payload`, `company_id`, `row_hash`) and `synced_at`, when Intercom accepted it. A key given twice
        keeps its last values. On PostgreSQL one JSON parameter, as the record results are written: the
        ORM's statement for a batch cost more CPU than the calls it recorded."""
        latest = {entry["key"]: entry for entry in accepted}
        if not latest:
            return
        rows = [
            {
                "key": key,
                "payload_hash": entry["payload_hash"],
                "row_hash": entry.get("row_hash") or "",
                "destination_id": entry.get("destination_id") or "",
                "payload": entry.get("payload"),
                "company_id": entry.get("company_id") or "",
                "synced_at": entry["synced_at"],
            }
            for key, entry in latest.items()
        ]
        if db.vendor != "postgresql":  # the embedded SQLite database: the ORM
            LedgerEntry.objects.bulk_create(
                [
                    LedgerEntry(workspace_id=self.sync.workspace_id, sync=self.sync, **row, **NOT_REFUSED)
                    for row in rows
                ],
                update_conflicts=True,
                unique_fields=["sync", "key"],
                update_fields=[name for name in (*rows[0], *NOT_REFUSED) if name != "key"],
            )
            return
        with db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO syncs_ledgerentry (workspace_id, sync_id, key, payload_hash, row_hash, destination_id, "
                "payload, company_id, synced_at, last_rejection, last_rejected_at, rejected_hash, rejection_code, "
                "first_rejected_run_id, retry_stopped) "
                "SELECT %s, %s, key, payload_hash, row_hash, destination_id, payload, company_id, synced_at, '', "
                "NULL, '', '', NULL, false FROM jsonb_to_recordset(%s::jsonb) AS r(key text, payload_hash text, "
                "row_hash text, destination_id text, payload jsonb, company_id text, synced_at timestamptz) "
                "ON CONFLICT (sync_id, key) DO UPDATE SET payload_hash = EXCLUDED.payload_hash, "
                "row_hash = EXCLUDED.row_hash, destination_id = EXCLUDED.destination_id, "
                "payload = EXCLUDED.payload, company_id = EXCLUDED.company_id, synced_at = EXCLUDED.synced_at, "
                "last_rejection = '', last_rejected_at = NULL, rejected_hash = '', rejection_code = '', "
                "first_rejected_run_id = NULL, retry_stopped = false",
                [self.sync.workspace_id, self.sync.pk, json.dumps(rows, ensure_ascii=False, default=str)],
            )

    def record_rejection(
        self, key: str, reason: str, *, payload_hash: str = "", code: str = "", run_id: int | None = None
    ) -> int | None:
        """Intercom refused the record's `payload_hash` with `code` in run `run_id` (no code: a failure that
        was no refusal, 5xx or a timeout). Returns the run it was first refused in when it was refused
        before, the same payload with the same code: a record still refused; None for a new refusal."""
        before = self._rows.filter(key=key).values_list(
            "rejected_hash", "rejection_code", "first_rejected_run_id"
        )
        before = before.first()
        still = (
            before is not None
            and bool(payload_hash and code)
            and before[:2] == (payload_hash, code)
            and before[2] is not None
        )
        values = {
            "last_rejection": reason,
            "last_rejected_at": timezone.now(),
            "rejected_hash": payload_hash if code else "",
            "rejection_code": code,
        }
        if not still:  # a new refusal: it starts here, and a "Stop retrying" of another one ends
            values |= {"first_rejected_run_id": run_id if code else None, "retry_stopped": False}
        if before is not None:
            self._rows.filter(key=key).update(**values)
        else:
            _upsert(self.sync, key, **values)
        return before[2] if still else None

    def retry_stopped(self) -> dict[str, tuple[str, str]]:
        """The records a user stopped retrying: key → (the payload hash refused, the refusal). One query,
        at the start of a run; runs leave those payloads out until the row changes."""
        rows = self._rows.filter(retry_stopped=True).exclude(rejected_hash="")
        return {
            key: (digest, reason)
            for key, digest, reason in rows.values_list("key", "rejected_hash", "last_rejection")
        }

    def record_row_hashes(self, pairs: list[tuple[str, str]]) -> None:
        """Keys planned unchanged whose row now has another fingerprint (a changed configuration, say):
        the same payload Intercom accepted, so only the fingerprint beside it changes. One statement."""
        if not pairs:
            return
        if db.vendor == "postgresql":
            keys, hashes = zip(*pairs, strict=True)
            with db.cursor() as cursor:
                cursor.execute(
                    "UPDATE syncs_ledgerentry AS e SET row_hash = n.row_hash "
                    "FROM unnest(%s::text[], %s::text[]) AS n(key, row_hash) "
                    "WHERE e.workspace_id = %s AND e.sync_id = %s AND e.key = n.key",
                    [list(keys), list(hashes), self.sync.workspace_id, self.sync.pk],
                )
            return
        for key, row_hash in pairs:
            self._rows.filter(key=key).update(row_hash=row_hash)

    def forget(self, key: str) -> None:
        """After a delete: the record no longer exists in Intercom."""
        self._rows.filter(key=key).delete()


def _json(value: Any) -> Any:
    """jsonb comes back decoded from psycopg on PostgreSQL, as text from SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def _upsert(sync: Sync, key: str, **values: Any) -> None:
    """One statement per record (INSERT … ON CONFLICT): the run writes the ledger after every acceptance."""
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(workspace_id=sync.workspace_id, sync=sync, key=key, **values)],
        update_conflicts=True,
        unique_fields=["sync", "key"],
        update_fields=list(values),
    )


def refused_records(sync: Sync) -> WorkspaceScopedQuerySet[LedgerEntry]:
    """The sync's records Intercom refuses now (its last word on them was a refusal, not an outage)."""
    return LedgerEntry.objects.for_workspace(sync.workspace_id).filter(sync=sync).exclude(rejected_hash="")


def ledger_size(sync: Sync) -> int:
    return LedgerEntry.objects.for_workspace(sync.workspace_id).filter(sync=sync).count()


def keys_settled_since(sync: Sync, since) -> frozenset[str]:
    """Keys Intercom accepted or rejected since `since` (a run's start): what a run's later slice must not
    send again."""
    rows = LedgerEntry.objects.for_workspace(sync.workspace_id).filter(sync=sync)
    return frozenset(
        rows.filter(Q(synced_at__gte=since) | Q(last_rejected_at__gte=since)).values_list("key", flat=True)
    )


def synced_companies(sync: Sync) -> dict[str, str]:
    """company_id → Intercom id of the companies that the workspace's Company syncs to the sync's Intercom
    connection have in Intercom: what a contact sync attaches its contacts to without looking the companies
    up. The latest word per company wins (one Company sync deleted it, another created it again…).
    One query, at the start of a contact sync's run."""
    rows = (
        LedgerEntry.objects.for_workspace(sync.workspace_id)
        .filter(sync__destination_id=sync.destination_id, sync__object_key="company")
        .exclude(payload_hash="")
        .exclude(destination_id="")
        .order_by("synced_at", "id")
        .values_list("key", "destination_id", "sync__behavior")
    )
    known: dict[str, str] = {}
    for company_id, intercom_id, behavior in rows.iterator(chunk_size=5000):
        if behavior == Behavior.DELETE:
            known.pop(company_id, None)
        else:
            known[company_id] = intercom_id
    return known
