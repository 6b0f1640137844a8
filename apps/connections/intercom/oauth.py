"""Connecting an Intercom workspace: OAuth (authorize → callback → token → /me) or a pasted token.

Every failure raises `ConnectError` with a message for the page, and nothing is stored then. A token's
workspace and region come from `GET /me`; when Intercom reports another region than the one picked,
Syncline uses the reported one and says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from requests import RequestException
from requests_oauthlib import OAuth2Session

from apps.connections.audit import audit_connection, audited
from apps.connections.intercom.client import AuthFailure, Rejected, TransientFailure, intercom_client
from apps.connections.models import Connection, ConnectionKind, ConnectionStatus, IntercomRegion, OAuthState
from apps.tenancy.models import Membership, Role, User, Workspace

REGIONS = [choice.value for choice in IntercomRegion]


class ConnectError(Exception):
    """The connection could not be made; the message says why, for the user."""


@dataclass
class Identity:
    region: str
    me: dict
    notes: list[str] = field(default_factory=list)

    @property
    def app(self) -> dict:
        return self.me.get("app") or {}


def oauth_enabled() -> bool:
    return bool(settings.INTERCOM_CLIENT_ID and settings.INTERCOM_CLIENT_SECRET)


def redirect_uri() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("intercom_callback")


def _session(state: str | None = None) -> OAuth2Session:
    return OAuth2Session(settings.INTERCOM_CLIENT_ID, redirect_uri=redirect_uri(), state=state)


def oauth_start(
    *, workspace: Workspace, user: User, region: str, connection: Connection | None = None
) -> str:
    """Record a single-use state and return the region's authorize URL to send the user to."""
    if not oauth_enabled():
        raise ConnectError(
            "No Intercom OAuth app is configured (INTERCOM_CLIENT_ID); paste an access token instead."
        )
    state = OAuthState.objects.create(
        workspace=workspace,
        user=user,
        region=region,
        connection=connection,
        state=secrets.token_urlsafe(32),
        expires_at=timezone.now() + timedelta(seconds=settings.INTERCOM_OAUTH_STATE_SECONDS),
    )
    url, _ = _session(state.state).authorization_url(settings.INTERCOM_APP_BASE_URLS[region] + "/oauth")
    return url


def _claim_state(*, user: User, state: str) -> OAuthState:
    """The pending attempt behind `state`, marked used; refused when missing, foreign, replayed or expired."""
    if not state:
        raise ConnectError(
            "Intercom sent no state back, so this sign-in cannot be matched to you. Start again."
        )
    # The state is the lookup key (it is the proof), so this one query does not start from a workspace.
    attempt = (
        OAuthState.objects.across_all_workspaces_unsafe()
        .select_for_update()
        .select_related("workspace")
        .filter(state=state, user=user)
        .first()
    )
    if attempt is None:
        raise ConnectError("This answer from Intercom does not match a connection you started. Start again.")
    if attempt.used_at is not None:
        raise ConnectError("This answer from Intercom was already used. Start the connection again.")
    if attempt.expires_at < timezone.now():
        raise ConnectError("This connection attempt expired (after 10 minutes). Start again.")
    membership = Membership.objects.for_workspace(attempt.workspace).filter(user=user).first()
    if membership is None or not membership.can(Role.EDITOR):
        raise ConnectError("You can no longer change connections in this workspace.")
    attempt.used_at = timezone.now()
    attempt.save(update_fields=["used_at", "updated_at"])
    return attempt


def _exchange_code(*, region: str, code: str, state: str) -> str:
    token_url = settings.INTERCOM_API_BASE_URLS[region] + "/auth/eagle/token"
    try:
        token = _session(state).fetch_token(
            token_url,
            code=code,
            client_secret=settings.INTERCOM_CLIENT_SECRET,
            include_client_id=True,
            timeout=20,
        )
    except (OAuth2Error, RequestException, ValueError):
        raise ConnectError(
            "Intercom refused the authorization code (it may have expired or been used). Start again."
        ) from None  # the original error may echo the code or the secret
    access_token = token.get("access_token") or token.get("token")
    if not access_token:
        raise ConnectError("Intercom answered without an access token. Start again.")
    return access_token


def fetch_me(*, region: str, token: str) -> dict:
    """`GET /me` on a region's host: the admin and the workspace. Raises AuthFailure on 401 and
    TransientFailure when Intercom cannot answer."""
    client = intercom_client(
        base_url=settings.INTERCOM_API_BASE_URLS[region],
        access_token=token,
        workspace_key=f"token-check-{region}",
    )
    with client:
        outcome = client.me()
    if isinstance(outcome, Rejected):
        raise TransientFailure(f"{outcome.code}: {outcome.message}", attempts=1, status=outcome.status)
    return outcome.body or {}


def identify(*, token: str, region: str) -> Identity:
    """Ask `GET /me` who this token belongs to, trying the picked region first, then the others."""
    for candidate in [region, *[r for r in REGIONS if r != region]]:
        try:
            me = fetch_me(region=candidate, token=token)
        except AuthFailure:
            continue  # a token only works on its own region's host
        except TransientFailure as error:
            raise ConnectError(f"Intercom did not answer: {error}. Try again in a moment.") from None
        reported = str((me.get("app") or {}).get("region") or candidate).upper()
        reported = reported if reported in REGIONS else candidate
        notes = []
        if reported != region:
            notes.append(
                f"You picked {region}, but this Intercom workspace is hosted in {reported}; Syncline uses {reported}."
            )
        return Identity(region=reported, me=me, notes=notes)
    raise ConnectError("Intercom does not accept this access token in any region (it is invalid or revoked).")


@transaction.atomic
def _save(
    *,
    workspace: Workspace,
    user: User,
    identity: Identity,
    token: str,
    auth: str,
    connection: Connection | None,
) -> Connection:
    app = identity.app
    id_code = app.get("id_code", "")
    if connection is None:
        # Connecting the same Intercom workspace again updates its connection instead of adding another.
        connection = (
            Connection.objects.for_workspace(workspace)
            .filter(kind=ConnectionKind.DESTINATION, type="intercom", config__workspace_id=id_code)
            .first()
        )
    elif connection.config.get("workspace_id") not in ("", None, id_code):
        raise ConnectError(
            f"This connection is for the Intercom workspace {connection.config.get('workspace_name')}, but you "
            f"approved {app.get('name')}. Reconnect with the same workspace, or add a new connection."
        )
    before = None if connection is None else audited(connection)
    if connection is None:
        connection = Connection(
            workspace=workspace, kind=ConnectionKind.DESTINATION, type="intercom", created_by=user
        )
        connection.name = _free_name(workspace, f"Intercom · {app.get('name') or id_code}")
    connection.config = {
        "region": identity.region,
        "workspace_id": id_code,
        "workspace_name": app.get("name", ""),
        "admin_email": identity.me.get("email", ""),
        "admin_name": identity.me.get("name", ""),
        "auth": auth,
        "connected_by": user.email,
    }
    connection.credentials = {"access_token": token}
    connection.status = ConnectionStatus.CONNECTED
    connection.status_message = f"{app.get('name', '')} ({identity.region}) as {identity.me.get('email', '')}"
    connection.last_tested_at = timezone.now()
    connection.save()
    audit_connection(connection, before)
    return connection


def _free_name(workspace: Workspace, name: str) -> str:
    taken = set(Connection.objects.for_workspace(workspace).values_list("name", flat=True))
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


def oauth_complete(*, user: User, params: dict[str, str]) -> tuple[Connection, list[str]]:
    """Handle Intercom's redirect back. Returns the connection and notes for the user."""
    with transaction.atomic():
        attempt = _claim_state(user=user, state=params.get("state", ""))
    if params.get("error"):
        raise ConnectError(
            "Intercom did not authorize Syncline (the install was cancelled). Nothing was connected."
        )
    if not params.get("code"):
        raise ConnectError("Intercom sent no authorization code. Start again.")
    token = _exchange_code(region=attempt.region, code=params["code"], state=attempt.state)
    identity = identify(token=token, region=attempt.region)
    connection = _save(
        workspace=attempt.workspace,
        user=user,
        identity=identity,
        token=token,
        auth="oauth",
        connection=attempt.connection,
    )
    return connection, identity.notes


def token_connect(
    *, workspace: Workspace, user: User, region: str, token: str, connection: Connection | None = None
) -> tuple[Connection, list[str]]:
    """Self-hosters without an OAuth app paste an access token; it is checked with /me the same way."""
    identity = identify(token=token.strip(), region=region)
    connection = _save(
        workspace=workspace,
        user=user,
        identity=identity,
        token=token.strip(),
        auth="token",
        connection=connection,
    )
    return connection, identity.notes
