"""Syncs and their runs: configuration, validation, and the run status machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.common.problems import Invalid, Problem
from apps.connections.models import Connection
from apps.models.models import SqlModel
from apps.syncs.engine.config import (
    SyncConfig,
    Target,
)
from apps.syncs.models import ACTIVE_STATUSES, RunTrigger, Sync, SyncRun
from apps.syncs.runs.ledger import refused_records
from apps.syncs.runs.services import SyncAlreadyRunning, sync_run_start
from apps.syncs.schedules.compute import ScheduleKind
from apps.tenancy.audit import audit_record, diff
from apps.tenancy.models import AuditAction, User, Workspace

if TYPE_CHECKING:
    pass


def engine_config(
    *,
    object_key: str,
    behavior: str,
    key_column: str,
    key_identifier: str,
    mappings: list[dict[str, Any]],
    options: dict[str, Any],
) -> SyncConfig:
    """The engine's view of a sync's stored configuration."""
    return SyncConfig.from_json(
        object_key=object_key,
        behavior=behavior,
        key_column=key_column,
        key_identifier=key_identifier,
        mappings=mappings,
        options=options,
    )


def sync_problems(*, model: SqlModel, config: SyncConfig) -> list[Problem]:
    return config.validate(model.column_names)


def sync_config_problems(*, model: SqlModel, destination: Connection, config: SyncConfig) -> list[Problem]:
    """Everything that stops a configuration from being saved (what `sync_save` refuses), without saving."""
    return sync_problems(model=model, config=config) + _unknown_attributes(destination, config)


@transaction.atomic
def sync_save(
    *,
    workspace: Workspace,
    user: User | None,
    name: str,
    model: SqlModel,
    destination: Connection,
    object_key: str,
    behavior: str,
    key_column: str,
    key_identifier: str,
    mappings: list[dict[str, Any]],
    options: dict[str, Any],
    sync: Sync | None = None,
) -> Sync:
    """Create or update a sync after validating it against its model; raises Invalid with the problems."""
    config = engine_config(
        object_key=object_key,
        behavior=behavior,
        key_column=key_column,
        key_identifier=key_identifier,
        mappings=mappings,
        options=options,
    )
    problems = sync_config_problems(model=model, destination=destination, config=config)
    if problems:
        raise Invalid(problems)
    before = sync_audited(sync) if sync is not None and sync.pk else None
    sync = sync or Sync(workspace=workspace, created_by=user)
    for field, value in {
        "name": name.strip(), "model": model, "destination": destination, "object_key": object_key,
        "behavior": behavior, "key_column": key_column, "key_identifier": key_identifier,
    }.items():  # fmt: skip
        setattr(sync, field, value)
    sync.mappings, sync.options = config.to_json()
    sync.save()
    sync_audit(sync, before)
    return sync


def sync_audited(sync: Sync) -> dict[str, Any]:
    """A sync as the audit trail compares it: its configuration as `SyncConfig.to_json` stores it, each
    option on its own, and its schedule."""
    mappings, options = sync.config.to_json()
    return {
        "name": sync.name,
        "model": sync.model.name if sync.model_id else None,
        "destination": sync.destination.name if sync.destination_id else None,
        "object_key": sync.object_key,
        "behavior": sync.behavior,
        "key_column": sync.key_column,
        "key_identifier": sync.key_identifier,
        "mappings": mappings,
        **{f"options.{key}": value for key, value in options.items()},
        "paused": sync.paused,
        **{
            field: getattr(sync, field)
            for field in (
                "schedule_kind",
                "schedule_timezone",
                "schedule_every_minutes",
                "schedule_minute",
                "schedule_at",
                "schedule_weekday",
                "schedule_cron",
            )
        },  # fmt: skip
        "schedule_after": sync.schedule_after.name if sync.schedule_after else None,
    }


def sync_audit(
    sync: Sync, before: dict[str, Any] | None, *, also: dict[str, list[Any]] | None = None
) -> None:
    """Record a sync's creation (before=None) or its changed fields since `before`."""
    changes = {**diff(before or {}, sync_audited(sync)), **(also or {})}
    if before is None:
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [], {})}
    audit_record(
        workspace=sync.workspace,
        kind="sync",
        object_id=sync.pk,
        name=sync.name,
        action=AuditAction.CREATED if before is None else AuditAction.CHANGED,
        changes=changes,
    )


def sync_set_paused(*, workspace: Workspace, sync: Sync, paused: bool) -> Sync:
    """A paused sync is skipped by schedules; "Run now" still works."""
    before = sync_audited(sync)
    Sync.objects.for_workspace(workspace).filter(pk=sync.pk).update(paused=paused, updated_at=timezone.now())
    sync.paused = paused
    sync_audit(sync, before)
    return sync


class SyncFollowed(Exception):
    """Other syncs are scheduled to run after this one: deleting it would leave them never starting."""

    def __init__(self, followers: list[Sync]):
        super().__init__(", ".join(f"“{f.name}”" for f in followers))
        self.followers = followers


@transaction.atomic
def sync_delete_when_idle(*, workspace: Workspace, sync: Sync) -> None:
    """`sync_delete`, refused while a run is queued or running (SyncAlreadyRunning: its worker would go on
    writing to rows that are gone) and while syncs are scheduled after it (SyncFollowed: they would never
    start again). The sync's row is locked meanwhile, so no run starts between the check and the delete."""
    if Sync.objects.for_workspace(workspace).select_for_update().filter(pk=sync.pk).first() is None:
        return
    active = SyncRun.objects.for_workspace(workspace).filter(sync=sync, status__in=ACTIVE_STATUSES).first()
    if active is not None:
        raise SyncAlreadyRunning(active)
    followers = Sync.objects.for_workspace(workspace).filter(
        schedule_kind=ScheduleKind.AFTER_SYNC, schedule_after=sync
    )
    if followers:
        raise SyncFollowed(list(followers.order_by("name")))
    sync_delete(workspace=workspace, sync=sync)


def sync_refused_stop_retrying(*, workspace: Workspace, sync: Sync) -> int:
    """ "Stop retrying": later runs leave out each record Intercom refuses now (skipped, with the refusal)
    while its row still makes the payload refused; a changed row is sent again. Returns how many."""
    return refused_records(sync).filter(workspace=workspace, retry_stopped=False).update(retry_stopped=True)


def sync_refused_retry_now(*, workspace: Workspace, sync: Sync, user: User | None = None) -> SyncRun:
    """ "Retry now": the records refused are retried, those a user stopped retrying included, by a run
    started now (SyncAlreadyRunning if one is active: the next run retries them)."""
    refused_records(sync).filter(workspace=workspace, retry_stopped=True).update(retry_stopped=False)
    return sync_run_start(workspace=workspace, sync=sync, trigger=RunTrigger.MANUAL, user=user)


def _unknown_attributes(destination: Connection, config: SyncConfig) -> list[Problem]:
    """Custom attributes the destination is known not to have (Intercom would reject every record).
    Judged from the attribute cache alone: nothing is checked when it was never read."""
    model = config.object.attribute_model
    cache = destination.attributes_cache or {}
    if model is None or destination.attributes_fetched_at is None:
        return []
    known = {a["name"] for a in cache.get(model, [])}
    return [
        Problem(
            Target(m.target, custom=True),
            "unknown_attribute",
            f"Intercom has no custom attribute “{m.target}” on {model}s: create it in the mapper first.",
        )
        for m in config.mappings
        if m.custom and m.target not in known
    ]


def sync_delete(*, workspace: Workspace, sync: Sync) -> None:
    """Delete a sync with its runs and ledger (what Intercom holds stays there)."""
    deleted, _ = Sync.objects.for_workspace(workspace).filter(pk=sync.pk).delete()
    if deleted:
        audit_record(
            workspace=workspace, kind="sync", object_id=sync.pk, name=sync.name, action=AuditAction.DELETED
        )
