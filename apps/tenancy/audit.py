"""The audit trail: who changed what, when, and through what (the dashboard, the API, `syncline apply`).

Recorded in one place, the services that create, change and delete connections, models, syncs, schedules
and alert settings, each calling `audit_record`. Who is acting is set once per entry point, not passed
through every call: `AuditActorMiddleware` for the dashboard (the signed-in user), the API's key
authentication (`audit_as(via=API, label=key)`), and the apply command (`audit_as(via=APPLY, user=...)`).
Anything else (a Celery task, a management command that sets nothing) is recorded as Syncline itself.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse

from apps.tenancy.models import AuditAction, AuditEvent, AuditVia, User, Workspace

# The value a secret field is recorded with: never the secret itself.
SECRET_CHANGED = "(changed)"  # noqa: S105 (a marker, not a secret)


@dataclass(frozen=True)
class AuditActor:
    via: str
    user: User | None = None
    label: str = ""


_SYSTEM = AuditActor(via=AuditVia.SYSTEM, label="Syncline")
_actor: ContextVar[AuditActor] = ContextVar("audit_actor", default=_SYSTEM)


def audit_actor() -> AuditActor:
    return _actor.get()


def audit_set(*, via: str, user: User | None = None, label: str = "") -> None:
    """Who acts from now on in this request (reset by `AuditActorMiddleware` at its end)."""
    _actor.set(AuditActor(via=via, user=user, label=label or (user.email if user else "")))


@contextmanager
def audit_as(*, via: str, user: User | None = None, label: str = "") -> Iterator[AuditActor]:
    token = _actor.set(AuditActor(via=via, user=user, label=label or (user.email if user else "")))
    try:
        yield _actor.get()
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Dashboard requests act as their signed-in user; the actor is reset when the request ends (so the
    API's key, set during the request, never leaks into the next one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        actor = (
            AuditActor(via=AuditVia.DASHBOARD, user=user, label=user.email)  # type: ignore[arg-type]
            if user is not None and user.is_authenticated
            else _SYSTEM
        )
        token = _actor.set(actor)
        try:
            return self.get_response(request)
        finally:
            _actor.reset(token)


def diff(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, secret: frozenset[str] = frozenset()
) -> dict[str, list[Any]]:
    """field → [old, new] for each field whose value differs; a field in `secret` → the marker only."""
    old, new = old or {}, new or {}
    changes: dict[str, list[Any]] = {}
    for field in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(field), new.get(field)
        if before != after:
            changes[field] = [SECRET_CHANGED, SECRET_CHANGED] if field in secret else [before, after]
    return changes


def audit_record(
    *,
    workspace: Workspace,
    kind: str,
    object_id: int,
    name: str,
    action: str,
    changes: Mapping[str, list[Any]] | None = None,
) -> AuditEvent | None:
    """Record one change by the current actor. A change that changed nothing is not recorded."""
    if action == AuditAction.CHANGED and not changes:
        return None
    actor = audit_actor()
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=actor.user,
        actor_label=actor.label[:200],
        via=actor.via,
        object_kind=kind,
        object_id=object_id,
        object_name=name[:300],
        action=action,
        changes=json.loads(json.dumps(dict(changes or {}), cls=DjangoJSONEncoder, default=str)),
    )


HISTORY_LENGTH = 20


def audit_history(*, workspace: Workspace | int, kind: str, object_id: int, limit: int = HISTORY_LENGTH):
    """The object's latest changes, newest first (`limit` + 1 rows are read so a page can say "more")."""
    return list(
        AuditEvent.objects.for_workspace(workspace)
        .filter(object_kind=kind, object_id=object_id)
        .select_related("actor")[: limit + 1]
    )
