"""An Intercom connection as the destination of a sync: the API client for it."""

from __future__ import annotations

from django.conf import settings

from apps.connections.intercom.client import IntercomClient, intercom_client
from apps.connections.models import Connection


class DestinationUnavailable(Exception):
    pass


def client_for(connection: Connection) -> IntercomClient:
    token = (connection.credentials or {}).get("access_token")
    if not token:
        raise DestinationUnavailable(f"{connection.name} is disconnected: reconnect Intercom to sync.")
    region = connection.config.get("region", "US")
    return intercom_client(
        base_url=settings.INTERCOM_API_BASE_URLS[region],
        access_token=token,
        workspace_key=connection.config.get("workspace_id") or f"connection-{connection.pk}",
        max_attempts=settings.INTERCOM_CLIENT_MAX_ATTEMPTS,
        backoff_base=settings.INTERCOM_CLIENT_BACKOFF_SECONDS,
    )
