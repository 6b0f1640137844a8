"""The preview as a background dry run: the page asks (`preview_start`), a worker plans (`preview_execute`,
the same `sync_preview` and so the same `sync_plan` as a run), the page polls the stored row.

A preview row keeps the sync as it was asked about (`SyncPreviewRun.config`): the wizard's draft is never
saved as a Sync, so the worker rebuilds an unsaved one from it (`preview_sync`), with the edited sync's id
when there is one, so that the plan diffs against its ledger. The sync page stores its saved sync the same
way, so both pages are one path. Nothing is sent and no ledger row changes: `sync_preview` only reads.

Cancel: a watch thread beside the plan asks the database every second whether a user cancelled, and then
interrupts the warehouse query (the adapter's `interrupt`, as a run's watch does); the plan stops at its
next record either way and the row ends Cancelled.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.db import connection as db_connection
from django.utils import timezone

from apps.connections.models import Connection
from apps.connections.services import source_adapter
from apps.connections.sources.base import SourceAdapter
from apps.models.models import SqlModel
from apps.syncs.engine.outcomes import Outcome, RunCounts
from apps.syncs.engine.plan import Operation, PlannedRecord
from apps.syncs.models import PREVIEW_ACTIVE_STATUSES, PreviewStatus, Sync, SyncPreviewRun
from apps.syncs.runs.preview import SyncPreview, sync_preview

logger = logging.getLogger(__name__)

CANCEL_CHECK_SECONDS = 1.0  # how soon a planning preview hears of its Cancel
PROGRESS_EVERY_SECONDS = 0.5  # how often the rows planned so far are written

_SYNC_FIELDS = ("name", "object_key", "behavior", "key_column", "key_identifier", "mappings", "options")


STOPPED = "The preview stopped: the worker planning it was shut down or is gone. Open the preview again."


class PreviewCancelled(Exception):
    """A user cancelled the preview: the plan stops."""


def preview_config(sync: Sync) -> dict[str, Any]:
    """What a preview row keeps of a sync (saved, or the wizard's unsaved draft)."""
    return {name: getattr(sync, name) for name in _SYNC_FIELDS} | {
        "model_id": sync.model_id,
        "destination_id": sync.destination_id,
    }


def preview_sync(preview: SyncPreviewRun) -> Sync:
    """The sync the preview plans: unsaved, built from the stored configuration, with the saved sync's id
    (its ledger) when there is one. The model and destination are read within the preview's workspace."""
    config = preview.config
    workspace = preview.workspace
    return Sync(
        pk=preview.sync_id,
        workspace=workspace,
        model=SqlModel.objects.for_workspace(workspace).select_related("source").get(pk=config["model_id"]),
        destination=Connection.objects.for_workspace(workspace).get(pk=config["destination_id"]),
        **{name: config[name] for name in _SYNC_FIELDS},
    )


def preview_start(
    *, workspace, user, sync: Sync, from_wizard: bool = False, full_resync: bool = False
) -> SyncPreviewRun:
    """Store a preview of `sync` (saved, or the wizard's draft with the edited sync's id or none) and queue
    its plan; the page answers at once with the row. Not in a transaction: the row is committed before the
    task is queued, so the worker finds it."""
    preview = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace,
        sync_id=sync.pk,
        from_wizard=from_wizard,
        config=preview_config(sync),
        full_resync=full_resync,
        requested_by=user if user is not None and user.is_authenticated else None,
    )
    _enqueue(preview.pk)
    return preview


def _enqueue(preview_id: int) -> None:
    from apps.syncs.tasks import preview_sync_task

    preview_sync_task.apply_async_on_commit(args=[preview_id])


def preview_get(*, workspace, user, preview_id) -> SyncPreviewRun:
    """A preview of this workspace (DoesNotExist otherwise); the wizard's previews only to whoever asked
    (they show a draft nobody else has seen). A planning preview whose heartbeat stopped (its worker died)
    is ended Failed here; a queued one waits for a worker as long as it takes."""
    previews = SyncPreviewRun.objects.for_workspace(workspace).select_related("sync")
    preview = previews.get(pk=preview_id)
    if preview.from_wizard and preview.requested_by_id != user.pk:
        raise SyncPreviewRun.DoesNotExist
    lease = timedelta(seconds=settings.SYNC_RUN_LEASE_SECONDS)  # a run's lease: heartbeats as often
    if preview.status == PreviewStatus.RUNNING and preview.updated_at < timezone.now() - lease:
        _end(preview, PreviewStatus.FAILED, error=STOPPED)
    return preview


def preview_cancel(*, preview: SyncPreviewRun) -> SyncPreviewRun:
    """Ask the preview to stop: a queued one ends at once, a planning one within a second or two."""
    queued = SyncPreviewRun.objects.for_workspace(preview.workspace_id).filter(
        pk=preview.pk, status=PreviewStatus.QUEUED
    )
    now = timezone.now()
    if queued.update(status=PreviewStatus.CANCELLED, cancel_requested=True, finished_at=now, updated_at=now):
        preview.refresh_from_db()
        return preview
    SyncPreviewRun.objects.for_workspace(preview.workspace_id).filter(
        pk=preview.pk, status__in=PREVIEW_ACTIVE_STATUSES
    ).update(cancel_requested=True, updated_at=now)
    preview.refresh_from_db()
    return preview


def _end(preview: SyncPreviewRun, status: str, **fields) -> None:
    now = timezone.now()
    fields |= {"status": status, "finished_at": now, "updated_at": now}
    SyncPreviewRun.objects.for_workspace(preview.workspace_id).filter(
        pk=preview.pk, status__in=PREVIEW_ACTIVE_STATUSES
    ).update(**fields)
    for name, value in fields.items():
        setattr(preview, name, value)


# The previews planning in this process, for a warm shutdown to stop them (`previews_stop_for_shutdown`).
_watches: set[_PreviewWatch] = set()
_watches_lock = threading.Lock()


class _PreviewWatch(threading.Thread):
    """Beside a planning preview, on a database connection of its own: every second, whether a user
    cancelled; then the warehouse query is interrupted (again every second until the plan is over, as an
    interrupt between two statements stops nothing). Its heartbeat (the row's `updated_at`, as a run's
    watch beats) tells a live preview from one whose worker died (`preview_get`). A warm shutdown of the
    worker interrupts it too: the preview ends Failed, to be asked again, instead of holding the worker."""

    def __init__(self, preview: SyncPreviewRun, adapter: SourceAdapter):
        super().__init__(name=f"preview-watch-{preview.pk}", daemon=True)
        self.preview, self.adapter = preview, adapter
        self.cancelled, self.shutting_down, self._over = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )

    @property
    def stopped(self) -> bool:
        return self.cancelled.is_set() or self.shutting_down.is_set()

    def run(self) -> None:
        rows = SyncPreviewRun.objects.for_workspace(self.preview.workspace_id).filter(pk=self.preview.pk)
        beat_every = settings.SYNC_RUN_HEARTBEAT_SECONDS
        next_beat = time.monotonic() + beat_every
        try:
            while not self._over.wait(CANCEL_CHECK_SECONDS):
                try:
                    if time.monotonic() >= next_beat:
                        rows.update(updated_at=timezone.now())
                        next_beat = time.monotonic() + beat_every
                    if not self.cancelled.is_set() and rows.filter(cancel_requested=True).exists():
                        self.cancelled.set()
                except DatabaseError:
                    logger.warning("Preview %s: could not reach the database", self.preview.pk, exc_info=True)
                    db_connection.close()
                if self.stopped:
                    self.adapter.interrupt()
        finally:
            db_connection.close()

    def __enter__(self) -> _PreviewWatch:
        with _watches_lock:
            _watches.add(self)
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with _watches_lock:
            _watches.discard(self)
        self._over.set()
        self.join(timeout=10)


def previews_stop_for_shutdown() -> int:
    """This worker is shutting down (warm): stop its previews' warehouse queries within seconds rather than
    wait for them; each ends Failed, saying to ask again. Only wakes threads: safe in a signal handler."""
    with _watches_lock:
        watches = list(_watches)
    for watch in watches:
        watch.shutting_down.set()
    return len(watches)


def preview_execute(*, preview_id: int) -> SyncPreviewRun | None:
    """Plan the preview (the worker's side); None when it is gone or no longer queued (cancelled before it
    started, or delivered twice)."""
    preview = SyncPreviewRun.objects.across_all_workspaces_unsafe().filter(pk=preview_id).first()
    if preview is None:
        return None
    now = timezone.now()
    started = SyncPreviewRun.objects.for_workspace(preview.workspace_id).filter(
        pk=preview.pk, status=PreviewStatus.QUEUED
    )
    if not started.update(status=PreviewStatus.RUNNING, started_at=now, updated_at=now):
        return None
    preview.refresh_from_db()
    rows = SyncPreviewRun.objects.for_workspace(preview.workspace_id).filter(pk=preview.pk)
    try:
        sync = preview_sync(preview)
        adapter = source_adapter(sync.model.source)
    except Exception as error:  # the model, destination or source was deleted or cannot be opened
        logger.warning("Preview %s could not start", preview.pk, exc_info=True)
        _end(preview, PreviewStatus.FAILED, error=_unplanned(error))
        return preview
    last_write = time.monotonic()

    with _PreviewWatch(preview, adapter) as watch:

        def progress(planned: int) -> None:
            nonlocal last_write
            if watch.stopped:
                raise PreviewCancelled
            if time.monotonic() - last_write >= PROGRESS_EVERY_SECONDS:
                rows.update(rows_planned=planned, updated_at=timezone.now())
                last_write = time.monotonic()

        try:
            result = sync_preview(
                workspace=preview.workspace,
                sync=sync,
                full_resync=preview.full_resync,
                adapter=adapter,
                progress=progress,
            )
        except PreviewCancelled:
            result = None
        except Exception as error:
            logger.exception("Preview %s failed", preview.pk)
            _end(preview, PreviewStatus.FAILED, error=_unplanned(error))
            return preview
    if watch.cancelled.is_set():
        _end(preview, PreviewStatus.CANCELLED)
    elif watch.shutting_down.is_set() or result is None:
        _end(preview, PreviewStatus.FAILED, error=STOPPED)
    elif result.error:
        _end(preview, PreviewStatus.FAILED, error=result.error)
    else:
        _end(
            preview,
            PreviewStatus.DONE,
            rows_planned=result.counts.source_rows,
            counts=result.counts.to_json(),
            result=_result_json(result),
        )
    return preview


def _unplanned(error: Exception) -> str:
    return (
        "The preview could not be planned: an unexpected error occurred "
        f"({type(error).__name__}). Try again; if it happens again, the workers' log says more."
    )


# --- the stored result ------------------------------------------------------------------------------------


def _record_json(record: PlannedRecord) -> dict[str, Any]:
    stored = asdict(record)
    stored["operation"] = record.operation.value
    return stored


def _record(stored: dict[str, Any]) -> PlannedRecord:
    fields = dict(stored)
    fields["operation"] = Operation(fields["operation"])
    if fields.get("changes") is not None:
        fields["changes"] = {name: tuple(pair) for name, pair in fields["changes"].items()}
    return PlannedRecord(**fields)


def _result_json(result: SyncPreview) -> str:
    stored = {
        Outcome.INVALID: [_record_json(r) for r in result.invalid],
        "samples": {
            outcome: [_record_json(r) for r in records] for outcome, records in result.samples.items()
        },
        "calls": result.calls,
        "retry_stopped": result.retry_stopped,
    }
    # Payload values are JSON already; the encoder makes sure of dates and decimals all the same.
    return json.dumps(stored, cls=DjangoJSONEncoder, ensure_ascii=False)


def preview_result(preview: SyncPreviewRun) -> SyncPreview:
    """The stored preview as the page shows it (`preview_tables`, preview_recap.html)."""
    stored = json.loads(preview.result) if preview.result else {}
    return SyncPreview(
        counts=RunCounts.from_json(preview.counts),
        invalid=[_record(r) for r in stored.get(Outcome.INVALID, [])],
        samples={
            outcome: [_record(r) for r in records] for outcome, records in stored.get("samples", {}).items()
        },
        calls=stored.get("calls", 0),
        error=preview.error,
        retry_stopped=stored.get("retry_stopped", 0),
    )


def previews_purge(*, now=None) -> int:
    """Delete the previews older than SYNC_PREVIEW_KEEP_HOURS, in every workspace (system work)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SYNC_PREVIEW_KEEP_HOURS)
    deleted, _ = SyncPreviewRun.objects.across_all_workspaces_unsafe().filter(created_at__lt=cutoff).delete()
    return deleted
