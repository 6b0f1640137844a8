"""An object's "History" card: its latest changes, who made them, through what, and what changed.

{% load audit_tags %}
{% history "sync" sync %}
"""

import json
from typing import Any

from django import template

from apps.tenancy.audit import HISTORY_LENGTH, SECRET_CHANGED, audit_history

register = template.Library()

SHORT = 80  # longer values (SQL, mappings) are folded under their field


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _rows(changes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    rows = []
    for field, (old, new) in changes.items():
        secret = SECRET_CHANGED in (old, new)
        label = field.removesuffix(" (secret)")
        old_text, new_text = _text(old), _text(new)
        rows.append(
            {
                "field": label,
                "secret": secret,
                "old": old_text,
                "new": new_text,
                "long": len(old_text) > SHORT or len(new_text) > SHORT,
            }
        )
    return rows


@register.inclusion_tag("includes/history.html")
def history(kind: str, obj: Any) -> dict[str, Any]:
    """Scoped to the object's own workspace (the page fetched the object through its workspace)."""
    events = audit_history(workspace=obj.workspace_id, kind=kind, object_id=obj.pk)
    return {
        "events": [{"event": e, "rows": _rows(e.changes or {})} for e in events[:HISTORY_LENGTH]],
        "more": len(events) > HISTORY_LENGTH,
        "limit": HISTORY_LENGTH,
    }
