"""Which source types exist, what each one asks the user for, and how to build its adapter.

The Django side generates connection forms from ``SOURCE_TYPES[key].fields`` and stores the cleaned
values (secrets included) in the connection's encrypted credentials; ``open_source`` turns them back
into an adapter. Field kinds: "text", "lines" (several lines of plain text), "integer", "password" (secret, never rendered back), "secret_text"
(a secret pasted as several lines, or uploaded as a file: a private key), "choice", "path", "seconds". Numbers have bounds (a time limit of 1e300 seconds is a typo, not a wish).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_EXTRACT_TIMEOUT_SECONDS,
    DEFAULT_PREVIEW_TIMEOUT_SECONDS,
    SourceAdapter,
)
from .bigquery import BigQuerySource
from .duckdb import DuckDbFolders, DuckDbSource
from .errors import InvalidSourceConfig
from .google_sheets import GoogleSheetsSource
from .mysql import MySqlSource
from .postgres import PostgresSource, RedshiftSource
from .snowflake import SnowflakeSource


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
    min_value: float | None = None  # "integer" and "seconds" fields
    max_value: float | None = None

    @property
    def bounds_message(self) -> str:
        if self.kind == "seconds":
            return (
                f"{self.label} must be between {_duration(self.min_value)} and {_duration(self.max_value)}."
            )
        return f"{self.label} must be between {self.min_value:g} and {self.max_value:g}."

    @property
    def label_in_sentence(self) -> str:
        """The label inside a sentence: "the port changed", but "the SSL mode changed"."""
        first_word = self.label.split(" ", 1)[0]
        return self.label if first_word.isupper() else self.label[0].lower() + self.label[1:]


@dataclass(frozen=True)
class SourceType:
    key: str
    label: str
    adapter: type
    fields: tuple[ConfigField, ...]
    # What a stored secret was given for: change any of these and the secret must be typed again, so a
    # stored password is never sent to a server it was not saved for.
    secret_bound_to: tuple[str, ...] = ()

    @property
    def secret_field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.secret)


def _server_fields(*, port: int, ssl_field: ConfigField, extra: tuple[ConfigField, ...] = ()) -> tuple:
    return (
        ConfigField("host", "Host", help_text="Host name or IP address of the database server."),
        ConfigField("port", "Port", kind="integer", default=port, min_value=1, max_value=65535),
        ConfigField("database", "Database"),
        ConfigField("user", "User", help_text="A user with read (SELECT) privileges only is recommended."),
        ConfigField("password", "Password", kind="password", required=False, secret=True, default=""),
        ssl_field,
        *extra,
        *_TIMEOUT_FIELDS,
    )


# What a server's stored password is bound to, with the type's SSL mode field beside it: a password must
# not go out unencrypted because only the SSL mode was lowered.
_SERVER_BINDING = ("host", "port", "database", "user")
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 1, 24 * 3600
MAX_CONNECT_TIMEOUT_SECONDS = 300

_TIMEOUT_FIELDS = (
    ConfigField(
        "preview_timeout_seconds",
        "Preview time limit (seconds)",
        kind="seconds",
        default=DEFAULT_PREVIEW_TIMEOUT_SECONDS,
        help_text="Previews and column checks are cancelled after this long.",
        min_value=MIN_TIMEOUT_SECONDS,
        max_value=MAX_TIMEOUT_SECONDS,
    ),
    ConfigField(
        "extract_timeout_seconds",
        "Sync extraction time limit (seconds)",
        kind="seconds",
        default=DEFAULT_EXTRACT_TIMEOUT_SECONDS,
        help_text="A sync's query is cancelled after this long.",
        min_value=MIN_TIMEOUT_SECONDS,
        max_value=MAX_TIMEOUT_SECONDS,
    ),
)
_CONNECT_TIMEOUT_FIELD = ConfigField(
    "connect_timeout_seconds",
    "Connection time limit (seconds)",
    kind="seconds",
    default=DEFAULT_CONNECT_TIMEOUT_SECONDS,
    min_value=MIN_TIMEOUT_SECONDS,
    max_value=MAX_CONNECT_TIMEOUT_SECONDS,
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
        secret_bound_to=(*_SERVER_BINDING, "sslmode"),
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
        secret_bound_to=(*_SERVER_BINDING, "sslmode"),
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
        secret_bound_to=(*_SERVER_BINDING, "ssl_mode"),
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
        secret_bound_to=("path",),
    ),
    "snowflake": SourceType(
        key="snowflake",
        label="Snowflake",
        adapter=SnowflakeSource,
        fields=(
            ConfigField(
                "account",
                "Account identifier",
                help_text="The first part of your Snowflake URL, like orgname-accountname or "
                "xy12345.eu-west-1 (the whole URL works too).",
            ),
            ConfigField("user", "User", help_text="A user whose role can only read is recommended."),
            ConfigField(
                "role",
                "Role",
                required=False,
                default="",
                help_text="A role with only USAGE on the warehouse, database and schemas and SELECT on the "
                "tables (the grants are at the top of this page). Empty: the user's default role.",
            ),
            ConfigField("warehouse", "Warehouse", help_text="The warehouse that runs Syncline's queries."),
            ConfigField("database", "Database"),
            ConfigField(
                "schema",
                "Schema",
                required=False,
                default="",
                help_text="For unqualified table names, e.g. PUBLIC.",
            ),
            ConfigField(
                "authentication",
                "Authentication",
                kind="choice",
                default="password",
                choices=(("password", "Password"), ("key_pair", "Key pair (private key)")),
            ),
            ConfigField("password", "Password", kind="password", required=False, secret=True, default=""),
            ConfigField(
                "private_key",
                "Private key",
                kind="secret_text",
                required=False,
                secret=True,
                default="",
                help_text="For key-pair authentication: the PEM text of the private key (-----BEGIN PRIVATE "
                "KEY----- …), whose public key is registered for the user (ALTER USER … SET RSA_PUBLIC_KEY).",
            ),
            ConfigField(
                "private_key_passphrase",
                "Private key passphrase",
                kind="password",
                required=False,
                secret=True,
                default="",
                help_text="Only for an encrypted private key.",
            ),
            _CONNECT_TIMEOUT_FIELD,
            *_TIMEOUT_FIELDS,
        ),
        # A stored password or key goes only to the account and user it was saved for.
        secret_bound_to=("account", "user"),
    ),
    "bigquery": SourceType(
        key="bigquery",
        label="Google BigQuery",
        adapter=BigQuerySource,
        fields=(
            ConfigField(
                "project",
                "Project ID",
                required=False,
                default="",
                help_text="The Google Cloud project whose jobs run the queries (and are billed), like "
                "my-project-123456. Empty: the service account's own project.",
            ),
            ConfigField(
                "location",
                "Location",
                required=False,
                default="",
                help_text="Where the datasets live: US, EU, or a region like europe-west2. Empty: BigQuery "
                "finds it from the tables a query reads.",
            ),
            ConfigField(
                "dataset",
                "Default dataset",
                required=False,
                default="",
                help_text="For unqualified table names, e.g. analytics (then FROM customers reads "
                "analytics.customers).",
            ),
            ConfigField(
                "service_account_json",
                "Service account key (JSON)",
                kind="secret_text",
                secret=True,
                required=False,
                default="",
                help_text="The JSON key of a service account with BigQuery Data Viewer on the datasets and "
                "BigQuery Job User on the project (IAM & Admin → Service accounts → Keys → Add key → JSON).",
            ),
            _CONNECT_TIMEOUT_FIELD,
            *_TIMEOUT_FIELDS,
        ),
        # A stored key is used only for the project it was saved for.
        secret_bound_to=("project",),
    ),
    "google_sheets": SourceType(
        key="google_sheets",
        label="Google Sheets",
        adapter=GoogleSheetsSource,
        fields=(
            ConfigField(
                "tables",
                "Tables",
                kind="lines",
                help_text="One a line: a name for the model's SQL, =, the spreadsheet's URL (or ID), then the "
                "range whose first row holds the column names, like users = https://docs.google.com/"
                "spreadsheets/d/1AbC…/edit Users!A1:F. No range: the whole sheet the URL points at.",
            ),
            ConfigField(
                "service_account_json",
                "Service account key (JSON)",
                kind="secret_text",
                secret=True,
                required=False,
                default="",
                help_text="The JSON key of a service account (IAM & Admin → Service accounts → Keys → Add key → "
                "JSON), with the Google Sheets API enabled in its project. Share each spreadsheet with the "
                "service account's email as Viewer: it needs no other role.",
            ),
            _CONNECT_TIMEOUT_FIELD,
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
            value = _number(spec, value)
        if spec.choices and value not in {choice for choice, _ in spec.choices}:
            raise InvalidSourceConfig(f"{spec.label}: {value!r} is not one of the choices.")
        cleaned[spec.name] = value
    return cleaned


def _number(spec: ConfigField, value: Any) -> int | float:
    try:
        number = int(value) if spec.kind == "integer" else float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise InvalidSourceConfig(f"{spec.label} must be a number.") from None
    if not math.isfinite(number):
        raise InvalidSourceConfig(f"{spec.label} must be a number.")
    if (spec.min_value is not None and number < spec.min_value) or (
        spec.max_value is not None and number > spec.max_value
    ):
        raise InvalidSourceConfig(spec.bounds_message)
    return number


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} second" + ("" if seconds == 1 else "s")
    if seconds < 7200:
        return f"{seconds / 60:g} minutes ({seconds:g} seconds)"
    return f"{seconds / 3600:g} hours ({seconds:,.0f} seconds)"


def open_source(
    type_key: str,
    values: Mapping[str, Any],
    *,
    block_private_hosts: bool = False,
    duckdb_folders: DuckDbFolders | None = None,
    snowflake_endpoint: str | None = None,
    bigquery_endpoint: str | None = None,
    google_sheets_endpoint: str | None = None,
) -> SourceAdapter:
    """Build the adapter for a stored connection. ``block_private_hosts`` is the shared-hosting network
    guard, ``duckdb_folders`` where the workspace may open DuckDB files; the Django layer passes both
    (apps.connections.services); ``snowflake_endpoint`` and ``bigquery_endpoint`` point Snowflake and
    BigQuery (and ``google_sheets_endpoint`` Google Sheets) at stand-ins (tests only)."""
    adapter_class = _source_type(type_key).adapter
    options: dict[str, Any] = {"block_private_hosts": block_private_hosts}
    if adapter_class is DuckDbSource:
        options["folders"] = duckdb_folders
    if adapter_class is SnowflakeSource:
        options["endpoint"] = snowflake_endpoint
    if adapter_class is BigQuerySource:
        options["endpoint"] = bigquery_endpoint
    if adapter_class is GoogleSheetsSource:
        options["endpoint"] = google_sheets_endpoint
    return adapter_class(clean_config(type_key, values), **options)


def _source_type(type_key: str) -> SourceType:
    try:
        return SOURCE_TYPES[type_key]
    except KeyError:
        raise InvalidSourceConfig(f"Unknown source type {type_key!r}.") from None
