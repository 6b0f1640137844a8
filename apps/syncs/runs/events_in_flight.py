"""Exactly-once events across a dead worker: each event is noted before it is sent; a run that ends
normally clears the notes; the next run of a sync whose run died asks Intercom about each event still
noted and not in the ledger, records those that arrived as sent, and lets the planner send the rest."""

from __future__ import annotations

import logging
from typing import Any

from apps.connections.intercom.client import Accepted, IntercomClient
from apps.syncs.engine.payload import payload_hash
from apps.syncs.models import EventInFlight, Sync
from apps.syncs.runs.ledger import DbLedger

logger = logging.getLogger(__name__)

# The event body's contact identifier → the listing's query parameter.
LISTING_PARAMETER = {"id": "intercom_user_id", "user_id": "user_id", "email": "email"}


def note(sync: Sync, key: str, payload: dict[str, Any]) -> None:
    note_many(sync, [(key, payload)])


def note_many(sync: Sync, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Note events about to be sent (key, payload), in one statement."""
    if events:
        EventInFlight.objects.bulk_create(
            [
                EventInFlight(workspace_id=sync.workspace_id, sync=sync, key=key, payload=p)
                for key, p in events
            ],
            ignore_conflicts=True,
        )


def clear(sync: Sync) -> None:
    EventInFlight.objects.for_workspace(sync.workspace_id).filter(sync=sync).delete()


def settle(sync: Sync, client: IntercomClient, ledger: DbLedger) -> int:
    """Before a run plans: resolve the notes a dead run left. Returns how many had arrived."""
    notes = list(EventInFlight.objects.for_workspace(sync.workspace_id).filter(sync=sync))
    if not notes:
        return 0
    accepted = {key for key, entry in ledger.get_many([n.key for n in notes]).items() if entry.payload_hash}
    arrived = 0
    for noted in notes:
        if noted.key not in accepted and _arrived(client, noted.payload):
            ledger.record_accepted(noted.key, payload_hash=payload_hash(noted.payload), destination_id=None)
            arrived += 1
    clear(sync)
    logger.info(
        "Sync %s: %d of %d events in flight when a run died had arrived", sync.pk, arrived, len(notes)
    )
    return arrived


def _arrived(client: IntercomClient, payload: dict[str, Any]) -> bool:
    """Whether Intercom lists the event (same name and time) for its contact. When it cannot tell, the
    event is sent again: Intercom drops a duplicate of (contact, name, created_at) itself."""
    field = next((f for f in LISTING_PARAMETER if payload.get(f)), None)
    if field is None:
        return False
    listed = client.list_events(LISTING_PARAMETER[field], str(payload[field]))
    if not isinstance(listed, Accepted):
        return False
    events = (listed.body or {}).get("events") or []
    return any(
        e.get("event_name") == payload.get("event_name") and e.get("created_at") == payload.get("created_at")
        for e in events
    )
