"""Data events: 202 with an empty body, flat metadata (first 10 keys), duplicates ignored but counted;
the listing of a contact's events."""

from __future__ import annotations

import time
from typing import Any

from emulators.intercom.errors import ApiError, contact_not_found
from emulators.intercom.routing import Call, Route
from emulators.intercom.store import Contact, Event, Workspace

MAX_METADATA_KEYS = 10


def _find_contact(workspace: Workspace, body: dict) -> Contact | None:
    if body.get("id"):
        contact = workspace.contacts.get(body["id"])
        return contact if contact is not None and not contact.archived else None
    if body.get("user_id"):
        contact = workspace.user_by_external_id(body["user_id"])
    else:
        email = str(body.get("email", "")).lower()
        contact = workspace.user_by_email(email)  # a user wins over leads with the same email
        if contact is None:
            contact = next(
                (
                    c
                    for c in workspace.contacts.values()
                    if c.email and c.email.lower() == email and not c.archived
                ),
                None,
            )
    return contact if contact is not None and not contact.archived else None


def _flat_value(value: Any) -> bool:
    """A value metadata takes (API_NOTES.md §3): text, a number or a boolean, a rich link
    ``{"url", "value"}`` or a monetary amount ``{"amount": <cents>, "currency"}``. Not null: the spec types
    every value as a string, and no documented type is null."""
    if isinstance(value, str | int | float):  # bool is an int
        return True
    if isinstance(value, dict) and set(value) == {"url", "value"}:
        return isinstance(value["url"], str) and isinstance(value["value"], str)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        amount = value["amount"]
        return isinstance(amount, int) and not isinstance(amount, bool) and isinstance(value["currency"], str)
    return False


def create_event(call: Call) -> tuple[int, Any]:
    body, workspace = call.body, call.workspace
    if not body.get("event_name"):
        raise ApiError(400, "parameter_not_found", "event_name not specified", "event_name")
    contact = _find_contact(workspace, body)
    if contact is None:
        raise contact_not_found()
    metadata = body.get("metadata") or {}
    for key, value in metadata.items():
        if not _flat_value(value):
            raise ApiError(
                400,
                "parameter_invalid",
                f"Metadata '{key}' must be text, a number, a rich link {{url, value}} or a monetary amount "
                "{amount, currency}: not null, a list or other nested JSON",
                f"metadata.{key}",
            )
    kept = dict(list(metadata.items())[:MAX_METADATA_KEYS])
    key = (contact.id, body["event_name"], int(body["created_at"]))
    if key in workspace.event_keys:
        workspace.duplicate_events += 1
        return 202, None
    workspace.event_keys.add(key)
    workspace.events.append(
        Event(
            contact_id=contact.id,
            event_name=body["event_name"],
            created_at=int(body["created_at"]),
            metadata=kept,
            received_at=time.time(),
        )
    )
    return 202, None


def list_events(call: Call) -> tuple[int, Any]:
    """``GET /events?type=user&user_id=|email=|intercom_user_id=``: the contact's events, newest first."""
    query, workspace = call.query, call.workspace
    if query.get("type") != "user":
        raise ApiError(400, "parameter_invalid", "type must be user", "type")
    identifiers = {
        "id": query.get("intercom_user_id"),
        "user_id": query.get("user_id"),
        "email": query.get("email"),
    }
    identifiers = {name: value for name, value in identifiers.items() if value}
    if len(identifiers) != 1:
        raise ApiError(
            400, "parameter_invalid", "Send exactly one of user_id, email or intercom_user_id", "filter"
        )
    contact = _find_contact(workspace, identifiers)
    if contact is None:
        raise contact_not_found()
    events = sorted((e for e in workspace.events if e.contact_id == contact.id), key=lambda e: -e.created_at)
    return 200, {
        "type": "event.list",
        "events": [
            {
                "type": "event",
                "event_name": e.event_name,
                "created_at": e.created_at,
                "intercom_user_id": contact.id,
                "metadata": e.metadata,
            }  # fmt: skip
            for e in events
        ],
        "pages": {},
    }


ROUTES = [Route("POST", "/events", create_event), Route("GET", "/events", list_events)]
