"""OAuth for public apps: the consent page on the regional app host and the code → token exchange."""

from __future__ import annotations

import secrets
import time
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from emulators.intercom.errors import ApiError
from emulators.intercom.jsonbody import parse_body
from emulators.intercom.pages import page
from emulators.intercom.store import OAuthCode

if TYPE_CHECKING:
    from emulators.intercom.app import Emulator


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _problem(message: str, status: int = 400) -> HTMLResponse:
    body = f"<div class='card'><h2 class='error'>Can't start the install</h2><p>{escape(message)}</p></div>"
    return HTMLResponse(page("Intercom emulator: install", "OAuth", body), status_code=status)


def _client_and_redirect(
    emu: Emulator, client_id: str, redirect_uri: str
) -> tuple[object, str] | HTMLResponse:
    client = emu.state.oauth_clients.get(client_id)
    if client is None:
        return _problem("Unknown client_id: no app with this client id is registered with the emulator.")
    if not redirect_uri:
        redirect_uri = client.redirect_uris[0] if client.redirect_uris else ""
    if redirect_uri not in client.redirect_uris:
        return _problem("This redirect_uri is not registered for the app.")
    return client, redirect_uri


async def consent_page(emu: Emulator, request: Request, region: str) -> Response:
    query = request.query_params
    admin_email = query.get("admin_email") or emu.config.oauth_admin_email
    checked = _client_and_redirect(emu, query.get("client_id", ""), query.get("redirect_uri", ""))
    if isinstance(checked, HTMLResponse):
        return checked
    client, redirect_uri = checked
    workspaces = [w for w in emu.state.workspaces.values() if w.admin.email == admin_email]
    choices = []
    first = True
    for workspace in workspaces:
        here = workspace.region == region
        wid = escape(workspace.id_code)
        attrs = f"id='ws-{wid}' type='radio' name='workspace' value='{wid}'"
        if here and first:
            attrs += " checked"
            first = False
        if not here:
            attrs += " disabled"
        note = "" if here else f" <span class='meta'>(install from the {workspace.region} app host)</span>"
        choices.append(
            f"<label class='choice{'' if here else ' disabled'}' for='ws-{wid}'><input {attrs}> "
            f"{escape(workspace.name)} <span class='badge'>{workspace.region}</span> "
            f"<span class='meta'>{wid}</span>{note}</label>"
        )
    listing = "".join(choices) or "<p class='empty'>This admin has no workspace to install into.</p>"
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{escape(value)}'>"
        for name, value in (
            ("client_id", client.client_id),
            ("state", query.get("state", "")),
            ("redirect_uri", redirect_uri),
            ("admin_email", admin_email),
        )
    )
    body = (
        "<div class='card'>"
        f"<h2>Install {escape(client.name)}</h2>"
        f"<p class='meta'>Signed in as {escape(admin_email)} · {region} app host</p>"
        f"<p>{escape(client.name)} wants to connect to one of your Intercom workspaces.</p>"
        f"<form method='post' action='{escape(request.url.path)}'>{hidden}"
        f"<fieldset><legend>Workspace</legend>{listing}</fieldset>"
        "<div class='actions'>"
        "<button class='primary' type='submit' name='decision' value='approve'>Approve</button>"
        "<button type='submit' name='decision' value='cancel'>Cancel</button>"
        "</div></form></div>"
    )
    return HTMLResponse(page("Intercom emulator: install an app", f"{region} region", body))


async def consent_decision(emu: Emulator, request: Request, region: str) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    checked = _client_and_redirect(emu, form.get("client_id", ""), form.get("redirect_uri", ""))
    if isinstance(checked, HTMLResponse):
        return checked
    client, redirect_uri = checked
    state = form.get("state", "")
    if form.get("decision") != "approve":
        params = {"error": "access_denied", "error_description": "The admin cancelled the install"}
        if state:
            params["state"] = state
        return RedirectResponse(_with_query(redirect_uri, params), status_code=302)
    admin_email = form.get("admin_email") or emu.config.oauth_admin_email
    workspace = emu.state.workspaces.get(form.get("workspace", ""))
    if workspace is None or workspace.admin.email != admin_email or workspace.region != region:
        return _problem("Choose one of your workspaces in this region.")
    code = secrets.token_urlsafe(18) + "="  # real codes may end in '='; clients must keep it
    emu.state.oauth_codes[code] = OAuthCode(
        code=code,
        client_id=client.client_id,
        workspace_id=workspace.id_code,
        redirect_uri=redirect_uri,
        expires_at=time.monotonic() + emu.oauth_code_ttl,
    )
    return RedirectResponse(_with_query(redirect_uri, {"code": code, "state": state}), status_code=302)


async def _token_params(request: Request) -> dict[str, str]:
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        data = parse_body(raw or b"{}")
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object")
        return {k: str(v) for k, v in data.items() if v is not None}
    params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    params.update({k: v for k, v in request.query_params.items() if k not in params})
    return params


async def exchange_token(emu: Emulator, request: Request) -> Response:
    params = await _token_params(request)
    for name in ("code", "client_id", "client_secret"):
        if not params.get(name):
            raise ApiError(400, "parameter_not_found", f"{name} not specified", name)
    client = emu.state.oauth_clients.get(params["client_id"])
    if client is None or not secrets.compare_digest(client.client_secret, params["client_secret"]):
        raise ApiError(401, "unauthorized", "Unauthorized Client")
    grant = emu.state.oauth_codes.get(params["code"])
    if (
        grant is None
        or grant.used
        or grant.client_id != client.client_id
        or grant.expires_at < time.monotonic()
    ):
        raise ApiError(401, "unauthorized", "Unauthorized Code")
    grant.used = True
    token = emu.state.add_token(grant.workspace_id, app_key=f"oauth:{client.client_id}")
    return JSONResponse({"token_type": "Bearer", "token": token.token, "access_token": token.token})
