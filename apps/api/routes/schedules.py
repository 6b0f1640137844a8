"""/schedules and /syncs/{id}/schedule: when each sync runs, set through the scheduling service (the same
checks as the schedule page: the kind's settings, the time zone, the cron expression, no loop of syncs)."""

from collections.abc import Hashable

from django.http import HttpRequest
from ninja import Router

from apps.api import schemas
from apps.api.auth import EDITOR_KEY
from apps.api.common import (
    INVALID,
    NO_KEY,
    TOO_MANY,
    VIEWER_KEY,
    answers,
    found,
    unprocessable,
)
from apps.common.problems import Invalid, Problem
from apps.syncs import selectors as sync_selectors
from apps.syncs.models import Sync
from apps.syncs.schedules import services as scheduling
from apps.syncs.schedules.compute import KIND_FIELDS, Schedule, ScheduleKind
from apps.tenancy.models import Workspace

router = Router(tags=["Schedules"])

NOT_FOUND = "No sync with this id in the key's workspace."
SETTINGS = ("timezone", "every_minutes", "minute", "at", "weekday", "cron", "after_sync_id")


def present(sync: Sync) -> dict:
    schedule = sync.schedule
    used = set(KIND_FIELDS[schedule.kind])
    after = sync.schedule_after if schedule.kind == ScheduleKind.AFTER_SYNC else None
    if schedule.kind == ScheduleKind.AFTER_SYNC:
        description = f"After “{after.name}” succeeds" if after else "After a sync that was deleted"
    else:
        description = schedule.describe()
        if schedule.uses_time_zone:
            description += f" ({schedule.timezone})"
    return {
        "kind": schedule.kind,
        "timezone": schedule.timezone if "timezone" in used else None,
        "every_minutes": schedule.every_minutes,
        "minute": schedule.minute,
        "at": f"{schedule.at:%H:%M}" if schedule.at else None,
        "weekday": schedule.weekday,
        "cron": schedule.cron or None,
        "after_sync_id": sync.schedule_after_id if after else None,
        "description": description,
        "next_run_at": sync.next_run_at,
    }


def _field(subject: Hashable) -> str:
    return "after_sync_id" if subject == "after" else str(subject)


def _set(workspace: Workspace, sync: Sync, settings: dict) -> Sync:
    kind = ScheduleKind(settings["kind"])
    after = None
    if kind == ScheduleKind.AFTER_SYNC and settings.get("after_sync_id") is not None:
        after = Sync.objects.for_workspace(workspace).filter(pk=settings["after_sync_id"]).first()
        if after is None:
            message = f"There is no sync with id {settings['after_sync_id']} in this workspace."
            raise unprocessable(Invalid([Problem("after_sync_id", "not_found", message)]))
    schedule = Schedule(
        kind=kind,
        timezone=(settings.get("timezone") or workspace.time_zone).strip(),
        every_minutes=settings.get("every_minutes"),
        minute=settings.get("minute"),
        at=settings.get("at"),
        weekday=settings.get("weekday"),
        cron=settings.get("cron") or "",
    )
    try:
        return scheduling.sync_schedule_set(workspace=workspace, sync=sync, schedule=schedule, after=after)
    except Invalid as invalid:
        raise unprocessable(invalid, _field) from None


def _sync(request: HttpRequest, sync_id: int) -> Sync:
    workspace = request.auth.workspace
    return found(lambda: sync_selectors.sync_get(workspace=workspace, sync_id=sync_id), "sync", sync_id)


def _current(sync: Sync) -> dict:
    schedule = sync.schedule
    return {
        "kind": schedule.kind,
        "timezone": sync.schedule_timezone,
        "every_minutes": schedule.every_minutes,
        "minute": schedule.minute,
        "at": schedule.at,
        "weekday": schedule.weekday,
        "cron": schedule.cron,
        "after_sync_id": sync.schedule_after_id,
    }


@router.get(
    "/schedules",
    response={200: schemas.ScheduleList, 401: schemas.Error, 429: schemas.Error},
    url_name="schedule_list",
    operation_id="list_schedules",
    summary="List schedules",
    description="The schedule of every sync of the key's workspace, by sync name.",
    openapi_extra=answers(_200="The schedules.", _401=NO_KEY, _429=TOO_MANY),
)
def list_schedules(request: HttpRequest):
    syncs = sync_selectors.sync_list(workspace=request.auth.workspace)
    return {"schedules": [{"sync_id": s.pk, "sync_name": s.name, "schedule": present(s)} for s in syncs]}


@router.get(
    "/syncs/{sync_id}/schedule",
    response={
        200: schemas.Schedule,
        401: schemas.Error,
        404: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="schedule_get",
    operation_id="get_schedule",
    summary="Get a sync's schedule",
    openapi_extra=answers(_200="The schedule.", _401=NO_KEY, _404=NOT_FOUND, _422=INVALID, _429=TOO_MANY),
)
def get_schedule(request: HttpRequest, sync_id: int):
    return present(_sync(request, sync_id))


WRITE_ANSWERS = {
    200: schemas.Schedule,
    400: schemas.Error,
    401: schemas.Error,
    403: schemas.Error,
    404: schemas.Error,
    422: schemas.Invalid,
    429: schemas.Error,
}
WRITE_MEANINGS = answers(
    _200="The schedule as saved, with its next run.",
    _400="The body is not JSON.",
    _401=NO_KEY,
    _403=VIEWER_KEY,
    _404=NOT_FOUND,
    _422=INVALID,
    _429=TOO_MANY,
)


@router.put(
    "/syncs/{sync_id}/schedule",
    auth=EDITOR_KEY,
    response=WRITE_ANSWERS,
    url_name="schedule_set",
    operation_id="set_schedule",
    summary="Set a sync's schedule",
    description="Replaces the schedule: `kind` and the settings it reads (interval: `every_minutes`; "
    "hourly: `minute`; daily: `at`; weekly: `weekday` and `at`; cron: `cron`; after_sync: "
    "`after_sync_id`; the clock kinds also `timezone`, by default the workspace's).",
    openapi_extra=WRITE_MEANINGS,
)
def set_schedule(request: HttpRequest, sync_id: int, body: schemas.ScheduleIn):
    sync = _sync(request, sync_id)
    return present(_set(request.auth.workspace, sync, body.dict()))


@router.patch(
    "/syncs/{sync_id}/schedule",
    auth=EDITOR_KEY,
    response=WRITE_ANSWERS,
    url_name="schedule_update",
    operation_id="update_schedule",
    summary="Change a sync's schedule",
    description="Changes the settings given; the others, the kind included, keep their values.",
    openapi_extra=WRITE_MEANINGS,
)
def update_schedule(request: HttpRequest, sync_id: int, body: schemas.SchedulePatch):
    sync = _sync(request, sync_id)
    given = body.dict(exclude_unset=True)
    return present(_set(request.auth.workspace, sync, _current(sync) | given))


@router.delete(
    "/syncs/{sync_id}/schedule",
    auth=EDITOR_KEY,
    response={code: schema for code, schema in WRITE_ANSWERS.items() if code != 400},
    url_name="schedule_delete",
    operation_id="delete_schedule",
    summary="Remove a sync's schedule",
    description="The sync runs only when triggered (kind `manual`) from now on.",
    openapi_extra={"responses": {c: m for c, m in WRITE_MEANINGS["responses"].items() if c != 400}},
)
def delete_schedule(request: HttpRequest, sync_id: int):
    sync = _sync(request, sync_id)
    return present(_set(request.auth.workspace, sync, {"kind": ScheduleKind.MANUAL}))
