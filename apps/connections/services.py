"""Source connections: create, edit, test. Secrets go to the encrypted `credentials`, the rest to `config`."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.connections.intercom.client import AuthFailure, TransientFailure
from apps.connections.intercom.oauth import fetch_me
from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
from apps.connections.sources.base import ConnectionCheck, SourceAdapter
from apps.connections.sources.errors import SourceError
from apps.connections.sources.registry import SOURCE_TYPES, clean_config, open_source
from apps.tenancy.models import User, Workspace


def _split(type_key: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    secret_names = SOURCE_TYPES[type_key].secret_field_names
    config = {k: v for k, v in values.items() if k not in secret_names}
    secrets = {k: v for k, v in values.items() if k in secret_names}
    return config, secrets


def source_values(connection: Connection) -> dict[str, Any]:
    """Everything an adapter needs: the plain config merged with the decrypted secrets."""
    return {**connection.config, **(connection.credentials or {})}


def source_adapter(connection: Connection) -> SourceAdapter:
    return open_source(
        connection.type, source_values(connection), block_private_hosts=settings.SOURCES_BLOCK_PRIVATE_HOSTS
    )


def source_values_with_kept_secrets(
    connection: Connection | None, submitted: dict[str, Any]
) -> dict[str, Any]:
    """A blank secret field on an edit form means "keep the stored one"."""
    values = dict(submitted)
    if connection is not None:
        for name, stored in (connection.credentials or {}).items():
            if not values.get(name):
                values[name] = stored
    return values


def source_check(*, type_key: str, values: dict[str, Any]) -> ConnectionCheck:
    """Test values before they are stored. Raises SourceError with a message the user can act on."""
    adapter = open_source(type_key, values, block_private_hosts=settings.SOURCES_BLOCK_PRIVATE_HOSTS)
    return adapter.test()


@transaction.atomic
def source_connection_save(
    *,
    workspace: Workspace,
    user: User,
    name: str,
    type_key: str,
    values: dict[str, Any],
    tested: ConnectionCheck | None,
    test_error: str = "",
    connection: Connection | None = None,
) -> Connection:
    config, secrets = _split(type_key, clean_config(type_key, values))
    if connection is None:
        connection = Connection(
            workspace=workspace, kind=ConnectionKind.SOURCE, type=type_key, created_by=user
        )
    connection.name = name.strip()
    connection.config = config
    connection.credentials = secrets
    _record_test(connection, tested, test_error)
    connection.save()
    return connection


def _record_test(connection: Connection, tested: ConnectionCheck | None, error: str) -> None:
    connection.last_tested_at = timezone.now()
    if tested is not None:
        connection.status = ConnectionStatus.CONNECTED
        connection.status_message = tested.server_version
    else:
        connection.status = ConnectionStatus.FAILING
        connection.status_message = error


def connection_test(*, workspace: Workspace, connection: Connection) -> Connection:
    """Test a stored connection now (a query to the warehouse, or Intercom's /me) and record the outcome."""
    if connection.kind == ConnectionKind.DESTINATION:
        return _intercom_test(connection)
    try:
        tested, error = source_adapter(connection).test(), ""
    except SourceError as failure:
        tested, error = None, str(failure)
    _record_test(connection, tested, error)
    connection.save(update_fields=["status", "status_message", "last_tested_at", "updated_at"])
    return connection


def _intercom_test(connection: Connection) -> Connection:
    token = (connection.credentials or {}).get("access_token")
    connection.last_tested_at = timezone.now()
    if not token:
        connection.status = ConnectionStatus.NEEDS_RECONNECT
        connection.status_message = "Disconnected: there is no access token. Reconnect to sync again."
    else:
        region = connection.config.get("region", "US")
        try:
            me = fetch_me(region=region, token=token)
        except AuthFailure:
            connection.status = ConnectionStatus.NEEDS_RECONNECT
            connection.status_message = (
                f"Intercom refused the access token in the {region} region: it was revoked, or the workspace is "
                "hosted in another region. Check the region, or reconnect."
            )
        except TransientFailure as error:
            connection.status = ConnectionStatus.FAILING
            connection.status_message = f"Intercom did not answer ({error}). Try again in a moment."
        else:
            app = me.get("app") or {}
            connection.status = ConnectionStatus.CONNECTED
            connection.status_message = f"{app.get('name', '')} ({region}) as {me.get('email', '')}"
    connection.save(update_fields=["status", "status_message", "last_tested_at", "updated_at"])
    return connection


def connection_set_region(*, workspace: Workspace, connection: Connection, region: str) -> Connection:
    connection.config = {**connection.config, "region": region}
    connection.save(update_fields=["config", "updated_at"])
    return _intercom_test(connection)


def connection_disconnect(*, workspace: Workspace, connection: Connection) -> Connection:
    """Delete the destination's token; the connection (and the syncs using it) stay, waiting for a reconnect."""
    connection.credentials = None
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_message = "Disconnected: the access token was deleted. Reconnect to sync again."
    connection.save(update_fields=["credentials", "status", "status_message", "updated_at"])
    return connection


def connection_delete(*, workspace: Workspace, connection: Connection) -> None:
    Connection.objects.for_workspace(workspace).filter(pk=connection.pk).delete()
