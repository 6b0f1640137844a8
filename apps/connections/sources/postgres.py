"""PostgreSQL (and Amazon Redshift) through psycopg 3.

How user SQL is kept read-only and bounded, in the order it happens:
1. ``safety.checked_query`` (parser): one statement, a query.
2. One short-lived connection per call, in a transaction opened READ ONLY with ``statement_timeout`` set
   LOCAL to it, so nothing leaks into a pooled session and the database refuses any write that reached
   it (a function with side effects, say).
3. The query runs as a server-side cursor (``DECLARE … CURSOR FOR <sql>``) sent with the extended query
   protocol: PostgreSQL accepts one statement there, and DECLARE accepts only SELECT or VALUES and
   refuses data-modifying WITH clauses. Rows are then FETCHed in batches: a preview reads 100 and closes
   the cursor, so the rest of the result is never produced, let alone transferred.
4. On timeout the server cancels the statement; on any other way out (an error, the caller dropping the
   stream) the client cancels what is still running and closes the connection, so no backend is left.

Redshift (type "redshift") uses the same code with these differences: ``BEGIN READ ONLY`` instead of
``SET TRANSACTION READ ONLY`` after BEGIN, ``set_config(…, true)`` instead of ``SET LOCAL`` (both as
documented by Redshift), default port 5439 and SSL mode "require", the "redshift" SQL dialect for the
parser check. Redshift materialises a cursor's result on the leader node before the first FETCH (and
caps cursor result sizes by node type), so previews there are bounded by the timeout rather than by the
cursor; very large extractions are better served by UNLOAD, which is out of scope here.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql as pg_sql
from psycopg.pq import TransactionStatus

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
    _search_filter,
    kind_of,
)
from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    DatabaseNotFound,
    QueryError,
    QueryInterrupted,
    QueryTimeout,
    SourceConnectionError,
    SourceError,
    SslRequired,
    UnknownHost,
    UnsafeQueryError,
    line_and_column,
)
from .network_guard import resolve_host
from .privileges import POSTGRES_PRIVILEGES_SQL, postgres_warnings

CURSOR_NAME = "syncline_cursor"
HASHTEXTEXTENDED_SINCE = 110000  # PostgreSQL 11; older servers fingerprint with md5 (`_fingerprint_sql`)
HASH_RECORD_SINCE = 140000  # PostgreSQL 14 hashes a row's values without writing them as text
# How a value of each built-in type goes into a fingerprint without its text form (type oids are fixed):
# as it is where the type's hash tells every distinct value apart, as its binary wire form where the hash
# treats some different values as equal (1.0 and 1.00, 0 and -0, text under a case-blind collation).
# bool, bytea, int8, int2, int4, date, timestamp, timestamptz, uuid
_HASHED_AS_IS = {16, 17, 20, 21, 23, 1082, 1114, 1184, 2950}
# text, char, varchar, name, numeric, float4, float8 (and any other type: its text form, as bytes)
_SENT = {25: "textsend", 1042: "textsend", 1043: "textsend", 19: "textsend", 1700: "numeric_send"}
_SENT |= {700: "float8send", 701: "float8send"}
CLIENT_CHECK_SINCE = 140000  # PostgreSQL 14 added client_connection_check_interval
CLIENT_CHECK_MS = 2000
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
# What psycopg's server cursor sends before the user's SQL; error positions are relative to all of it.
_DECLARE_PREFIX_LENGTH = len(f'DECLARE "{CURSOR_NAME}" NO SCROLL CURSOR FOR ')


class PostgresSource(ParserCheckedSource):
    type_key = "postgres"
    dialect = "postgres"
    md5_fingerprints = False  # set once connected to a server older than HASHTEXTEXTENDED_SINCE
    fingerprint_types: list[int] | None = None  # the type oids of the fingerprinted columns, from 14 on

    def __init__(self, config: Mapping[str, Any], *, block_private_hosts: bool = False):
        self.host: str = config["host"]
        self.port: int = int(config["port"])
        self.database: str = config["database"]
        self.user: str = config["user"]
        self._password: str = config.get("password") or ""
        self.sslmode: str = config.get("sslmode") or "prefer"
        self.search_path: str = config.get("search_path") or ""
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
            connect_seconds=float(config["connect_timeout_seconds"]),
        )
        self.block_private_hosts = block_private_hosts

    def __repr__(self) -> str:  # never the password
        return f"<{type(self).__name__} {self.user}@{self.host}:{self.port}/{self.database}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        with self._connection() as conn:
            version = conn.execute("SELECT version()").fetchone()[0]
            warnings = self._privilege_warnings(conn)
        return ConnectionCheck(server_version=version, warnings=warnings)

    def _privilege_warnings(self, conn: psycopg.Connection) -> list[ConnectionWarning]:
        try:
            row = conn.execute(POSTGRES_PRIVILEGES_SQL).fetchone()
        except psycopg.Error:
            # A server without these catalogs (Redshift lacks pg_has_role) cannot be asked; the
            # connection itself works, so the test still passes, without warnings.
            return []
        return postgres_warnings(row, user=self.user, database=self.database)

    # --- unchecked paths: the database's own lock is all that stands here (tests prove it does) --------

    def _describe(self, sql: str) -> list[Column]:
        with self._read_only_cursor(sql, self.timeouts.preview_seconds) as (conn, cursor):
            return self._columns(conn, cursor)

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        limit = max(0, min(limit, PREVIEW_ROW_LIMIT))
        started = time.monotonic()
        with self._read_only_cursor(sql, self.timeouts.preview_seconds) as (conn, cursor):
            columns = self._columns(conn, cursor)
            rows = self._translated(lambda: cursor.fetchmany(limit + 1), self.timeouts.preview_seconds)
        return Preview(
            columns=columns,
            rows=rows[:limit],
            has_more=len(rows) > limit,
            elapsed_seconds=time.monotonic() - started,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        seconds = self.timeouts.extract_seconds
        deadline = time.monotonic() + seconds
        with self._read_only_cursor(sql, seconds) as (conn, cursor):
            columns = self._columns(conn, cursor)
            for rows in self._batches(cursor, batch_size, deadline):
                yield RowBatch(columns=columns, rows=rows)

    def _batches(self, cursor: psycopg.ServerCursor, batch_size: int, deadline: float) -> Iterator[list]:
        seconds = self.timeouts.extract_seconds
        while True:
            # statement_timeout bounds each FETCH; this bounds the whole extraction.
            if time.monotonic() > deadline:
                raise QueryTimeout(seconds)
            rows = self._translated(lambda: cursor.fetchmany(batch_size), seconds)
            self.interrupts.check()  # stopped between two FETCHes: the next batch is not wanted
            if not rows:
                return
            yield rows

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries) -> Iterator[_FingerprintedRead]:
        seconds = self.timeouts.extract_seconds
        with self._connection() as conn:
            # Both passes read one snapshot; floats are written exactly, so a change always shows.
            self._begin_read_only(conn, seconds, isolation="REPEATABLE READ")
            conn.execute("SET LOCAL extra_float_digits = 3")
            version = conn.info.server_version
            if version < HASHTEXTEXTENDED_SINCE:
                self.md5_fingerprints = True
            elif version >= HASH_RECORD_SINCE:
                self.fingerprint_types = self._types_of(conn, queries)
            queries = FingerprintQueries(self, queries.sql, queries.spec)
            yield _FingerprintedRead(self, conn, queries, time.monotonic() + seconds)

    def _types_of(self, conn: psycopg.Connection, queries: FingerprintQueries) -> list[int]:
        """The type oids of the fingerprinted columns, as the model's query gives them (no row read)."""
        columns = ", ".join(f"m.{self._quote(name)}" for name in queries.spec.columns)
        try:
            cursor = conn.execute(f"SELECT {columns} FROM {queries.source_sql} LIMIT 0")  # noqa: S608 - checked SQL, quoted names
        except psycopg.Error as error:
            raise self._query_error(error, conn, timeout_seconds=self.timeouts.extract_seconds) from error
        return [column.type_code for column in cursor.description or []]

    # --- connection and transaction ------------------------------------------------------------------

    def _begin_read_only(
        self, conn: psycopg.Connection, timeout_seconds: float, isolation: str = "READ COMMITTED"
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(
            pg_sql.SQL("SET TRANSACTION ISOLATION LEVEL {}, READ ONLY").format(pg_sql.SQL(isolation))
        )
        conn.execute(pg_sql.SQL("SET LOCAL statement_timeout = {}").format(int(timeout_seconds * 1000)))
        self._bound_an_abandoned_backend(conn, timeout_seconds)
        if self.search_path:
            conn.execute("SELECT set_config('search_path', %s, true)", [self.search_path])

    def _bound_an_abandoned_backend(self, conn: psycopg.Connection, timeout_seconds: float) -> None:
        """So that a backend whose client is gone (a worker killed mid-query, its machine lost) stops within
        seconds rather than at the statement timeout (an hour for extractions): PostgreSQL 14+ checks the
        client's socket while a query executes; keepalives turn a silent, vanished peer into a closed
        socket; a transaction left idle (a frozen worker) ends at the time limit of the whole read."""
        if conn.info.server_version >= CLIENT_CHECK_SINCE:
            conn.execute(f"SET LOCAL client_connection_check_interval = {CLIENT_CHECK_MS}")
        for name, value in SERVER_KEEPALIVES.items():
            conn.execute(pg_sql.SQL("SET LOCAL {} = {}").format(pg_sql.Identifier(name), value))
        conn.execute(
            pg_sql.SQL("SET LOCAL idle_in_transaction_session_timeout = {}").format(
                int(timeout_seconds * 1000)
            )
        )

    def _connect_kwargs(self) -> dict[str, Any]:
        address = resolve_host(self.host, self.port, block_private=self.block_private_hosts)
        return {
            # hostaddr is what libpq connects to (the address the guard checked); host stays the name for
            # TLS certificate verification and SNI.
            "host": self.host,
            "hostaddr": address,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "password": self._password,
            "sslmode": self.sslmode,
            "connect_timeout": max(2, round(self.timeouts.connect_seconds)),  # libpq's minimum is 2
            "application_name": "syncline",
            "autocommit": True,  # transactions are opened explicitly, READ ONLY
            # This side's bound on a server that vanished mid-query (the server's own is set per
            # transaction: `_bound_an_abandoned_backend`).
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(**self._connect_kwargs())
        except psycopg.OperationalError as error:
            raise self._connection_error(error) from error

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        conn = self._connect()
        try:
            # An interrupt sends the server a cancel request: the statement running ends with an error.
            with self.interrupts.running(lambda: conn.cancel_safe(timeout=2)):
                yield conn
        except psycopg.Error as error:
            raise self._query_error(error, conn) from error
        finally:
            _close_leaving_nothing_running(conn)

    @contextmanager
    def _read_only_cursor(self, sql: str, timeout_seconds: float):
        with self._connection() as conn:
            self._begin_read_only(conn, timeout_seconds)
            cursor = conn.cursor(name=CURSOR_NAME, scrollable=False, withhold=False)
            try:
                cursor.execute(sql)
            except psycopg.Error as error:
                raise self._query_error(error, conn, sql=sql, timeout_seconds=timeout_seconds) from error
            yield conn, cursor

    def _translated(self, fetch, timeout_seconds: float) -> list[tuple]:
        try:
            return fetch()
        except psycopg.Error as error:
            raise self._query_error(error, None, timeout_seconds=timeout_seconds) from error

    def _columns(self, conn: psycopg.Connection, cursor: psycopg.ServerCursor) -> list[Column]:
        description = cursor.description or []
        oids = sorted({d.type_code for d in description})
        with conn.cursor() as lookup:
            lookup.execute("SELECT oid::int, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)", [oids])
            names = dict(lookup.fetchall())
        return [
            Column(
                name=d.name,
                db_type=names.get(d.type_code, str(d.type_code)),
                kind=kind_of(names.get(d.type_code, "")),
            )
            for d in description
        ]

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        # PostgreSQL 14+: hash_record_extended combines each value's 64-bit hash, the hashes that hash
        # partitions rely on (so they stay the same across versions), and never writes a value as text:
        # half the time of the text form below (benchmarks/changed_rerun_plan.py), and the fingerprint
        # passes are most of a rerun. Types are known from the query (`_fingerprinted`).
        types = self.fingerprint_types
        if types is not None and len(types) == len(columns):  # else: not yet known for these columns
            values = [_hashable(column, oid) for column, oid in zip(columns, types, strict=True)]
            return f"hash_record_extended(row('{salt}'::text, {', '.join(values)}), 0)"
        # A row's text form quotes what needs quoting and writes NULL as nothing, so it is unambiguous.
        # hashtextextended is PostgreSQL's 64-bit hash of text; it costs a quarter of md5's time.
        row_text = f"'{salt}' || row({', '.join(columns)})::text"
        if self.md5_fingerprints:  # an older server: the first 60 bits of the md5, as MariaDB and DuckDB
            return f"('x' || left(md5({row_text}), 15))::bit(60)::bigint"
        return f"hashtextextended({row_text}, 0)"

    def _text_sql(self, expression: str) -> str:
        return f"({expression})::text"

    def _catalog_sql(self, search: str, limit: int) -> str:
        # pg_catalog rather than information_schema: the same answer without its per-row privilege
        # functions on every column of every table (seconds on a large catalog). Tables, views,
        # materialized views, partitioned and foreign tables the user may read; partitions stay under
        # their parent; system schemas are left out.
        where = _search_filter(search, "n.nspname", "c.relname", "a.attname")
        return (
            "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), count(*) OVER () "  # noqa: S608 - our SQL; the search is reduced to safe characters
            "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped "
            "AND NOT c.relispartition AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
            "AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')"
            f"{where} ORDER BY n.nspname, c.relname, a.attnum LIMIT {int(limit)}"
        )

    # --- errors in the user's terms ------------------------------------------------------------------

    def _connection_error(self, error: psycopg.OperationalError) -> SourceConnectionError:
        text = str(error)
        lower = text.lower()
        if "could not translate host name" in lower or "name or service not known" in lower:
            return UnknownHost(self.host)
        if "connection refused" in lower:
            return ConnectionRefused(self.host, self.port)
        if "timeout expired" in lower or "timed out" in lower:
            return ConnectTimeout(self.host, self.port, self.timeouts.connect_seconds)
        if "password authentication failed" in lower or ("role" in lower and "does not exist" in lower):
            return AuthenticationFailed(self.user)
        if "database" in lower and "does not exist" in lower:
            return DatabaseNotFound(self.database)
        if "server does not support ssl" in lower:
            return SslRequired(
                f'The server does not accept SSL connections, but this connection\'s SSL mode is "{self.sslmode}". '
                "Enable SSL on the server, or choose a weaker SSL mode if the network is trusted."
            )
        if "no pg_hba.conf entry" in lower and ("no encryption" in lower or "ssl off" in lower):
            return SslRequired(
                'The server only accepts SSL connections. Set the SSL mode to "require" (or stronger).'
            )
        if "no pg_hba.conf entry" in lower:
            return AuthenticationFailed(self.user)
        return SourceConnectionError(f"Could not connect to {self.host}:{self.port}: {_first_line(text)}")

    def _query_error(
        self,
        error: psycopg.Error,
        conn: psycopg.Connection | None,
        *,
        sql: str | None = None,
        timeout_seconds: float | None = None,
    ) -> SourceError:
        if isinstance(error, SourceError):
            return error
        if self.interrupts.requested:  # the cancel request (or what followed it) is why it failed
            return QueryInterrupted()
        message = error.diag.message_primary or _first_line(str(error))
        if isinstance(error, pg_errors.QueryCanceled) and "statement timeout" in message:
            return QueryTimeout(timeout_seconds or self.timeouts.preview_seconds)
        if isinstance(error, pg_errors.ReadOnlySqlTransaction):
            return UnsafeQueryError(f"The database refused to write: {message}.", refused_by="database")
        if "data-modifying statements" in message or "multiple commands" in message:
            return UnsafeQueryError(f"The database refused this SQL: {message}.", refused_by="database")
        if isinstance(error, psycopg.OperationalError) and (conn is None or conn.broken or conn.closed):
            return ConnectionLost(_first_line(str(error)))
        line = column = None
        if sql is not None and error.diag.statement_position:
            offset = int(error.diag.statement_position) - 1 - _DECLARE_PREFIX_LENGTH
            if offset == _first_word_offset(sql) and isinstance(error, pg_errors.SyntaxError):
                # DECLARE … FOR accepts only SELECT or VALUES: a "syntax error" at the very first word
                # means the statement is something else.
                return UnsafeQueryError(
                    f"The database refused this SQL: only a SELECT or VALUES query can run ({message}).",
                    refused_by="database",
                )
            if 0 <= offset <= len(sql):
                line, column = line_and_column(sql, offset)
        return QueryError(message, line=line, column=column, code=error.sqlstate)


class _FingerprintedRead:
    """Both passes of a fingerprinted read, one server-side cursor after the other on one connection."""

    def __init__(
        self, source: PostgresSource, conn: psycopg.Connection, queries: FingerprintQueries, deadline
    ):
        self.source, self.conn, self.queries, self.deadline = source, conn, queries, deadline

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        # Streamed in chunks (libpq 17+, which psycopg's binary package ships; row by row before), not
        # FETCHed from a server-side cursor: the database computes the next rows while these are read,
        # where each FETCH waits for its batch (1.4 s against 1.7 s for a million pairs). The
        # fingerprint as a bigint: read as an integer, it is not written out and parsed as text.
        seconds = self.source.timeouts.extract_seconds
        chunk = batch_size if psycopg.pq.version() >= 170000 else 1
        stream = self.conn.cursor().stream(self.queries.pairs, size=chunk)
        try:
            while True:
                if time.monotonic() > self.deadline:
                    raise QueryTimeout(seconds)
                rows = self.source._translated(lambda: list(itertools.islice(stream, batch_size)), seconds)
                self.source.interrupts.check()  # stopped between two batches: the next is not wanted
                if not rows:
                    return
                yield PairBatch.of(rows)
        finally:
            stream.close()  # a read stopped early: psycopg cancels the query

    def digest(self) -> PairDigest:
        # A plain cursor: unlike a server-side one, it lets the aggregate run in parallel workers.
        seconds = self.source.timeouts.extract_seconds
        return self.queries.pair_digest(
            self.source._translated(lambda: self.conn.execute(self.queries.digest).fetchone(), seconds)
        )

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        with self._cursor(self._rows_by_key(only) or self.queries.rows(only)) as cursor:
            columns = self.source._columns(self.conn, cursor)
            for rows in self.source._batches(cursor, batch_size, self.deadline):
                yield RowBatch(columns=columns, rows=rows)

    def _rows_by_key(self, only: Collection[tuple[Any, str]] | None) -> str | None:
        """The rows of those keys, found by their text: no row is fingerprinted to be found (picked by
        fingerprint, every row of the model is). For text and integer keys, whose text is the value
        psycopg read; other types (a padded char(n), a uuid …) are picked by fingerprint."""
        if not only or not all(type(value) in (str, int) for value, _ in only):
            return None
        key = self.source._quote(self.queries.spec.key_column)
        # A literal, not a parameter: with parameters, a % in the model's SQL would be read as one.
        texts = pg_sql.Literal([str(value) for value, _ in only]).as_string(self.conn)
        return (
            f"SELECT m.*, {self.queries.fingerprint_text} FROM {self.queries.source_sql} "  # noqa: S608 - checked SQL, quoted names, a quoted literal
            f"WHERE m.{key}::text = ANY({texts}::text[])"
        )

    @contextmanager
    def _cursor(self, statement: str) -> Iterator[psycopg.ServerCursor]:
        cursor = self.conn.cursor(name=CURSOR_NAME, scrollable=False, withhold=False)
        try:
            cursor.execute(statement)
        except psycopg.Error as error:
            seconds = self.source.timeouts.extract_seconds
            raise self.source._query_error(error, self.conn, timeout_seconds=seconds) from error
        try:
            yield cursor
        finally:
            if not self.conn.broken:
                cursor.close()


class RedshiftSource(PostgresSource):
    type_key = "redshift"
    dialect = "redshift"
    fingerprints = False  # Redshift cannot write a row as text; its syncs read every row

    def _catalog_sql(self, search: str, limit: int) -> str:
        # Redshift's pg_class has no relispartition; its information_schema lists what the user may read.
        return self._information_schema_catalog_sql(
            search, limit, scope="table_schema NOT IN ('information_schema', 'pg_catalog', 'pg_internal')"
        )

    def _begin_read_only(
        self, conn: psycopg.Connection, timeout_seconds: float, isolation: str = "READ COMMITTED"
    ) -> None:
        conn.execute("BEGIN READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout_seconds * 1000))])
        if self.search_path:
            conn.execute("SELECT set_config('search_path', %s, true)", [self.search_path])


def _close_leaving_nothing_running(conn: psycopg.Connection) -> None:
    """Cancel whatever the backend is still executing, then close: a backend busy with a query would
    otherwise run on until it next tries to send to the vanished client."""
    try:
        if not conn.closed and conn.info.transaction_status == TransactionStatus.ACTIVE:
            conn.cancel_safe(timeout=5)
    except psycopg.Error:
        pass
    finally:
        conn.close()


def _first_word_offset(sql: str) -> int:
    """Where the first word of ``sql`` starts, after whitespace and comments."""
    match = re.match(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", sql, re.DOTALL)
    return match.end() if match else 0


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _hashable(column: str, oid: int) -> str:
    if oid in _HASHED_AS_IS:
        return column
    return f"{_SENT.get(oid, 'textsend')}({column if oid in _SENT else f'{column}::text'})"
