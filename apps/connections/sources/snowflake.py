"""Snowflake through its official connector (snowflake-connector-python).

How user SQL is kept read-only and bounded, in the order it happens:
1. ``safety.checked_query`` (parser, Snowflake dialect): one statement, a query.
2. Every session is opened with ``MULTI_STATEMENT_COUNT = 1``: Snowflake itself refuses a text with a
   second statement in it.
3. Snowflake has no read-only transaction, so the third wall is the role: the connection page asks for a
   role with only USAGE on the warehouse, database and schemas and SELECT on the tables, and the
   connection test warns when the role (or a role it inherits) can write (`privileges.snowflake_warnings`).
4. Time: ``STATEMENT_TIMEOUT_IN_SECONDS`` for the session (Snowflake cancels the statement), and the
   connector's own time limit on the call, which sends Snowflake an abort request at the limit; a result
   that arrives after the limit is not used. An interrupt (a run's Cancel) sends the same abort request
   for the statement running.
5. Rows come through the connector's result batches (Snowflake's result chunks, each downloaded when it
   is read, at most ``CLIENT_RESULT_CHUNK_SIZE`` = 48 MB), so an extraction holds one chunk at a time; a preview asks for at most 101 rows
   (``ROWS_PER_RESULTSET``) and reads no further.

Fingerprints are Snowflake's own 64-bit ``HASH(…)`` of the salt and the columns (taken modulo 2^60, as
`base.FINGERPRINT` asks). The two passes of a fingerprinted read are two statements: Snowflake gives each
statement its own snapshot, not one for both, so a row changed between the passes is simply read again
on the next run.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from .base import (
    DEFAULT_BATCH_SIZE,
    PREVIEW_ROW_LIMIT,
    Column,
    ConnectionCheck,
    ConnectionWarning,
    FingerprintQueries,
    PairBatch,
    PairDigest,
    ParserCheckedSource,
    Preview,
    RowBatch,
    Timeouts,
)
from .catalog import CatalogUnavailable
from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    ConnectTimeout,
    DatabaseNotFound,
    InvalidSourceConfig,
    QueryError,
    QueryInterrupted,
    QueryTimeout,
    SourceConnectionError,
    SourceError,
    UnknownHost,
    UnsafeQueryError,
)
from .network_guard import resolve_host
from .privileges import SNOWFLAKE_ADVICE, snowflake_warnings

# HASH gives a signed 64-bit number; the fingerprint keeps its low 60 bits (with the sign), which is what
# `base.FINGERPRINT` and the ledger's digest expect of every source.
_FINGERPRINT_MODULUS = 2**60
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_SNOWFLAKE_DOMAIN = ".snowflakecomputing.com"

# Snowflake's error codes (https://docs.snowflake.com: "Error messages") the messages below translate.
_WRONG_PASSWORD = {390100}
_WRONG_KEY = {390144, 394304, 390145}
_USER_LOCKED = {390102, 390103, 390104, 390114}
_ROLE_NOT_GRANTED = {390189}
_DATABASE_NOT_FOUND = {390201}
_SCHEMA_NOT_FOUND = {390202}
_NO_WAREHOUSE = {606}
_STATEMENT_TIMEOUT = {630}
_CANCELLED = {604}
_STATEMENT_COUNT = {8}
_INSUFFICIENT_PRIVILEGES = {3001}
_CLIENT_TIMEOUT = {251005, 251006}  # the connector's own request timeouts

# The connector's type codes (snowflake.connector.constants.FIELD_TYPES) and what they are here.
_KINDS = {
    "FIXED": "integer",  # NUMBER(p, 0); with a scale it is "decimal" (`_column`)
    "REAL": "float",
    "TEXT": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_LTZ": "timestamp",
    "TIMESTAMP_TZ": "timestamp",
    "TIMESTAMP_NTZ": "timestamp",
    "VARIANT": "json",
    "OBJECT": "json",
    "ARRAY": "other",
    "BINARY": "other",
    "TIME": "other",
    "BOOLEAN": "boolean",
}


class AccountNotFound(SourceConnectionError):
    def __init__(self, account: str):
        super().__init__(
            f'No Snowflake account answers as "{account}". Check the account identifier: it is the first part '
            "of your Snowflake URL, like orgname-accountname or xy12345.eu-west-1 (Snowsight: Admin → "
            "Accounts, or SELECT CURRENT_ORGANIZATION_NAME() || '-' || CURRENT_ACCOUNT_NAME())."
        )
        self.account = account


class InvalidAccount(InvalidSourceConfig):
    """What was typed as the account is not an account identifier (nor an account's URL)."""


class PrivateKeyInvalid(InvalidSourceConfig):
    """The private key could not be read (not a PEM key, or a wrong passphrase)."""


class RoleNotGranted(SourceConnectionError):
    def __init__(self, user: str, role: str):
        super().__init__(
            f'The role "{role}" is not granted to the user "{user}". Check the role\'s name, or grant it: '
            f"GRANT ROLE {role} TO USER {user};"
        )


class WarehouseUnavailable(SourceError):
    def __init__(self, warehouse: str, role: str):
        who = f'the role "{role}"' if role else "the user's default role"
        super().__init__(
            f'Snowflake has no warehouse for this session: the warehouse "{warehouse}" does not exist, or '
            f"{who} may not use it. Check the warehouse's name, or grant it: GRANT USAGE ON WAREHOUSE "
            f"{warehouse or '<warehouse>'} TO ROLE {role or '<role>'};"
        )


def account_identifier(value: str) -> str:
    """The account identifier from what a user typed or pasted: "xy12345.eu-west-1", "orgname-acct", or
    the whole URL of the account (https://orgname-acct.snowflakecomputing.com/…)."""
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.rstrip("/")
    if text.lower().endswith(_SNOWFLAKE_DOMAIN):
        text = text[: -len(_SNOWFLAKE_DOMAIN)]
    if not _ACCOUNT.fullmatch(text):
        raise InvalidAccount(
            f'"{value}" is not a Snowflake account identifier: use the first part of your Snowflake URL, '
            "like orgname-accountname or xy12345.eu-west-1."
        )
    return text


def load_private_key(pem: str, passphrase: str = "") -> bytes:
    """The private key (PEM text, encrypted or not) as the DER bytes the connector takes."""
    from cryptography.hazmat.primitives import serialization

    text = pem.strip()
    if "-----BEGIN" not in text:
        raise PrivateKeyInvalid(
            "The private key must be the text of a PEM file, starting with -----BEGIN PRIVATE KEY----- "
            "(or -----BEGIN ENCRYPTED PRIVATE KEY-----). Paste the whole file, or upload it."
        )
    try:
        key = serialization.load_pem_private_key(text.encode(), password=passphrase.encode() or None)
    except TypeError:
        if passphrase:
            raise PrivateKeyInvalid("The private key is not encrypted: leave its passphrase empty.") from None
        raise PrivateKeyInvalid("The private key is encrypted: enter its passphrase.") from None
    except ValueError:
        if passphrase:
            raise PrivateKeyInvalid("The private key could not be decrypted: check its passphrase.") from None
        raise PrivateKeyInvalid(
            "The private key could not be read. Paste the whole PEM file, from -----BEGIN to -----END."
        ) from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


class SnowflakeSource(ParserCheckedSource):
    type_key = "snowflake"
    dialect = "snowflake"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        block_private_hosts: bool = False,
        endpoint: str | None = None,
    ):
        self.account = account_identifier(str(config["account"]))
        self.user: str = config["user"]
        self.warehouse: str = config.get("warehouse") or ""
        self.database: str = config.get("database") or ""
        self.schema: str = config.get("schema") or ""
        self.role: str = config.get("role") or ""
        self.authentication: str = config.get("authentication") or "password"
        self._password: str = config.get("password") or ""
        self._private_key: str = config.get("private_key") or ""
        self._passphrase: str = config.get("private_key_passphrase") or ""
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
            connect_seconds=float(config["connect_timeout_seconds"]),
        )
        self.block_private_hosts = block_private_hosts
        # Tests (and only they, through settings.SNOWFLAKE_ENDPOINT) point the connector at a stand-in.
        self.endpoint = endpoint

    def __repr__(self) -> str:  # never a secret
        return f"<{type(self).__name__} {self.user}@{self.account}/{self.database}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        with self._connection(self.timeouts.preview_seconds) as conn:
            (version,) = self._one(conn, "SELECT CURRENT_VERSION()", self.timeouts.preview_seconds)
            warnings = self._privilege_warnings(conn)
        return ConnectionCheck(server_version=f"Snowflake {version}", warnings=warnings)

    def _privilege_warnings(self, conn) -> list[ConnectionWarning]:
        role = conn.role or self.role
        if not role:
            return []
        try:
            grants = self._grants(conn, role)
        except SourceError:
            # SHOW GRANTS needs nothing but the role itself; a server that cannot answer it (a stand-in)
            # still has a working connection: the test passes, without warnings.
            return []
        return snowflake_warnings(role, grants, self._grants_of(conn))

    def _grants(self, conn, role: str) -> list[dict[str, Any]]:
        cursor = conn.cursor(_dict_cursor())
        self._execute(cursor, "SHOW GRANTS TO ROLE IDENTIFIER(%s)", self.timeouts.preview_seconds, [role])
        return [{key.lower(): value for key, value in row.items()} for row in cursor.fetchall()]

    def _grants_of(self, conn):
        def grants(role: str) -> list[dict[str, Any]]:
            try:
                return self._grants(conn, role)
            except SourceError:
                return []

        return grants

    # --- unchecked paths: MULTI_STATEMENT_COUNT and the role are what stands here ---------------------

    def _describe(self, sql: str) -> list[Column]:
        with self._connection(self.timeouts.preview_seconds) as conn:
            cursor = conn.cursor()
            try:
                described = cursor.describe(sql)  # compiles the query, runs nothing
            except Exception as error:  # noqa: BLE001 - translated, or raised as it is
                raise self._query_error(error, self.timeouts.preview_seconds) from error
            return [_column(d) for d in described or []]

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        limit = max(0, min(limit, PREVIEW_ROW_LIMIT))
        started = time.monotonic()
        seconds = self.timeouts.preview_seconds
        with self._connection(seconds, rows_per_result=limit + 1) as conn:
            cursor = conn.cursor()
            self._execute(cursor, sql, seconds)
            columns = [_column(d) for d in cursor.description or []]
            rows = []
            for batch in self._batches(cursor, limit + 1, time.monotonic() + seconds, seconds):
                rows.extend(batch)
                if len(rows) > limit:
                    break  # the rest (if any) is never read
        return Preview(
            columns=columns,
            rows=rows[:limit],
            has_more=len(rows) > limit,
            elapsed_seconds=time.monotonic() - started,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        seconds = self.timeouts.extract_seconds
        deadline = time.monotonic() + seconds
        with self._connection(seconds) as conn:
            cursor = conn.cursor()
            self._execute(cursor, sql, seconds)
            columns = [_column(d) for d in cursor.description or []]
            for rows in self._batches(cursor, batch_size, deadline, seconds):
                yield RowBatch(columns=columns, rows=rows)

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries) -> Iterator[_FingerprintedRead]:
        seconds = self.timeouts.extract_seconds
        with self._connection(seconds) as conn:
            yield _FingerprintedRead(self, conn, queries, time.monotonic() + seconds)

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        # HASH takes each value with its type (NULL included) as a separate argument: unambiguous. The
        # cast keeps sums exact (NUMBER(38, 0)) wherever the hash is summed.
        return f"CAST(MOD(HASH('{salt}', {', '.join(columns)}), {_FINGERPRINT_MODULUS}) AS NUMBER(19, 0))"

    # Unquoted names are stored in upper case; any other spelling was created quoted and is written so.
    plain_identifier = re.compile(r"[A-Z_][A-Z0-9_$]*")

    def _catalog_sql(self, search: str, limit: int) -> str:
        if not self.database:
            raise CatalogUnavailable(
                "Set the connection's database to list its tables: Snowflake lists the tables of one "
                "database at a time."
            )
        # The connection's database (its INFORMATION_SCHEMA lists what the role may read), its schema first.
        schema = self.schema.upper()
        first = f"table_schema = '{schema}' DESC" if self.plain_identifier.fullmatch(schema) else ""
        return self._information_schema_catalog_sql(
            search, limit, scope="table_schema <> 'INFORMATION_SCHEMA'", first=first
        )

    def _text_sql(self, expression: str) -> str:
        return f"CAST({expression} AS VARCHAR)"

    def _sum_sql(self, expression: str) -> str:
        # Snowflake sums NUMBER(19, 0) exactly; the cast changes nothing there, but fakesnow (the tests'
        # Snowflake) reads a SUM of anything but a cast as a sum of doubles.
        return f"sum(CAST({expression} AS NUMBER(38, 0)))"

    # --- connection, statements and batches ---------------------------------------------------------

    def _connect_arguments(self, timeout_seconds: float, rows_per_result: int | None) -> dict[str, Any]:
        session = {
            "MULTI_STATEMENT_COUNT": 1,  # Snowflake refuses a second statement
            "STATEMENT_TIMEOUT_IN_SECONDS": max(1, round(timeout_seconds)),
            "QUERY_TAG": "syncline",
            # The smallest result chunks Snowflake makes (MB): the most an extraction holds at a time.
            "CLIENT_RESULT_CHUNK_SIZE": 48,
            "CLIENT_TELEMETRY_ENABLED": False,
            "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
        }
        if rows_per_result is not None:
            session["ROWS_PER_RESULTSET"] = rows_per_result  # a preview's rows, and not one more
        arguments: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "login_timeout": self.timeouts.connect_seconds,
            "application": "Syncline",
            "session_parameters": session,
            "client_session_keep_alive": False,
            "validate_default_parameters": False,
        }
        for name in ("warehouse", "database", "schema", "role"):
            if value := getattr(self, name):
                arguments[name] = value
        if self.authentication == "key_pair":
            if not self._private_key:
                raise PrivateKeyInvalid("Paste or upload the private key for key-pair authentication.")
            arguments["authenticator"] = "SNOWFLAKE_JWT"
            arguments["private_key"] = load_private_key(self._private_key, self._passphrase)
        else:
            if not self._password:
                raise AuthenticationFailed(self.user)
            arguments["password"] = self._password
        if self.endpoint:
            parts = urlsplit(self.endpoint)
            arguments.update(host=parts.hostname, port=parts.port, protocol=parts.scheme)
        else:
            # The connector connects to the account's host itself; the guard checks what it resolves to.
            host = f"{self.account}{_SNOWFLAKE_DOMAIN}"
            try:
                resolve_host(host, 443, block_private=self.block_private_hosts)
            except UnknownHost:
                raise AccountNotFound(self.account) from None
        return arguments

    @contextmanager
    def _connection(self, timeout_seconds: float, rows_per_result: int | None = None):
        import snowflake.connector

        arguments = self._connect_arguments(timeout_seconds, rows_per_result)
        self.interrupts.check()
        try:
            conn = snowflake.connector.connect(**arguments)
        except snowflake.connector.Error as error:
            raise self._connection_error(error) from error
        try:
            yield conn
        finally:
            with suppress(Exception):  # a session already gone needs no closing
                conn.close()

    def _execute(self, cursor, sql: str, timeout_seconds: float, params=None) -> None:
        """Run one statement; at the time limit (or on an interrupt) Snowflake is asked to abort it."""
        timed_out = threading.Event()

        def abort() -> None:
            request_id = getattr(cursor, "_request_id", None)
            if request_id is not None:  # the connector's abort request for this cursor's statement
                cursor.connection._cancel_query(sql, request_id)

        def on_time_limit() -> None:
            timed_out.set()
            with suppress(Exception):
                abort()

        timer = threading.Timer(timeout_seconds, on_time_limit)
        timer.daemon = True
        with self.interrupts.running(abort):
            timer.start()
            try:
                cursor.execute(sql, params)
            except Exception as error:  # noqa: BLE001 - translated, or raised as it is
                if timed_out.is_set():
                    raise QueryTimeout(timeout_seconds) from error
                raise self._query_error(error, timeout_seconds) from error
            finally:
                timer.cancel()
        self.interrupts.check()
        if timed_out.is_set():  # the answer came, but after the limit (the abort did not stop it)
            raise QueryTimeout(timeout_seconds)

    def _one(self, conn, sql: str, timeout_seconds: float) -> tuple:
        cursor = conn.cursor()
        self._execute(cursor, sql, timeout_seconds)
        return cursor.fetchone()

    def _batches(self, cursor, batch_size: int, deadline: float, seconds: float) -> Iterator[list[tuple]]:
        """The rows of the statement just run, in lists of ``batch_size``, one result chunk downloaded at
        a time (the connector's result batches)."""
        rows: list[tuple] = []
        for result_batch in cursor.get_result_batches() or []:
            try:
                for row in result_batch.create_iter():
                    rows.append(row)
                    if len(rows) >= batch_size:
                        yield self._checked(rows, deadline, seconds)
                        rows = []
            except SourceError:
                raise
            except Exception as error:  # noqa: BLE001 - a chunk's download failed
                raise self._query_error(error, seconds) from error
        if rows:
            yield self._checked(rows, deadline, seconds)

    def _checked(self, rows: list[tuple], deadline: float, seconds: float) -> list[tuple]:
        self.interrupts.check()  # stopped between two batches: the next one is not wanted
        if time.monotonic() > deadline:
            raise QueryTimeout(seconds)
        return rows

    # --- errors in the user's terms ------------------------------------------------------------------

    def _connection_error(self, error: Exception) -> SourceError:
        code = _code(error)
        message = _message(error)
        if code in _WRONG_PASSWORD or "incorrect username or password" in message.lower():
            if self.authentication == "key_pair":
                return AuthenticationFailed(self.user)
            return SnowflakeAuthenticationFailed(self.user)
        if code in _WRONG_KEY or "jwt token is invalid" in message.lower():
            return SnowflakeKeyRefused(self.user)
        if code in _USER_LOCKED:
            return SourceConnectionError(f'Snowflake refused the user "{self.user}": {message}')
        if code in _ROLE_NOT_GRANTED or ("role" in message.lower() and "not granted" in message.lower()):
            return RoleNotGranted(self.user, self.role)
        lower = message.lower()
        if code in _DATABASE_NOT_FOUND or "requested database does not exist" in lower:
            return DatabaseNotFound(self.database)
        if code in _SCHEMA_NOT_FOUND or "requested schema does not exist" in lower:
            return SourceConnectionError(
                f'The schema "{self.schema}" does not exist in the database "{self.database}", or the role '
                "may not use it. Check its name."
            )
        if "404" in lower or "403" in lower or "name or service not known" in lower or "resolve" in lower:
            return AccountNotFound(self.account)
        if "timed out" in lower or "timeout" in lower or code in _CLIENT_TIMEOUT:
            return ConnectTimeout(f"{self.account}{_SNOWFLAKE_DOMAIN}", 443, self.timeouts.connect_seconds)
        return SourceConnectionError(f"Could not connect to the Snowflake account {self.account}: {message}")

    def _query_error(self, error: Exception, timeout_seconds: float) -> SourceError:
        if isinstance(error, SourceError):
            return error
        if self.interrupts.requested:  # the abort request (or what followed it) is why it failed
            return QueryInterrupted()
        code = _code(error)
        message = _message(error)
        if code in _STATEMENT_TIMEOUT:
            return QueryTimeout(timeout_seconds)
        if code in _CANCELLED:
            return QueryInterrupted()
        if code in _STATEMENT_COUNT:
            return UnsafeQueryError(
                "Snowflake refused this SQL: only one statement can be run.", refused_by="database"
            )
        if code in _NO_WAREHOUSE:
            return WarehouseUnavailable(self.warehouse, self.role)
        if code in _INSUFFICIENT_PRIVILEGES:
            return UnsafeQueryError(
                f"Snowflake refused this SQL: {message}. {SNOWFLAKE_ADVICE}", refused_by="database"
            )
        if not hasattr(error, "errno"):
            return ConnectionLost(message)
        line = column = None
        if match := re.search(r"line (\d+) at position (\d+)", message):
            line, column = int(match.group(1)), int(match.group(2)) + 1
        return QueryError(message, line=line, column=column, code=f"{code:06d}" if code else None)


class SnowflakeAuthenticationFailed(AuthenticationFailed):
    def __init__(self, user: str):
        SourceError.__init__(
            self,
            f'Snowflake refused the user "{user}": wrong user name or password. Check both (the user name is '
            "the login name, not the email address).",
        )
        self.user = user


class SnowflakeKeyRefused(AuthenticationFailed):
    def __init__(self, user: str):
        SourceError.__init__(
            self,
            f'Snowflake refused the key for the user "{user}": the public key registered for the user does '
            f"not match this private key. Register it: ALTER USER {user} SET RSA_PUBLIC_KEY='MIIBIj…';",
        )
        self.user = user


class _FingerprintedRead:
    """The passes of a fingerprinted read: one statement after the other on one session."""

    def __init__(self, source: SnowflakeSource, conn, queries: FingerprintQueries, deadline: float):
        self.source, self.conn, self.queries, self.deadline = source, conn, queries, deadline
        self.seconds = source.timeouts.extract_seconds

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        cursor = self._run(self.queries.keys)
        for rows in self.source._batches(cursor, batch_size, self.deadline, self.seconds):
            yield PairBatch.of(rows)

    def digest(self) -> PairDigest:
        cursor = self._run(self.queries.digest)
        return self.queries.pair_digest(cursor.fetchone())

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        cursor = self._run(self.queries.rows(only))
        columns = [_column(d) for d in cursor.description or []]
        for rows in self.source._batches(cursor, batch_size, self.deadline, self.seconds):
            yield RowBatch(columns=columns, rows=rows)

    def _run(self, statement: str):
        cursor = self.conn.cursor()
        self.source._execute(cursor, statement, max(1.0, self.deadline - time.monotonic()))
        return cursor


def _column(described) -> Column:
    from snowflake.connector.constants import FIELD_ID_TO_NAME

    name = FIELD_ID_TO_NAME[described.type_code] or str(described.type_code)
    if name == "FIXED":
        scale = described.scale or 0
        return Column(
            name=described.name,
            db_type=f"NUMBER({described.precision}, {scale})",
            kind="decimal" if scale else "integer",
        )
    db_type = {"TEXT": "VARCHAR", "REAL": "FLOAT"}.get(name, name)
    return Column(name=described.name, db_type=db_type, kind=_KINDS.get(name, "other"))


def _dict_cursor():
    from snowflake.connector import DictCursor

    return DictCursor


def _code(error: Exception) -> int | None:
    errno = getattr(error, "errno", None)
    return int(errno) if isinstance(errno, int) or (isinstance(errno, str) and errno.isdigit()) else None


def _message(error: Exception) -> str:
    return (getattr(error, "msg", None) or str(error)).strip()
