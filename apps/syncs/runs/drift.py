"""Drift: records that vanished from Intercom out of band (deleted or archived there, a workspace reset)
while the ledger still says Intercom has them, so that runs count them unchanged and send nothing.

At the start of a run of a contact or company sync that writes records (Update or Create, Update Only), a
few ledger records picked at random (`SYNC_DRIFT_SAMPLE`) are looked up in Intercom by the id the ledger
remembers: one GET each, counted in the run's calls. One that is missing (404) or archived is drift: the
run counts the records checked and missing (`Tally.DRIFT_CHECKED`, `Tally.DRIFT_MISSING`), ends Succeeded
with warnings, and its page offers "Restore missing records": a full resync that continues the run
(`SyncRun.restores`) and sends every record again. When most of the sample was missing (a workspace
reset), the restore creates first: one call per missing record (`IntercomLoader.creates_first`).
Otherwise it updates by the remembered id, and an update answered 404 creates the record in the same call
chain (two calls): either way a record created again counts as created and restored.

Not checked:
- Delete syncs: their ledger remembers records removed on purpose; missing is what they ask for.
- Event syncs: Intercom can neither look an event up nor delete one; the contacts the events are about are
  checked by the contact syncs.
- Full resyncs (a restore included): they send every record anyway, and count the ones created again.
- The later slices of a long run: the first slice checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection as db

from apps.connections.intercom.catalog import Behavior
from apps.connections.intercom.client import Accepted, IntercomClient, TransientFailure
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import LedgerEntry, Sync, SyncRun

CHECKED_BEHAVIORS = (Behavior.UPSERT, Behavior.UPDATE_ONLY)
SAMPLED_PAGES_FROM_ROWS = 100_000  # a ledger table this big (PostgreSQL's estimate) is sampled by pages
SAMPLED_ROWS = 20_000  # the rows' worth of pages read then


@dataclass(frozen=True)
class DriftCheck:
    checked: int = 0  # ledger records looked up in Intercom
    missing: int = 0  # of those, missing or archived there


def checks_drift(run: SyncRun, config: SyncConfig) -> bool:
    """Whether this run checks a sample of its ledger against Intercom (see the module's docstring)."""
    return config.behavior in CHECKED_BEHAVIORS and not run.full_resync and run.slices <= 1


def drift_sample(sync: Sync, size: int) -> list[str]:
    """The Intercom ids of `size` ledger records picked at random among those Intercom accepted.

    A random sort of the sync's records costs 0.4 s at a million of them; on a big ledger table, PostgreSQL
    first draws from a random share of its pages (`TABLESAMPLE SYSTEM`: about 20,000 rows' worth, 10 ms),
    and sorts the sync's whole ledger only when those pages hold too few of its records."""
    if size <= 0:
        return []
    if db.vendor == "postgresql" and len(picked := _from_sampled_pages(sync, size)) >= size:
        return picked
    rows = LedgerEntry.objects.for_workspace(sync.workspace_id).filter(sync_id=sync.pk)
    rows = rows.exclude(payload_hash="").exclude(destination_id="").filter(last_rejection="")
    return list(rows.order_by("?").values_list("destination_id", flat=True)[:size])


def _from_sampled_pages(sync: Sync, size: int) -> list[str]:
    with db.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'syncs_ledgerentry'::regclass")
        estimate = cursor.fetchone()[0]
        if estimate < SAMPLED_PAGES_FROM_ROWS:
            return []
        share = min(100.0, max(0.01, 100.0 * SAMPLED_ROWS / max(estimate, 1)))
        cursor.execute(
            "SELECT destination_id FROM syncs_ledgerentry TABLESAMPLE SYSTEM (%s) "
            "WHERE workspace_id = %s AND sync_id = %s AND payload_hash <> '' AND destination_id <> '' "
            "AND last_rejection = '' ORDER BY random() LIMIT %s",
            [share, sync.workspace_id, sync.pk, size],
        )
        return [intercom_id for (intercom_id,) in cursor.fetchall()]


def drift_check(
    sync: Sync, config: SyncConfig, client: IntercomClient, *, size: int | None = None
) -> DriftCheck:
    """Look a random sample of the ledger's records up in Intercom. A call that keeps failing ends the
    check (it is a hint, never a reason to fail the run); a 401 stops the run, as any call's would."""
    size = settings.SYNC_DRIFT_SAMPLE if size is None else size
    get = client.get_contact if config.is_contact else client.get_company
    checked = missing = 0
    for intercom_id in drift_sample(sync, size):
        try:
            found = get(intercom_id)
        except TransientFailure:
            break
        checked += 1
        # Intercom answers 404 for a deleted contact or company; an archived contact, 404 or `archived`.
        if found is None or (isinstance(found, Accepted) and _archived(found.body)):
            missing += 1
    return DriftCheck(checked, missing)


def _archived(body) -> bool:
    return isinstance(body, dict) and body.get("archived") is True


def restore_creates_first(counts: RunCounts) -> bool:
    """A restore of the drift these counts found creates first when most of the sample was missing."""
    return counts.drift_missing * 2 > counts.drift_checked


def restorable(sync: Sync) -> bool:
    """Whether "Restore missing records" can bring records back: only a sync that creates records can.
    Update Only never creates; a sync keyed by the Intercom id has nothing to create a record by."""
    return sync.behavior == Behavior.UPSERT and sync.key_identifier != "id"
