"""MySQL and MariaDB through PyMySQL.

Why PyMySQL: it is pure Python (no libmysqlclient headers or compiler on the hosts, the same wheel
everywhere), actively maintained, talks to both MySQL and MariaDB, has an unbuffered cursor
(``SSCursor``) for streaming, requires SSL before authenticating when asked to, and accepts a socket we
opened ourselves, which the network guard needs (connect to the checked address, keep the host name for
TLS). mysqlclient is faster per row but none of that matters next to the network and the destination's
rate limit.

How user SQL is kept read-only and bounded:
1. ``safety.checked_query`` (parser): one statement, a query, and no executable comments (``/*! … */``,
   which only MySQL and MariaDB run).
2. The driver never sets CLIENT.MULTI_STATEMENTS, so the server refuses a second statement outright.
3. A fresh session per call: a statement time limit (MariaDB ``max_statement_time`` in seconds, MySQL
   ``max_execution_time`` in milliseconds), then ``SET SESSION TRANSACTION READ ONLY`` and ``START
   TRANSACTION READ ONLY``, so the server refuses writes to tables (including inside functions and
   procedures) and DDL (which commits the transaction implicitly, but not the session's setting).
   Not covered by either: files. ``SELECT … INTO OUTFILE`` and ``LOAD_FILE()`` need the FILE privilege,
   and only the parser check stands against them: give Syncline a user with SELECT privileges only (the
   connection test warns about FILE, SUPER and write privileges).
4. Rows come through an unbuffered cursor. When we stop reading before the end (a preview, an error, a
   caller dropping the stream) the session is killed from a second connection, because PyMySQL would
   otherwise drain the whole rest of the result to close the cursor.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import pymysql
from pymysql.constants import CLIENT, FIELD_TYPE
from pymysql.cursors import SSCursor

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
    UnsafeQueryError,
)
from .network_guard import resolve_host
from .privileges import mysql_warnings

# PyMySQL's FIELD_TYPE names are protocol names; show users the SQL names they wrote.
_SQL_TYPE_NAMES = {"TINY": "tinyint", "SHORT": "smallint", "LONG": "int", "INT24": "mediumint",
                   "LONGLONG": "bigint", "NEWDECIMAL": "decimal", "VAR_STRING": "varchar", "STRING": "char",
                   "NEWDATE": "date", "TIMESTAMP2": "timestamp", "DATETIME2": "datetime"}  # fmt: skip
_TYPE_NAMES = {
    value: _SQL_TYPE_NAMES.get(name, name.lower())
    for name, value in vars(FIELD_TYPE).items()
    if name.isupper()
}
_TIMEOUT_CODES = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time
_READ_ONLY_TRANSACTION = 1792
_LOST_CONNECTION_CODES = {2006, 2013, 2055}
_SSL_MODES = ("disabled", "preferred", "required", "verify_ca", "verify_identity")
_GRACE_SECONDS = 10  # the client-side read limit trails the server's own so the server's message wins
# Every session's sql_mode, fixed (MySQL 8's and MariaDB's defaults, less what a read never needs): strings
# in '…' or "…" with backslash escapes, names in `…`, as the parser check reads the SQL.
SESSION_SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


class MySqlSource(ParserCheckedSource):
    type_key = "mysql"
    dialect = "mysql"

    def __init__(self, config: Mapping[str, Any], *, block_private_hosts: bool = False):
        self.host: str = config["host"]
        self.port: int = int(config["port"])
        self.database: str = config["database"]
        self.user: str = config["user"]
        self._password: str = config.get("password") or ""
        self.ssl_mode: str = config.get("ssl_mode") or "preferred"
        if self.ssl_mode not in _SSL_MODES:
            raise ValueError(f"unknown ssl_mode {self.ssl_mode!r}")
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
            connect_seconds=float(config["connect_timeout_seconds"]),
        )
        self.block_private_hosts = block_private_hosts

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.user}@{self.host}:{self.port}/{self.database}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        conn = self._connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                version = cursor.fetchone()[0]
            warnings = self._write_privilege_warnings(conn)
        except pymysql.MySQLError as error:
            raise self._query_error(error, self.timeouts.connect_seconds) from error
        finally:
            conn.close()
        return ConnectionCheck(server_version=version, warnings=warnings)

    # --- unchecked paths: the server's own locks are all that stands here (tests prove they do) -------

    def _describe(self, sql: str) -> list[Column]:
        with self._read_only_result(sql, self.timeouts.preview_seconds) as cursor:
            return _columns(cursor)

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        limit = max(0, min(limit, PREVIEW_ROW_LIMIT))
        started = time.monotonic()
        seconds = self.timeouts.preview_seconds
        with self._read_only_result(sql, seconds) as cursor:
            columns = _columns(cursor)
            rows = self._fetch(cursor, limit + 1, seconds)
        return Preview(
            columns=columns,
            rows=rows[:limit],
            has_more=len(rows) > limit,
            elapsed_seconds=time.monotonic() - started,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        seconds = self.timeouts.extract_seconds
        with self._read_only_result(sql, seconds) as cursor:
            columns = _columns(cursor)
            while True:
                rows = self._fetch(cursor, batch_size, seconds)
                if not rows:
                    return
                yield RowBatch(columns=columns, rows=rows)

    # --- connection and session ----------------------------------------------------------------------

    def _connect(self) -> pymysql.Connection:
        address = resolve_host(self.host, self.port, block_private=self.block_private_hosts)
        connect_seconds = self.timeouts.connect_seconds
        conn = pymysql.Connection(
            host=self.host,  # kept for TLS certificate checks; the socket below goes to the checked address
            port=self.port,
            user=self.user,
            password=self._password,
            database=self.database,
            charset="utf8mb4",
            autocommit=True,  # transactions are opened explicitly, READ ONLY
            client_flag=0,  # in particular, no CLIENT.MULTI_STATEMENTS
            connect_timeout=connect_seconds,
            read_timeout=connect_seconds,  # the handshake must not wait longer than a connect
            defer_connect=True,
            **self._ssl_arguments(),
        )
        assert not conn.client_flag & CLIENT.MULTI_STATEMENTS
        try:
            sock = socket.create_connection((address, self.port), timeout=connect_seconds)
        except ConnectionRefusedError:
            raise ConnectionRefused(self.host, self.port) from None
        except TimeoutError:
            raise ConnectTimeout(self.host, self.port, connect_seconds) from None
        except OSError as error:
            raise SourceConnectionError(f"Could not connect to {self.host}:{self.port}: {error}") from error
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        try:
            conn.connect(sock)
        except pymysql.MySQLError as error:
            sock.close()
            raise self._connection_error(error) from error
        return conn

    def _ssl_arguments(self) -> dict[str, Any]:
        if self.ssl_mode == "disabled":
            return {"ssl_disabled": True}
        if self.ssl_mode == "preferred":
            return {}
        # A non-empty ``ssl`` makes PyMySQL require SSL, and refuse before authenticating without it.
        return {
            "ssl": {
                "verify_mode": self.ssl_mode in ("verify_ca", "verify_identity"),
                "check_hostname": self.ssl_mode == "verify_identity",
            }
        }

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries) -> Iterator[_FingerprintedRead]:
        seconds = self.timeouts.extract_seconds
        conn = self._connect()
        read = _FingerprintedRead(self, conn, queries, seconds)
        finished = False
        try:
            with self._interruptible(conn):
                # Both passes read one snapshot (InnoDB's consistent read), one result after the other.
                self._start_read_only(conn, seconds, snapshot=True)
                yield read
            finished = _result_is_exhausted(conn)
        except pymysql.MySQLError as error:
            finished = not isinstance(error, pymysql.OperationalError) or error.args[0] in _TIMEOUT_CODES
            raise self._query_error(error, seconds) from error
        finally:
            self._end(conn, finished, read.cursors)

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        # QUOTE writes NULL as the word NULL and every value as a quoted, escaped string: unambiguous.
        quoted = ", ".join(f"QUOTE({column})" for column in columns)
        md5 = f"MD5(CONCAT('{salt}', CONCAT_WS(',', {quoted})))"
        return f"CAST(CONV(LEFT({md5}, 15), 16, 10) AS SIGNED)"  # its first 60 bits

    def _text_sql(self, expression: str) -> str:
        return f"CAST({expression} AS CHAR)"

    def _quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    # Names are case-insensitive on most servers; `$` is allowed bare.
    plain_identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")

    def _catalog_sql(self, search: str, limit: int) -> str:
        # Every database the user can read on the server, the connection's own first.
        return self._information_schema_catalog_sql(
            search,
            limit,
            scope="table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
            type_column="column_type",
            first="table_schema = DATABASE() DESC",
        )

    def _start_read_only(
        self, conn: pymysql.Connection, timeout_seconds: float, snapshot: bool = False
    ) -> None:
        with conn.cursor() as cursor:
            if "mariadb" in conn.get_server_info().lower():
                cursor.execute("SET SESSION max_statement_time = %s", [float(timeout_seconds)])
            else:
                cursor.execute("SET SESSION max_execution_time = %s", [int(timeout_seconds * 1000)])
            # The server drops a client that stops reading for net_write_timeout (60 s by default); a
            # slow consumer of a long extraction must not be mistaken for a dead one.
            cursor.execute("SET SESSION net_write_timeout = %s", [int(max(timeout_seconds, 60))])
            # The server reads the SQL as Syncline's parser check read it, whatever modes the server or
            # the user's account default to: with NO_BACKSLASH_ESCAPES a string could end where the check
            # sees it go on; with ANSI_QUOTES (or ANSI, ORACLE, …) "…" would be a name, not a string, and
            # what follows it would run unchecked.
            cursor.execute("SET SESSION sql_mode = %s", [SESSION_SQL_MODE])
            # Read-only for the whole session, not only the transaction below: DDL commits that
            # transaction implicitly, and the session's setting then still refuses it.
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute(
                "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
                if snapshot
                else "START TRANSACTION READ ONLY"
            )
        # PyMySQL has no public setter; it applies this before its next read from the socket.
        conn._read_timeout = timeout_seconds + _GRACE_SECONDS

    @contextmanager
    def _read_only_result(self, sql: str, timeout_seconds: float):
        conn = self._connect()
        cursor = None
        finished = False
        try:
            with self._interruptible(conn):
                self._start_read_only(conn, timeout_seconds)
                cursor = SSCursor(conn)
                cursor.execute(sql)
                yield cursor
            finished = _result_is_exhausted(conn)
        except pymysql.MySQLError as error:
            finished = not isinstance(error, pymysql.OperationalError) or error.args[0] in _TIMEOUT_CODES
            raise self._query_error(error, timeout_seconds, sql) from error
        finally:
            self._end(conn, finished, [cursor] if cursor is not None else [])

    def _end(self, conn: pymysql.Connection, finished: bool, cursors: list[SSCursor]) -> None:
        if finished:
            with suppress(pymysql.MySQLError):
                conn.rollback()
            conn.close()
        else:
            self._kill(conn)
            for cursor in cursors:  # so that their finalisers do not try to drain a closed socket
                cursor._result = None
                cursor.connection = None

    def _fetch(self, cursor: SSCursor, size: int, timeout_seconds: float) -> list[tuple]:
        try:
            rows = list(cursor.fetchmany(size))
        except pymysql.MySQLError as error:
            raise self._query_error(error, timeout_seconds) from error
        self.interrupts.check()  # a SLEEP() that KILL QUERY cut short answers 1, not an error
        return rows

    def _interruptible(self, conn: pymysql.Connection):
        """An interrupt sends KILL QUERY for this session from a second connection: the statement it runs
        stops, and the session is then ended as after any unfinished read (`_end`)."""
        thread_id = conn.thread_id()
        return self.interrupts.running(lambda: self._kill_query(thread_id))

    def _kill_query(self, thread_id: int) -> None:
        killer = self._connect()
        try:
            with killer.cursor() as cursor:
                cursor.execute("KILL QUERY %s", [thread_id])
        finally:
            killer.close()

    def _kill(self, conn: pymysql.Connection) -> None:
        """End a session that may still be executing or sending rows, without reading them."""
        thread_id = conn.thread_id()
        with suppress(SourceError, pymysql.MySQLError):
            killer = self._connect()
            try:
                with killer.cursor() as cursor:
                    cursor.execute("KILL %s", [thread_id])
            finally:
                killer.close()
        if conn._result is not None:
            conn._result.unbuffered_active = False
            conn._result = None
        conn._force_close()  # PyMySQL's close() would first drain the unread rows

    def _write_privilege_warnings(self, conn: pymysql.Connection) -> list[ConnectionWarning]:
        with conn.cursor() as cursor:
            cursor.execute("SHOW GRANTS")  # the session's: privileges of its active roles included
            grants = [row[0] for row in cursor.fetchall()]
        return mysql_warnings(grants, user=self.user, database=self.database)

    # --- errors in the user's terms ------------------------------------------------------------------

    def _connection_error(self, error: pymysql.MySQLError) -> SourceError:
        code = error.args[0] if error.args else None
        message = str(error.args[1]) if len(error.args) > 1 else str(error)
        if code == 1045:
            return AuthenticationFailed(self.user)
        if code == 1049:
            return DatabaseNotFound(self.database)
        if code == 1044:
            return SourceConnectionError(
                f'The user "{self.user}" may not open the database "{self.database}" (or it does not exist).'
            )
        if code == 2026 or "ssl" in message.lower():
            return SslRequired(
                f'The server does not accept SSL connections, but this connection\'s SSL mode is "{self.ssl_mode}". '
                "Enable SSL on the server, or choose a weaker SSL mode if the network is trusted."
            )
        if code in _LOST_CONNECTION_CODES and "timed out" in message:
            return ConnectTimeout(self.host, self.port, self.timeouts.connect_seconds)
        if code == 3159 or "insecure transport" in message.lower():
            return SslRequired('The server only accepts SSL connections. Set the SSL mode to "required".')
        return SourceConnectionError(f"Could not connect to {self.host}:{self.port}: {message}")

    def _query_error(self, error: pymysql.MySQLError, timeout_seconds: float, sql: str = "") -> SourceError:
        if self.interrupts.requested:  # KILL QUERY (or what followed it) is why it failed
            return QueryInterrupted()
        code = error.args[0] if error.args else None
        message = str(error.args[1]) if len(error.args) > 1 else str(error)
        if code in _TIMEOUT_CODES:
            return QueryTimeout(timeout_seconds)
        if code in _LOST_CONNECTION_CODES and "timed out" in message:
            return QueryTimeout(timeout_seconds)  # the server's own limit did not fire; ours did
        if code in _LOST_CONNECTION_CODES:
            return ConnectionLost(message)
        if code == _READ_ONLY_TRANSACTION:
            return UnsafeQueryError(f"The database refused to write: {message}.", refused_by="database")
        line = None
        if match := re.search(r"at line (\d+)\s*$", message):
            line = int(match.group(1))
        if code == 1064 and _error_follows_semicolon(sql, message):
            return UnsafeQueryError(
                "The database refused a second statement: only one statement can be run.",
                refused_by="database",
            )
        return QueryError(message, line=line, code=str(code) if code is not None else None)


class _FingerprintedRead:
    """Both passes of a fingerprinted read: one unbuffered result after the other on one session."""

    def __init__(self, source: MySqlSource, conn: pymysql.Connection, queries: FingerprintQueries, seconds):
        self.source, self.conn, self.queries, self.seconds = source, conn, queries, seconds
        self.cursors: list[SSCursor] = []

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        cursor = self._execute(self.queries.keys)
        while rows := self.source._fetch(cursor, batch_size, self.seconds):
            yield PairBatch.of(rows)

    def digest(self) -> PairDigest:
        cursor = self._execute(self.queries.digest)
        (row,) = self.source._fetch(cursor, 2, self.seconds)  # one row, and the end of the result
        return self.queries.pair_digest(row)

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        cursor = self._execute(self.queries.rows(only))
        columns = _columns(cursor)
        while rows := self.source._fetch(cursor, batch_size, self.seconds):
            yield RowBatch(columns=columns, rows=rows)

    def _execute(self, statement: str) -> SSCursor:
        cursor = SSCursor(self.conn)
        self.cursors.append(cursor)
        try:
            cursor.execute(statement)
        except pymysql.MySQLError as error:
            raise self.source._query_error(error, self.seconds) from error
        return cursor


def _columns(cursor: SSCursor) -> list[Column]:
    columns = []
    for name, type_code, *_ in cursor.description or []:
        db_type = _TYPE_NAMES.get(type_code, str(type_code))
        columns.append(Column(name=name, db_type=db_type, kind=kind_of(db_type)))
    return columns


def _result_is_exhausted(conn: pymysql.Connection) -> bool:
    result = conn._result
    return result is None or not result.unbuffered_active


def _error_follows_semicolon(sql: str, message: str) -> bool:
    """MySQL reports a second statement (refused without CLIENT.MULTI_STATEMENTS) as a syntax error
    "near '<the rest>'"; tell that apart from an ordinary typo."""
    match = re.search(r"near '(.*)' at line \d+\s*$", message, re.DOTALL)
    if not match or not match.group(1):
        return False
    position = sql.rfind(match.group(1))
    return position > 0 and sql[:position].rstrip().endswith(";")
