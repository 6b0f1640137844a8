"""Trigger a run and read it, optionally waiting for its end (`?wait=` seconds, at most 300)."""

from contextlib import nullcontext

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from apps.api import schemas
from apps.api.auth import EDITOR_KEY
from apps.api.common import INVALID, NO_KEY, TOO_MANY, VIEWER_KEY, absolute, answers, found
from apps.api.waiting import MAX_WAIT_SECONDS, run_wait, wait_slot
from apps.syncs import selectors as sync_selectors
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunTrigger, Sync, SyncRun
from apps.syncs.runs import selectors as run_selectors
from apps.syncs.runs.services import SyncAlreadyRunning, sync_run_start

router = Router(tags=["Runs"])

TOO_MANY_WAITING = (
    f"{TOO_MANY} Also when the key already has as many calls waiting for runs as the instance allows at "
    "once (`too_many_waits`; 8 unless it says otherwise)."
)


class Wait(Schema):
    wait: int = Field(
        0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=f"Seconds (0 to {MAX_WAIT_SECONDS}) to hold the answer until the run has ended. The "
        "answer comes as soon as it ends; if it has not ended by then, the answer is the run as it is, "
        "still queued or running (not an error): ask again.",
    )


def present(request: HttpRequest, run: SyncRun) -> dict:
    duration = run.duration
    return {
        "id": run.pk,
        "sync_id": run.sync_id,
        "status": run.status,
        "trigger": run.trigger,
        "full_resync": run.full_resync,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": duration.total_seconds() if duration is not None else None,
        "counts": RunCounts.from_json(run.counts).to_json(),
        "error": run.first_error or None,
        "url": absolute(request, "api-v1:sync_run", run.pk),
        "dashboard_url": absolute(request, "run_detail", request.auth.workspace.slug, run.pk),
    }


@router.post(
    "/syncs/{sync_id}/trigger",
    auth=EDITOR_KEY,
    response={
        200: schemas.Run,
        202: schemas.Run,
        400: schemas.Error,
        401: schemas.Error,
        403: schemas.Error,
        404: schemas.Error,
        409: schemas.AlreadyRunning,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="sync_trigger",
    operation_id="trigger_sync",
    summary="Trigger a run",
    description="Queues a run of the sync and answers at once (202) with the run; poll its `url` until "
    "`finished_at` is set, or pass `wait` to have the answer held until the run has ended (200), for up to "
    f"{MAX_WAIT_SECONDS} s. A sync runs one run at a time: while one is queued or running, the answer is "
    "409 with that run. The JSON body is optional.",
    openapi_extra=answers(
        _200="With `wait`: the run has ended within it; `status` and `counts` are final.",
        _202="The run is queued (or, with `wait`, still queued or running when the wait ran out); `url` is "
        "where to poll it.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _404="No sync with this id in the key's workspace.",
        _409="The sync already has a queued or running run, given in `run`; nothing was started.",
        _422=INVALID,
        _429=TOO_MANY_WAITING,
    ),
)
def trigger_sync(
    request: HttpRequest,
    sync_id: int,
    response: HttpResponse,
    query: Query[Wait],
    body: schemas.TriggerIn | None = None,
):
    workspace = request.auth.workspace
    sync = found(lambda: sync_selectors.sync_get(workspace=workspace, sync_id=sync_id), "sync", sync_id)
    # The wait is claimed before the run starts: a trigger refused for too many waits starts nothing.
    with wait_slot(request.auth) if query.wait else nullcontext():
        return _trigger(
            request, sync, response, full_resync=body.full_resync if body else False, wait=query.wait
        )


def _trigger(request: HttpRequest, sync: Sync, response: HttpResponse, *, full_resync: bool, wait: int):
    workspace = request.auth.workspace
    try:
        run = sync_run_start(
            workspace=workspace,
            sync=sync,
            trigger=RunTrigger.API,
            api_key=request.auth,
            full_resync=full_resync,
        )
    except SyncAlreadyRunning as running:
        return Status(
            409,
            {
                "error": "sync_already_running",
                "message": f"“{sync.name}” is already {running.run.get_status_display().lower()} (run "
                f"{running.run.pk}); a sync runs one run at a time. Trigger again once that run has finished.",
                "run": present(request, running.run),
            },
        )
    response["Location"] = absolute(request, "api-v1:sync_run", run.pk)
    if wait:
        run = run_wait(workspace=workspace, run=run, seconds=wait)
    return Status(202 if run.is_active else 200, present(request, run))


@router.get(
    "/sync_runs/{run_id}",
    response={
        200: schemas.Run,
        401: schemas.Error,
        404: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="sync_run",
    operation_id="get_sync_run",
    summary="Get a run",
    description="A run's status, timings and counts; counts grow while it runs. With `wait`, the answer "
    f"is held until the run has ended, for up to {MAX_WAIT_SECONDS} s (a long poll).",
    openapi_extra=answers(
        _200="The run: ended if `finished_at` is set.",
        _401=NO_KEY,
        _404="No run with this id in the key's workspace.",
        _422=INVALID,
        _429=TOO_MANY_WAITING,
    ),
)
def get_sync_run(request: HttpRequest, run_id: int, query: Query[Wait]):
    workspace = request.auth.workspace
    run = found(lambda: run_selectors.run_get(workspace=workspace, run_id=run_id), "run", run_id)
    if query.wait and run.is_active:
        with wait_slot(request.auth):
            run = run_wait(workspace=workspace, run=run, seconds=query.wait)
    return present(request, run)
