"""The REST API (/api/v1/): list syncs, trigger a run, read a run. Authenticated by workspace API keys.

A view reads the workspace from its API key (`request.auth`), calls the syncs' own selectors and services,
and presents the result; an id of another workspace answers exactly like a missing one.
"""

import math

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import NinjaAPI, Status
from ninja.errors import HttpError, Throttled, ValidationError

from apps.api import schemas
from apps.api.auth import WHERE_KEYS_ARE, ApiKeyAuth, ApiKeyRefused
from apps.api.reference import ReferencePage
from apps.api.throttle import PerApiKeyThrottle, TooManyFailedKeys, limit_in_words
from apps.syncs import selectors as sync_selectors
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunTrigger, Sync, SyncRun
from apps.syncs.runs import selectors as run_selectors
from apps.syncs.runs.services import SyncAlreadyRunning, sync_run_start

DESCRIPTION = """Trigger Syncline syncs from your pipelines (Airflow, dbt Cloud, GitHub Actions, cron) and \
follow their runs.

Every request carries a workspace API key, created in Settings → API keys, in the header \
`Authorization: Bearer <key>`. A key acts for its workspace only: the ids of other workspaces' syncs and runs \
answer 404. Errors are JSON objects with a stable `error` code and a `message` for people. Each key may make \
a limited number of requests a minute (120 unless the instance says otherwise); past it the answer is 429 \
with a `Retry-After` header. So is an address that sends too many unknown or revoked keys."""

api = NinjaAPI(
    title="Syncline API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    throttle=PerApiKeyThrottle(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=ReferencePage(),
)


class NotFound(Exception):
    pass


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    return api.create_response(request, {"error": code, "message": message}, status=status)


@api.exception_handler(ApiKeyRefused)
def _refused(request, exc: ApiKeyRefused):
    response = _error(request, 401, exc.code, exc.message)
    response["WWW-Authenticate"] = 'Bearer realm="Syncline API"'
    return response


@api.exception_handler(NotFound)
def _not_found(request, exc: NotFound):
    return _error(request, 404, "not_found", str(exc))


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    problems = [f"{'.'.join(str(p) for p in e['loc'][2:] or e['loc'][-1:])}: {e['msg']}" for e in exc.errors]
    return _error(request, 422, "invalid_request", "; ".join(problems))


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    wait = f" Try again in {math.ceil(exc.wait)} s." if exc.wait is not None else ""
    message = f"Too many requests with this API key: the limit is {limit_in_words()} per key.{wait}"
    return _error(request, 429, "rate_limited", message)  # ninja adds Retry-After


@api.exception_handler(TooManyFailedKeys)
def _too_many_failed_keys(request, exc: TooManyFailedKeys):
    message = (
        "Too many unknown or revoked API keys were sent from your address. Check the key your client "
        f"sends, then try again in {exc.wait} s. {WHERE_KEYS_ARE}"
    )
    response = _error(request, 429, "too_many_failed_keys", message)
    response["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # the one HttpError ninja raises itself: a body that is not JSON
        message = f'{exc.message}: send JSON such as {{"full_resync": true}}, or no body at all.'
        return _error(request, 400, "invalid_json", message)
    return _error(request, exc.status_code, "error", str(exc.message))


def _answers(**meanings: str) -> dict:
    """What each status means for this operation, for the description (ninja writes only "Not Found")."""
    return {"responses": {int(code.lstrip("_")): {"description": text} for code, text in meanings.items()}}


NO_KEY = "No valid API key: missing, malformed, unknown or revoked (see `error`)."
TOO_MANY = (
    "Too many requests with this key, or too many unknown or revoked keys from your address; `Retry-After` "
    "says in how many seconds to try again."
)


def _found(lookup, kind: str, object_id: int):
    try:
        return lookup()
    except Http404:
        raise NotFound(f"No {kind} with id {object_id} in the workspace of this API key.") from None


def _absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _run(request: HttpRequest, run: SyncRun) -> dict:
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
        "url": _absolute(request, "api-v1:sync_run", run.pk),
        "dashboard_url": _absolute(request, "run_detail", request.auth.workspace.slug, run.pk),
    }


def _sync(request: HttpRequest, sync: Sync) -> dict:
    last_run = None
    if sync.last_run_id:
        last_run = {
            "id": sync.last_run_id,
            "status": sync.last_run_status,
            "created_at": sync.last_run_at,
            "url": _absolute(request, "api-v1:sync_run", sync.last_run_id),
        }
    return {
        "id": sync.pk,
        "name": sync.name,
        "object": sync.object_key,
        "behavior": sync.behavior,
        "paused": sync.paused,
        "last_run": last_run,
        "trigger_url": _absolute(request, "api-v1:sync_trigger", sync.pk),
        "dashboard_url": _absolute(request, "sync_detail", request.auth.workspace.slug, sync.pk),
    }


@api.get(
    "/syncs",
    response={200: schemas.SyncList, 401: schemas.Error, 429: schemas.Error},
    url_name="sync_list",
    operation_id="list_syncs",
    summary="List syncs",
    description="Every sync of the key's workspace, by name, with its last run.",
    openapi_extra=_answers(_200="The syncs.", _401=NO_KEY, _429=TOO_MANY),
)
def list_syncs(request: HttpRequest):
    return {"syncs": [_sync(request, s) for s in sync_selectors.sync_list(workspace=request.auth.workspace)]}


@api.post(
    "/syncs/{sync_id}/trigger",
    response={
        202: schemas.Run,
        400: schemas.Error,
        401: schemas.Error,
        404: schemas.Error,
        409: schemas.AlreadyRunning,
        422: schemas.Error,
        429: schemas.Error,
    },
    url_name="sync_trigger",
    operation_id="trigger_sync",
    summary="Trigger a run",
    description="Queues a run of the sync and answers at once (202) with the run; poll its `url` until "
    "`finished_at` is set. A sync runs one run at a time: while one is queued or running, the answer is "
    "409 with that run. The JSON body is optional.",
    openapi_extra=_answers(
        _202="The run is queued; `url` is where to poll it.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _404="No sync with this id in the key's workspace.",
        _409="The sync already has a queued or running run, given in `run`; nothing was started.",
        _422="The body or the id is not valid; `message` names the field.",
        _429=TOO_MANY,
    ),
)
def trigger_sync(
    request: HttpRequest, sync_id: int, response: HttpResponse, body: schemas.TriggerIn | None = None
):
    workspace = request.auth.workspace
    sync = _found(lambda: sync_selectors.sync_get(workspace=workspace, sync_id=sync_id), "sync", sync_id)
    full_resync = body.full_resync if body else False
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
                "run": _run(request, running.run),
            },
        )
    response["Location"] = _absolute(request, "api-v1:sync_run", run.pk)
    return Status(202, _run(request, run))


@api.get(
    "/sync_runs/{run_id}",
    response={200: schemas.Run, 401: schemas.Error, 404: schemas.Error, 429: schemas.Error},
    url_name="sync_run",
    operation_id="get_sync_run",
    summary="Get a run",
    description="A run's status, timings and counts; counts grow while it runs.",
    openapi_extra=_answers(
        _200="The run.", _401=NO_KEY, _404="No run with this id in the key's workspace.", _429=TOO_MANY
    ),
)
def get_sync_run(request: HttpRequest, run_id: int):
    workspace = request.auth.workspace
    return _found(
        lambda: _run(request, run_selectors.run_get(workspace=workspace, run_id=run_id)), "run", run_id
    )


@api.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", url_name="unknown", include_in_schema=False
)
def unknown_endpoint(request: HttpRequest, rest: str):
    """A mistyped path answers in JSON too, rather than with the site's HTML 404 page (after the key check,
    like every endpoint)."""
    raise NotFound(
        f"No endpoint at {request.path}. The endpoints are described at {reverse('api-v1:openapi-view')}."
    )
