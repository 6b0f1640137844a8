"""The control API under ``/_emulator/``: reset, seed, wipe, revoke, faults, limits, lag, holds, state, log.

JSON in, JSON out, no auth (the emulator only listens where tests and the demo can reach it).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from emulators.intercom import dashboard
from emulators.intercom.companies import company_json
from emulators.intercom.config import FaultSettings, OAuthClient, RateLimitSettings
from emulators.intercom.contacts import contact_json
from emulators.intercom.data_attributes import create_attribute, custom_json
from emulators.intercom.errors import ApiError
from emulators.intercom.jsonbody import parse_body
from emulators.intercom.store import Workspace

if TYPE_CHECKING:
    from emulators.intercom.app import Emulator


def seed_workspace(emu: Emulator, spec: dict) -> dict:
    """Create a workspace with its tokens and custom attributes; returns it as the state shows it."""
    try:
        workspace = emu.state.add_workspace(
            name=spec.get("name") or "Emulated workspace",
            region=spec.get("region", "US"),
            id_code=spec.get("id_code"),
            admin_name=spec.get("admin_name", "Ada Admin"),
            admin_email=spec.get("admin_email", emu.config.oauth_admin_email),
            timezone=spec.get("timezone", "UTC"),
        )
    except ValueError as exc:
        raise ApiError(400, "parameter_invalid", str(exc)) from None
    tokens = list(spec.get("tokens") or [])
    if not tokens and spec.get("token_count", 1):
        tokens = [None] * int(spec.get("token_count", 1))
    for token in tokens:
        emu.state.add_token(workspace.id_code, token=token)
    for attribute in spec.get("data_attributes") or []:
        create_attribute(emu.state, workspace, {"model": "contact", "data_type": "string", **attribute})
    return workspace_json(emu, workspace)


def workspace_json(emu: Emulator, workspace: Workspace, *, records: bool = False) -> dict:
    body: dict[str, Any] = {
        "id_code": workspace.id_code,
        "name": workspace.name,
        "region": workspace.region,
        "timezone": workspace.timezone,
        "admin": {"id": workspace.admin.id, "name": workspace.admin.name, "email": workspace.admin.email},
        "tokens": [
            {"token": t.token, "app_key": t.app_key, "revoked": t.revoked}
            for t in emu.state.tokens.values()
            if t.workspace_id == workspace.id_code
        ],
        "data_attributes": [custom_json(a) for a in workspace.attributes.values()],
    }
    if records:
        body["contacts"] = [{**contact_json(c), "archived": c.archived} for c in workspace.contacts.values()]
        body["companies"] = [{**company_json(c), "deleted": c.deleted} for c in workspace.companies.values()]
        body["events"] = [
            {
                "contact_id": e.contact_id,
                "event_name": e.event_name,
                "created_at": e.created_at,
                "metadata": e.metadata,
                "received_at": e.received_at,
            }
            for e in workspace.events
        ]
        body["duplicate_events"] = workspace.duplicate_events
    return body


def settings_json(emu: Emulator) -> dict:
    return {
        "faults": emu.faults.settings.as_dict(),
        "rate_limits": emu.limiter.settings.as_dict(),
        "search_lag_seconds": emu.search_lag,
        "deleted_hold_seconds": emu.deleted_hold,
        "time_factor": emu.config.time_factor,
        "validate_requests": emu.validator is not None,
        "oauth_code_ttl_seconds": emu.oauth_code_ttl,
        "oauth_admin_email": emu.config.oauth_admin_email,
    }


def state_json(emu: Emulator) -> dict:
    return {
        "workspaces": {
            w.id_code: workspace_json(emu, w, records=True) for w in emu.state.workspaces.values()
        },
        "oauth_clients": [c.as_dict() for c in emu.state.oauth_clients.values()],
        "settings": settings_json(emu),
        "duplicate_events": sum(w.duplicate_events for w in emu.state.workspaces.values()),
        "injected_errors": emu.faults.injected_errors,
        "hung_requests": emu.faults.hung_requests,
    }


def _merge(current: Any, changes: dict, cls: type) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(changes) - names
    if unknown:
        raise ApiError(400, "parameter_invalid", f"Unknown settings: {', '.join(sorted(unknown))}")
    if "error_statuses" in changes:
        changes = {**changes, "error_statuses": tuple(int(s) for s in changes["error_statuses"])}
    return replace(current, **changes)


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = parse_body(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object")
    return data


async def dispatch(emu: Emulator, request: Request, path: str) -> Response:
    method = request.method
    parts = [p for p in path.split("/") if p]
    if not parts and method == "GET":
        return HTMLResponse(dashboard.render(emu))
    route = "/".join(parts)
    if route == "health":
        return JSONResponse({"ok": True})
    if method == "POST" and route == "reset":
        emu.reset()
        return JSONResponse({"reset": True})
    if method == "GET" and route == "state":
        return JSONResponse(state_json(emu))
    if method == "GET" and route == "requests":
        limit = request.query_params.get("limit")
        return JSONResponse(emu.log.as_dict(int(limit) if limit else None))
    if method == "GET" and route == "settings":
        return JSONResponse(settings_json(emu))
    if route == "workspaces" and method == "POST":
        return JSONResponse(seed_workspace(emu, await _json(request)), status_code=201)
    if route == "workspaces" and method == "GET":
        return JSONResponse([workspace_json(emu, w) for w in emu.state.workspaces.values()])
    if len(parts) == 3 and parts[0] == "workspaces" and method == "POST":
        workspace = emu.state.workspaces.get(parts[1])
        if workspace is None:
            raise ApiError(404, "not_found", "Workspace not found")
        data = await _json(request)
        if parts[2] == "wipe":  # an out-of-band reset: the records go, the tokens and attributes stay
            return JSONResponse({"removed": workspace.wipe()})
        if parts[2] == "tokens":
            token = emu.state.add_token(
                workspace.id_code, token=data.get("token"), app_key=data.get("app_key")
            )
            return JSONResponse({"token": token.token, "app_key": token.app_key}, status_code=201)
        if parts[2] == "data_attributes":
            attribute = create_attribute(
                emu.state, workspace, {"model": "contact", "data_type": "string", **data}
            )
            return JSONResponse(custom_json(attribute), status_code=201)
    if len(parts) == 3 and parts[0] == "tokens" and parts[2] == "revoke" and method == "POST":
        token = emu.state.tokens.get(parts[1])
        if token is None:
            raise ApiError(404, "not_found", "Token not found")
        token.revoked = True
        return JSONResponse({"token": token.token, "revoked": True})
    if route == "oauth/clients" and method == "POST":
        data = await _json(request)
        try:
            client = OAuthClient(
                client_id=str(data["client_id"]),
                client_secret=str(data["client_secret"]),
                redirect_uris=[str(u) for u in data.get("redirect_uris") or []],
                name=str(data.get("name") or "Syncline"),
            )
        except KeyError as exc:
            raise ApiError(400, "parameter_not_found", f"{exc.args[0]} not specified") from None
        emu.add_oauth_client(client)
        return JSONResponse(client.as_dict(), status_code=201)
    if route == "oauth/settings":
        if method in ("PUT", "POST"):
            data = await _json(request)
            emu.oauth_code_ttl = float(data.get("code_ttl_seconds", emu.oauth_code_ttl))
        return JSONResponse({"code_ttl_seconds": emu.oauth_code_ttl})
    if route == "faults":
        if method in ("PUT", "POST"):
            emu.faults.update(_merge(emu.faults.settings, await _json(request), FaultSettings))
        return JSONResponse(emu.faults.settings.as_dict())
    if route == "rate_limits":
        if method in ("PUT", "POST"):
            emu.limiter.settings = _merge(emu.limiter.settings, await _json(request), RateLimitSettings)
            emu.limiter.reset()
        return JSONResponse(emu.limiter.settings.as_dict())
    if route == "search_lag":
        if method in ("PUT", "POST"):
            data = await _json(request)
            emu.search_lag = float(data.get("seconds", 0))
        return JSONResponse({"seconds": emu.search_lag})
    if route == "deleted_hold":
        if method in ("PUT", "POST"):
            data = await _json(request)
            emu.deleted_hold = float(data.get("seconds", 0))
        return JSONResponse({"seconds": emu.deleted_hold})
    raise ApiError(404, "not_found", f"No control endpoint {method} /_emulator/{route}")
