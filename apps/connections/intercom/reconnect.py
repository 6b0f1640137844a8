"""Services for an Intercom connection whose token Intercom refused (401), and for its reconnection.

The run that meets an :class:`~apps.connections.intercom.client.AuthFailure` calls
:func:`mark_needs_reconnect` with the failure's text and stops; the dashboard and the connection page show
the status and the message. Storing a fresh token (OAuth "Reconnect", or a pasted token that passed
``GET /me``) must go with :func:`clear_needs_reconnect`, in the same transaction as the new credentials, so
that a reconnected connection is usable again.
"""

from __future__ import annotations

from django.utils import timezone

from apps.connections.intercom import regions
from apps.connections.intercom.client import AuthFailure
from apps.connections.models import Connection, ConnectionStatus

_FIELDS = ["status", "status_message", "last_tested_at", "updated_at"]


def mark_needs_reconnect(connection: Connection, message: str) -> Connection:
    """Intercom refused the token: the connection stays, but nothing runs on it until it is reconnected."""
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_message = message
    connection.last_tested_at = timezone.now()
    connection.save(update_fields=_FIELDS)
    return connection


def clear_needs_reconnect(connection: Connection, message: str = "") -> Connection:
    """The connection has a working token again (reconnected and checked with ``GET /me``)."""
    connection.status = ConnectionStatus.CONNECTED
    connection.status_message = message
    connection.last_tested_at = timezone.now()
    connection.save(update_fields=_FIELDS)
    return connection


def run_refused(connection: Connection, failure: AuthFailure) -> str:
    """A run met a 401: say why, for the run page. When another region's host accepts the token, the region
    is wrong, not the token: the connection is marked failing with "check the data host region" (a
    reconnect would not help). Otherwise it needs a reconnect, as before."""
    region = connection.config.get("region", "US")
    token = (connection.credentials or {}).get("access_token") or ""
    accepted = regions.region_accepting(token, besides=region) if token else None
    if accepted is None:
        mark_needs_reconnect(connection, str(failure))
        return f"Intercom refused the access token: reconnect {connection.name}. ({failure})"
    message = regions.wrong_region_message(name=connection.name, tried=region, accepted=accepted)
    connection.status = ConnectionStatus.FAILING
    connection.status_message = message
    connection.last_tested_at = timezone.now()
    connection.save(update_fields=_FIELDS)
    return message
