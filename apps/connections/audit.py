"""A connection's changes in the audit trail (apps/tenancy/audit.py): its name and settings by value, its
secrets only as changed."""

from typing import Any

from apps.connections.models import Connection
from apps.tenancy.audit import SECRET_CHANGED, audit_record, diff
from apps.tenancy.models import AuditAction


def audited(connection: Connection) -> dict[str, Any]:
    """What the audit trail compares: the name and plain settings by value, each secret by value here only
    (`diff` records a changed secret with a marker, never its value)."""
    secrets = {f"{name} (secret)": value for name, value in (connection.credentials or {}).items()}
    return {"name": connection.name, **(connection.config or {}), **secrets}


def audit_connection(connection: Connection, before: dict[str, Any] | None, action: str = "") -> None:
    after = audited(connection)
    secret = frozenset(k for k in [*after, *(before or {})] if k.endswith(" (secret)"))
    changes = diff(before, after, secret=secret)
    if before is None:  # a new connection: its settings, and which secrets were set (not their values)
        changes = {k: [None, SECRET_CHANGED if k in secret else v] for k, v in after.items()}
    audit_record(
        workspace=connection.workspace,
        kind="connection",
        object_id=connection.pk,
        name=connection.name,
        action=action or (AuditAction.CREATED if before is None else AuditAction.CHANGED),
        changes=changes,
    )
