"""Source connections: create, edit, test. Secrets go to the encrypted `credentials`, the rest to `config`."""

from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.hosting import shared_hosting
from apps.common.problems import Invalid, Problem
from apps.connections.audit import audit_connection as _audit
from apps.connections.audit import audited as _audited
from apps.connections.duckdb_files import duckdb_folders
from apps.connections.intercom import regions
from apps.connections.intercom.client import AuthFailure, TransientFailure
from apps.connections.intercom.oauth import fetch_me
from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
from apps.connections.sources.base import ConnectionCheck, SourceAdapter
from apps.connections.sources.errors import SourceError
from apps.connections.sources.registry import SOURCE_TYPES, clean_config, open_source
from apps.tenancy.audit import audit_record
from apps.tenancy.models import AuditAction, User, Workspace


def _split(type_key: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    secret_names = SOURCE_TYPES[type_key].secret_field_names
    config = {k: v for k, v in values.items() if k not in secret_names}
    secrets = {k: v for k, v in values.items() if k in secret_names}
    return config, secrets


def source_values(connection: Connection) -> dict[str, Any]:
    """Everything an adapter needs: the plain config merged with the decrypted secrets."""
    return {**connection.config, **(connection.credentials or {})}


def _open(type_key: str, values: dict[str, Any], workspace_id: int) -> SourceAdapter:
    """The adapter, under the hosting mode's rules: public hosts only and DuckDB files only from the
    workspace's own folder in shared hosting; DuckDB files only under the data folder in team hosting."""
    return open_source(
        type_key,
        values,
        block_private_hosts=shared_hosting(),
        duckdb_folders=duckdb_folders(workspace_id),
        snowflake_endpoint=settings.SNOWFLAKE_ENDPOINT or None,
        bigquery_endpoint=getattr(settings, "BIGQUERY_ENDPOINT", "") or None,
        google_sheets_endpoint=getattr(settings, "GOOGLE_SHEETS_ENDPOINT", "") or None,
    )


def source_adapter(connection: Connection) -> SourceAdapter:
    return _open(connection.type, source_values(connection), connection.workspace_id)


# A blank secret on an edit form asks to keep the stored one, but the server it was saved for changed.
RETYPE_SECRET = "retype_secret"  # noqa: S105 (a problem code, not a secret)


def _secret_must_be_typed_again(field: str, label: str, changed: list[str]) -> Invalid:
    what = ", ".join(changed[:-1]) + " and " + changed[-1] if len(changed) > 1 else changed[0]
    message = f"Enter the {label.lower()} again: the {what} changed."
    return Invalid([Problem(field, RETYPE_SECRET, message)])


def source_values_with_kept_secrets(
    connection: Connection | None, submitted: dict[str, Any]
) -> dict[str, Any]:
    """A blank secret field on an edit form means "keep the stored one", but only for the server it was
    saved for: with the host, port, database, user or SSL mode (the path, for a file) changed, a stored secret is
    never sent on: an `Invalid` about the secret's field asks for it instead."""
    values = dict(submitted)
    if connection is None:
        return values
    source_type = SOURCE_TYPES[connection.type]
    fields = {spec.name: spec for spec in source_type.fields}
    changed = [
        fields[name].label_in_sentence
        for name in source_type.secret_bound_to
        if _bound_value(name, connection.config.get(name)) != _bound_value(name, submitted.get(name))
    ]
    for name, stored in (connection.credentials or {}).items():
        if values.get(name):
            continue  # typed again
        if stored and changed:
            raise _secret_must_be_typed_again(name, fields[name].label if name in fields else name, changed)
        values[name] = stored
    return values


def _bound_value(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text.lower() if name == "host" else text  # host names are case-insensitive


def source_check(*, workspace: Workspace, type_key: str, values: dict[str, Any]) -> ConnectionCheck:
    """Test values before they are stored. Raises SourceError with a message the user can act on."""
    adapter = _open(type_key, values, workspace.pk)
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
    before = None if connection is None else _audited(connection)
    if connection is None:
        connection = Connection(
            workspace=workspace, kind=ConnectionKind.SOURCE, type=type_key, created_by=user
        )
    connection.name = name.strip()
    connection.config = config
    connection.credentials = secrets
    _record_test(connection, tested, test_error)
    connection.save()
    _audit(connection, before)
    return connection


def _record_test(connection: Connection, tested: ConnectionCheck | None, error: str) -> None:
    connection.last_tested_at = timezone.now()
    if tested is not None:
        connection.status = ConnectionStatus.CONNECTED
        connection.status_message = tested.server_version
        connection.test_warnings = [asdict(warning) for warning in tested.warnings]
    else:
        connection.status = ConnectionStatus.FAILING
        connection.status_message = error
        connection.test_warnings = []  # a test that did not get in says nothing about privileges


def connection_test(*, workspace: Workspace, connection: Connection) -> Connection:
    """Test a stored connection now (a query to the warehouse, or Intercom's /me) and record the outcome."""
    if connection.kind == ConnectionKind.DESTINATION:
        return _intercom_test(connection)
    try:
        tested, error = source_adapter(connection).test(), ""
    except SourceError as failure:
        tested, error = None, str(failure)
    _record_test(connection, tested, error)
    connection.save(
        update_fields=["status", "status_message", "test_warnings", "last_tested_at", "updated_at"]
    )
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
            accepted = regions.region_accepting(token, besides=region)
            if accepted:  # the token is fine: the region is what is wrong
                connection.status = ConnectionStatus.FAILING
                connection.status_message = regions.wrong_region_message(
                    name=connection.name, tried=region, accepted=accepted
                )
            else:
                connection.status = ConnectionStatus.NEEDS_RECONNECT
                connection.status_message = (
                    f"Intercom refused the access token in every region ({region} first, "
                    f"{regions.api_host(region)}): it was revoked or the app uninstalled. Reconnect."
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


class RegionNotChanged(Exception):
    """The new region failed its test; nothing was saved. The message says why and where to check."""


def connection_set_region(*, workspace: Workspace, connection: Connection, region: str) -> Connection:
    """Move an Intercom connection to another data host region, only if Intercom accepts its token there:
    a region that fails its test is not saved (the connection keeps working where it was)."""
    old = connection.config.get("region", "US")
    token = (connection.credentials or {}).get("access_token")
    if not token:
        raise RegionNotChanged(
            f"Region not changed (still {old}): there is no access token to test {region} with. Reconnect, "
            "and pick the region on the way."
        )
    try:
        me = fetch_me(region=region, token=token)
    except AuthFailure:
        raise RegionNotChanged(
            f"Region not changed (still {old}): Intercom refused this connection's access token in {region} "
            f"({regions.api_host(region)}). {regions.WHERE_TO_CHECK}"
        ) from None
    except TransientFailure as error:
        raise RegionNotChanged(
            f"Region not changed (still {old}): Intercom did not answer in {region} "
            f"({regions.api_host(region)}: {error}). Try again in a moment."
        ) from None
    app = me.get("app") or {}
    before = _audited(connection)
    connection.config = {**connection.config, "region": region}
    connection.status = ConnectionStatus.CONNECTED
    connection.status_message = f"{app.get('name', '')} ({region}) as {me.get('email', '')}"
    connection.last_tested_at = timezone.now()
    connection.save(update_fields=["config", "status", "status_message", "last_tested_at", "updated_at"])
    _audit(connection, before)
    return connection


def connection_disconnect(*, workspace: Workspace, connection: Connection) -> Connection:
    """Delete the destination's token; the connection (and the syncs using it) stay, waiting for a reconnect."""
    before = _audited(connection)
    connection.credentials = None
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_message = "Disconnected: the access token was deleted. Reconnect to sync again."
    connection.save(update_fields=["credentials", "status", "status_message", "updated_at"])
    _audit(connection, before)
    return connection


def connection_delete(*, workspace: Workspace, connection: Connection) -> None:
    deleted, _ = Connection.objects.for_workspace(workspace).filter(pk=connection.pk).delete()
    if deleted:
        audit_record(
            workspace=workspace,
            kind="connection",
            object_id=connection.pk,
            name=connection.name,
            action=AuditAction.DELETED,
        )
