"""Which source types exist, what each one asks the user for, and how to build its adapter.

The Django side generates connection forms from ``SOURCE_TYPES[key].fields`` and stores the cleaned
values (secrets included) in the connection's encrypted credentials; ``open_source`` turns them back
into an adapter. Field kinds: "text", "integer", "password" (secret, never rendered back), "choice",
"path", "seconds".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_EXTRACT_TIMEOUT_SECONDS,
    DEFAULT_PREVIEW_TIMEOUT_SECONDS,
    SourceAdapter,
)
from .duckdb import DuckDbSource
from .errors import InvalidSourceConfig
from .mysql import MySqlSource
from .postgres import PostgresSource, RedshiftSource


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str
    kind: str = "text"
    required: bool = True
    secret: bool = False
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    help_text: str = ""


@dataclass(frozen=True)
class SourceType:
    key: str
    label: str
    adapter: type
    fields: tuple[ConfigField, ...]

    @property
    def secret_field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.secret)


def _server_fields(*, port: int, ssl_field: ConfigField, extra: tuple[ConfigField, ...] = ()) -> tuple:
    return (
        ConfigField("host", "Host", help_text="Host name or IP address of the database server."),
        ConfigField("port", "Port", kind="integer", default=port),
        ConfigField("database", "Database"),
        ConfigField("user", "User", help_text="A user with read (SELECT) privileges only is recommended."),
        ConfigField("password", "Password", kind="password", required=False, secret=True, default=""),
        ssl_field,
        *extra,
        *_TIMEOUT_FIELDS,
    )


_TIMEOUT_FIELDS = (
    ConfigField(
        "preview_timeout_seconds",
        "Preview time limit (seconds)",
        kind="seconds",
        default=DEFAULT_PREVIEW_TIMEOUT_SECONDS,
        help_text="Previews and column checks are cancelled after this long.",
    ),
    ConfigField(
        "extract_timeout_seconds",
        "Sync extraction time limit (seconds)",
        kind="seconds",
        default=DEFAULT_EXTRACT_TIMEOUT_SECONDS,
        help_text="A sync's query is cancelled after this long.",
    ),
)
_CONNECT_TIMEOUT_FIELD = ConfigField(
    "connect_timeout_seconds",
    "Connection time limit (seconds)",
    kind="seconds",
    default=DEFAULT_CONNECT_TIMEOUT_SECONDS,
)
_PG_SSL_CHOICES = (
    ("disable", "Disable"),
    ("prefer", "Prefer (SSL if the server offers it)"),
    ("require", "Require"),
    ("verify-ca", "Require and verify the certificate"),
    ("verify-full", "Require, verify the certificate and the host name"),
)
_SEARCH_PATH_FIELD = ConfigField(
    "search_path",
    "Schema search path",
    required=False,
    default="",
    help_text="Comma-separated schemas for unqualified table names, e.g. analytics, public.",
)

SOURCE_TYPES: dict[str, SourceType] = {
    "postgres": SourceType(
        key="postgres",
        label="PostgreSQL",
        adapter=PostgresSource,
        fields=_server_fields(
            port=5432,
            ssl_field=ConfigField(
                "sslmode", "SSL mode", kind="choice", default="prefer", choices=_PG_SSL_CHOICES
            ),
            extra=(_SEARCH_PATH_FIELD, _CONNECT_TIMEOUT_FIELD),
        ),
    ),
    "redshift": SourceType(
        key="redshift",
        label="Amazon Redshift",
        adapter=RedshiftSource,
        fields=_server_fields(
            port=5439,
            ssl_field=ConfigField(
                "sslmode", "SSL mode", kind="choice", default="require", choices=_PG_SSL_CHOICES
            ),
            extra=(_SEARCH_PATH_FIELD, _CONNECT_TIMEOUT_FIELD),
        ),
    ),
    "mysql": SourceType(
        key="mysql",
        label="MySQL / MariaDB",
        adapter=MySqlSource,
        fields=_server_fields(
            port=3306,
            ssl_field=ConfigField(
                "ssl_mode",
                "SSL mode",
                kind="choice",
                default="preferred",
                choices=(
                    ("disabled", "Disabled"),
                    ("preferred", "Preferred (SSL if the server offers it)"),
                    ("required", "Required"),
                    ("verify_ca", "Required, verify the certificate"),
                    ("verify_identity", "Required, verify the certificate and the host name"),
                ),
            ),
            extra=(_CONNECT_TIMEOUT_FIELD,),
        ),
    ),
    "duckdb": SourceType(
        key="duckdb",
        label="DuckDB file",
        adapter=DuckDbSource,
        fields=(
            ConfigField(
                "path", "Database file", kind="path", help_text="Path of the .duckdb file on the server."
            ),
            *_TIMEOUT_FIELDS,
        ),
    ),
}


def clean_config(type_key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Apply defaults, coerce numbers and check required values and choices."""
    source_type = _source_type(type_key)
    cleaned: dict[str, Any] = {}
    for spec in source_type.fields:
        value = values.get(spec.name)
        if value is None or value == "":
            if spec.required and spec.default is None:
                raise InvalidSourceConfig(f"{spec.label} is required.")
            value = spec.default
        if spec.kind in ("integer", "seconds"):
            try:
                value = int(value) if spec.kind == "integer" else float(value)
            except (TypeError, ValueError):
                raise InvalidSourceConfig(f"{spec.label} must be a number.") from None
            if value <= 0:
                raise InvalidSourceConfig(f"{spec.label} must be greater than zero.")
        if spec.choices and value not in {choice for choice, _ in spec.choices}:
            raise InvalidSourceConfig(f"{spec.label}: {value!r} is not one of the choices.")
        cleaned[spec.name] = value
    return cleaned


def open_source(
    type_key: str, values: Mapping[str, Any], *, block_private_hosts: bool = False
) -> SourceAdapter:
    """Build the adapter for a stored connection. ``block_private_hosts`` is the multi-tenant network
    guard (off for self-hosting); the Django layer passes its setting."""
    adapter_class = _source_type(type_key).adapter
    return adapter_class(clean_config(type_key, values), block_private_hosts=block_private_hosts)


def _source_type(type_key: str) -> SourceType:
    try:
        return SOURCE_TYPES[type_key]
    except KeyError:
        raise InvalidSourceConfig(f"Unknown source type {type_key!r}.") from None
