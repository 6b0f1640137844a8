"""Record lookup: what a run keeps of each record it made a call or a decision for, so that any record can
be found by any of its identifying values, whatever its outcome (the run recorder writes it; the run page
and the record page read it through the selectors)."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection as db

from apps.syncs.models import RecordResult

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


def record_results_insert(rows: list[dict[str, Any]]) -> None:
    """Write a batch of record results (dicts of RecordResult's columns by name; a nullable one may be left
    out). On PostgreSQL one statement with one JSON parameter: a run keeps a result for every record it
    sent, and building a model instance per record cost more than the insert (see the README's measures).
    A JSON null, or a column left out, is an SQL NULL."""
    if not rows:
        return
    if db.vendor != "postgresql":  # the embedded SQLite database: the ORM
        RecordResult.objects.bulk_create(RecordResult(**row) for row in rows)
        return
    columns = [
        (f.column, f.db_type(db))
        for f in RecordResult._meta.concrete_fields
        if f.column not in ("id", "created_at")
    ]
    names = ", ".join(f'"{name}"' for name, _ in columns)
    typed = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO syncs_recordresult ({names}, created_at) "  # noqa: S608 - the model's own columns
            f"SELECT {names}, now() FROM jsonb_to_recordset(%s::jsonb) AS r({typed})",
            [json.dumps(rows, ensure_ascii=False, default=str)],
        )
