"""Record lookup: what a run keeps of each record it made a call or a decision for, so that any record can
be found by any of its identifying values, whatever its outcome (the run recorder writes it; the run page
and the record page read it through the selectors)."""

from __future__ import annotations

from typing import Any

# The request body's fields that identify a record in Intercom: contacts, companies and events.
IDENTIFYING_FIELDS = ("external_id", "email", "user_id", "company_id", "id", "intercom_user_id")


def lookup_text(key: str | None, payload: dict[str, Any] | None, destination_id: str | None = None) -> str:
    """The values a record is searched by, one a line, each once: its sync key, the identifying fields
    of the body sent, and its Intercom id."""
    values = [key, *((payload or {}).get(name) for name in IDENTIFYING_FIELDS), destination_id]
    kept: dict[str, None] = {}
    for value in values:
        if value is not None and not isinstance(value, dict | list | bool) and str(value).strip():
            kept.setdefault(str(value).strip().replace("\n", " "), None)
    return "\n".join(kept)
