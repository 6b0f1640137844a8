"""The emulator as one ASGI app: regional REST API, OAuth, and the control API under ``/_emulator/``.

Request pipeline for the REST API: region prefix → route (404/405) → injected faults → bearer token (401) →
rate limits (429) → spec validation of parameters and body (400/415/422) → handler → rate-limit headers.
Every error is an ``error.list`` with a ``request_id``; nothing ever answers with a traceback.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any
from urllib.parse import unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from emulators.intercom import (
    admins,
    companies,
    contacts,
    control,
    data_attributes,
    events,
    oauth,
    persistence,
)
from emulators.intercom.config import EmulatorConfig, OAuthClient
from emulators.intercom.errors import ApiError, error_response, new_request_id, unauthorized
from emulators.intercom.faults import FaultInjector
from emulators.intercom.jsonbody import parse_body
from emulators.intercom.ratelimit import RateLimiter
from emulators.intercom.requestlog import LoggedRequest, RequestLog
from emulators.intercom.routing import Call, Router
from emulators.intercom.spec import SpecValidator
from emulators.intercom.store import State, Token, Workspace

logger = logging.getLogger("emulators.intercom")

REGION_PREFIXES = {"us": "US", "eu": "EU", "au": "AU"}
CONTROL_PREFIX = "/_emulator"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _split_region(path: str) -> tuple[str | None, str]:
    parts = path.split("/", 2)  # "", "us", "contacts/..."
    if len(parts) < 2 or parts[1] not in REGION_PREFIXES:
        return None, path
    rest = "/" + parts[2] if len(parts) == 3 else "/"
    return REGION_PREFIXES[parts[1]], rest.rstrip("/") or "/"


class Emulator:
    """Holds the configuration, the state and the runtime settings; is itself the ASGI callable."""

    def __init__(self, config: EmulatorConfig):
        self.config = config
        self.router = Router(
            admins.ROUTES + contacts.ROUTES + companies.ROUTES + events.ROUTES + data_attributes.ROUTES
        )
        self.validator = (
            SpecValidator.from_file(config.spec_path, self.router.operations())
            if config.validate_requests
            else None
        )
        self.log = RequestLog(config.request_log_size)
        self.limiter = RateLimiter(copy.deepcopy(config.rate_limits))
        self.faults = FaultInjector(copy.deepcopy(config.faults))
        self.search_lag = config.search_lag_seconds * config.time_factor
        self.deleted_hold = config.deleted_hold_seconds * config.time_factor
        self.oauth_code_ttl = config.oauth_code_ttl_seconds
        self.state = State()
        self.reset()
        # --state-file: the state outlives the process (persistence.py); None keeps it in memory only.
        self.saver: persistence.Saver | None = None
        if config.state_file is not None:
            self.saver = persistence.Saver(self, config.state_file)
            saved = persistence.load(config.state_file)
            if saved is not None:
                self.state = saved
                for client in config.oauth_clients:  # this start's redirect URIs win
                    self.add_oauth_client(copy.deepcopy(client))

    # -- state -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the start: empty state plus what the start options seed; default settings."""
        self.state = State()
        for client in self.config.oauth_clients:
            self.state.oauth_clients[client.client_id] = copy.deepcopy(client)
        for spec in self.config.seed_workspaces:
            control.seed_workspace(self, dict(spec))
        self.limiter.settings = copy.deepcopy(self.config.rate_limits)
        self.limiter.reset()
        self.faults.update(copy.deepcopy(self.config.faults))
        self.faults.injected_errors = self.faults.hung_requests = 0
        self.search_lag = self.config.search_lag_seconds * self.config.time_factor
        self.deleted_hold = self.config.deleted_hold_seconds * self.config.time_factor
        self.oauth_code_ttl = self.config.oauth_code_ttl_seconds
        self.log.reset()

    def add_oauth_client(self, client: OAuthClient) -> None:
        self.state.oauth_clients[client.client_id] = client

    # -- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if self.saver is not None:
                        self.saver.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.saver is not None:
                        self.saver.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        if self.saver is not None and request.method not in ("GET", "HEAD"):
            self.saver.touch()
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            request_id = new_request_id()
            try:
                return await control.dispatch(self, request, path[len(CONTROL_PREFIX) :] or "/")
            except ApiError as exc:
                return error_response(request_id, exc)
            except Exception:
                logger.exception("control API failure")
                return error_response(request_id, ApiError(500, "server_error", "Server Error"))
        return await self.handle_api(request, path)

    async def handle_api(self, request: Request, path: str) -> Response:
        started = time.perf_counter()
        request_id = new_request_id()
        # Route on the raw path so that an encoded "/" inside an id (e.g. an external id) stays in its segment.
        raw_path = request.scope.get("raw_path")
        region, rest = _split_region(raw_path.decode("latin-1").split("?", 1)[0] if raw_path else path)
        endpoint = f"{request.method} {path}"
        workspace_id: str | None = None
        rate_headers: dict[str, str] = {}
        try:
            if region is None:
                raise ApiError(404, "not_found", "Resource Not Found")
            if rest in ("/oauth", "/auth/eagle/token"):
                endpoint = f"{request.method} {rest}"
                response = await self._oauth(request, region, rest)
            else:
                route, params, allowed = self.router.match(request.method, rest)
                if route is None:
                    if allowed:
                        raise ApiError(
                            405,
                            "method_not_allowed",
                            f"{request.method} is not allowed on {rest}",
                            headers={"Allow": ", ".join(allowed)},
                        )
                    raise ApiError(404, "not_found", "Resource Not Found")
                params = {name: unquote(value) for name, value in params.items()}
                endpoint = f"{route.method} {route.template}"
                await self.faults.apply()
                token, workspace = self._authenticate(request, region)
                workspace_id = workspace.id_code
                verdict = self.limiter.check(token.app_key, workspace.id_code)
                rate_headers = verdict.headers()
                if not verdict.allowed:
                    raise self.limiter.exceeded(verdict)
                query = dict(request.query_params)
                body = await self._body(request, route.method, route.template, query)
                call = Call(
                    state=self.state,
                    workspace=workspace,
                    app_key=token.app_key,
                    body=body,
                    query=query,
                    params=params,
                    search_lag=self.search_lag,
                    deleted_hold=self.deleted_hold,
                    base_path=f"/{region.lower()}",
                )
                status, payload = route.handler(call)
                if payload is None:
                    response = Response(status_code=status, headers=rate_headers)
                else:
                    response = JSONResponse(payload, status_code=status, headers=rate_headers)
        except ApiError as exc:
            exc.headers = {**rate_headers, **exc.headers}
            response = error_response(request_id, exc)
        except ClientDisconnect:  # gone before its body arrived (a killed worker): nobody is left to answer
            logger.info("client closed %s %s before sending its whole body", request.method, path)
            response = Response(status_code=499)  # "client closed request", as nginx logs it
        except Exception:
            logger.exception("emulator failure on %s %s", request.method, path)
            response = error_response(request_id, ApiError(500, "server_error", "Server Error"))
        response.headers["X-Request-Id"] = request_id
        self.log.record(
            LoggedRequest(
                at=time.time(),
                method=request.method,
                path=path,
                endpoint=endpoint,
                status=response.status_code,
                region=region,
                workspace=workspace_id,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                request_id=request_id,
            )
        )
        return response

    async def _oauth(self, request: Request, region: str, rest: str) -> Response:
        if rest == "/oauth":
            if request.method == "GET":
                return await oauth.consent_page(self, request, region)
            if request.method == "POST":
                return await oauth.consent_decision(self, request, region)
            raise ApiError(
                405, "method_not_allowed", f"{request.method} is not allowed", headers={"Allow": "GET, POST"}
            )
        if request.method != "POST":
            raise ApiError(
                405, "method_not_allowed", f"{request.method} is not allowed", headers={"Allow": "POST"}
            )
        return await oauth.exchange_token(self, request)

    def _authenticate(self, request: Request, region: str) -> tuple[Token, Workspace]:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized()
        token = self.state.tokens.get(value.strip())
        if token is None:
            raise unauthorized()
        if token.revoked:
            raise unauthorized("Token Revoked", code="token_revoked")
        workspace = self.state.workspaces.get(token.workspace_id)
        if workspace is None or workspace.region != region:
            raise unauthorized()  # a token only exists in its own region
        return token, workspace

    async def _body(self, request: Request, method: str, template: str, query: dict[str, str]) -> Any:
        rules = self.validator.rules_for(method, template) if self.validator else None
        if rules is not None:
            rules.check_parameters(query, request.headers)
        if method not in BODY_METHODS:
            return None
        raw = await request.body()
        takes_body = rules.has_body if rules is not None else True
        if not takes_body:
            return None
        body: Any = {}
        if raw.strip():
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json" and not content_type.endswith("+json"):
                raise ApiError(
                    415,
                    "unsupported_media_type",
                    f"Content-Type must be application/json, got '{content_type or 'none'}'",
                )
            body = parse_body(raw)
        if rules is not None:
            rules.check_body(body)
        if not isinstance(body, dict):
            raise ApiError(400, "parameter_invalid", "The request body must be a JSON object")
        return body


def create_app(config: EmulatorConfig | None = None) -> Emulator:
    return Emulator(config or EmulatorConfig())
