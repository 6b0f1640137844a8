"""The REST API (/api/v1/): models, syncs and schedules (list, read, create, change, delete), triggering a run
and reading it (optionally waiting for its end). Authenticated by workspace API keys.

A view reads the workspace from its API key (`request.auth`), calls the apps' own selectors and services,
and presents the result; an id of another workspace answers exactly like a missing one. The operations live
in apps/api/routes/, one module per kind of object; this module makes the API and turns errors into answers.
"""

import math

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import NinjaAPI, Router
from ninja.errors import HttpError, Throttled, ValidationError

from apps.api.auth import WHERE_KEYS_ARE, ApiKeyAuth, ApiKeyRefused, KeyRoleRefused
from apps.api.common import Conflict, NotFound, Unprocessable
from apps.api.reference import ReferencePage
from apps.api.routes import models, runs, schedules, syncs
from apps.api.throttle import PerApiKeyThrottle, TooManyFailedKeys, limit_in_words
from apps.api.waiting import TooManyWaits

DESCRIPTION = """Create, change and trigger Syncline syncs from your pipelines (Airflow, Dagster, dbt Cloud, GitHub Actions, cron) and follow their runs.

Every request carries a workspace API key, created in Settings → API keys, in the header `Authorization: Bearer <key>`. A key acts for its workspace only: the ids of other workspaces' objects answer 404. A viewer key reads; creating, changing, deleting and triggering need an editor key (403 otherwise). Errors are JSON objects with a stable `error` code and a `message` for people; a 422 also lists `problems`, each naming its `field` (a path into the request such as `mappings.2`) with a `code` and a `message`. Each key may make a limited number of requests a minute (120 unless the instance says otherwise); past it the answer is 429 with a `Retry-After` header. So is an address that sends too many unknown or revoked keys. To wait for a run's end, pass `wait` (seconds, at most 300) to the trigger or to the run."""

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


def _unprocessable(request: HttpRequest, problems: list[tuple[str, str, str]]) -> HttpResponse:
    """The one shape of every 422: a summary, and each problem with the field it is about."""
    message = "; ".join(f"{field}: {text}" if field else text for field, _, text in problems)
    body = {
        "error": "invalid_request",
        "message": message,
        "problems": [{"field": field, "code": code, "message": text} for field, code, text in problems],
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    # ninja's locations start with where the value came from ("body", "query", "path") and, for a body,
    # the parameter's name: the rest is the path into the request.
    problems = [
        (".".join(str(p) for p in e["loc"][2:] or e["loc"][-1:]), e["type"], e["msg"]) for e in exc.errors
    ]
    return _unprocessable(request, problems)


@api.exception_handler(Unprocessable)
def _service_invalid(request, exc: Unprocessable):
    return _unprocessable(request, exc.problems)


@api.exception_handler(KeyRoleRefused)
def _forbidden(request, exc: KeyRoleRefused):
    return _error(request, 403, "forbidden", str(exc))


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    return _error(request, 409, exc.code, exc.message)


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


@api.exception_handler(TooManyWaits)
def _too_many_waits(request, exc: TooManyWaits):
    message = (
        f"This API key already has {exc.limit} calls waiting for runs, the most it may have at once. Try again "
        f"in {exc.RETRY_AFTER} s, or read the run without `wait`."
    )
    response = _error(request, 429, "too_many_waits", message)
    response["Retry-After"] = str(exc.RETRY_AFTER)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # the one HttpError ninja raises itself: a body that is not JSON
        message = (
            f"{exc.message}: send a JSON object (see the reference at {reverse('api-v1:openapi-view')})."
        )
        return _error(request, 400, "invalid_json", message)
    return _error(request, exc.status_code, "error", str(exc.message))


# In this order in the description; the catch-all last of all (ninja matches routers in order).
for router in (syncs.router, runs.router, schedules.router, models.router):
    api.add_router("", router)

fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", url_name="unknown", include_in_schema=False
)
def unknown_endpoint(request: HttpRequest, rest: str):
    """A mistyped path answers in JSON too, rather than with the site's HTML 404 page (after the key check,
    like every endpoint)."""
    raise NotFound(
        f"No endpoint at {request.path}. The endpoints are described at {reverse('api-v1:openapi-view')}."
    )


api.add_router("", fallback)
