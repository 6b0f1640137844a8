"""DuckDB database files: the embedded demo warehouse, and a real option for small teams.

How user SQL is kept read-only and bounded:
1. ``safety.checked_query`` (parser): one statement, a query.
2. DuckDB's own parser counts the statements again and names their type: anything but one SELECT is
   refused before it runs (DuckDB's Python client would otherwise run every statement it is given).
3. The file is opened ``read_only``: DuckDB refuses any write to it. External access is switched off and
   the configuration locked, so SQL cannot read or write other files (``read_csv('/etc/…')``,
   ``COPY … TO``), ATTACH another database read-write, or install extensions.
4. DuckDB has no statement timeout: a timer interrupts the connection when the limit passes.
5. Results are streamed (``fetchmany``), so a preview reads 100 rows of a query that has billions.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .base import (
    DEFAULT_BATCH_SIZE,
    PREVIEW_ROW_LIMIT,
    Column,
    ConnectionCheck,
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
    InvalidSourceConfig,
    QueryError,
    QueryInterrupted,
    QueryTimeout,
    SourceConnectionError,
    SourceError,
    UnsafeQueryError,
)

_LOCKED_DOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


@dataclass(frozen=True)
class DuckDbFolders:
    """Where one workspace may open DuckDB files. A path on Syncline's own disk is the file-system twin of
    a private address (another workspace's file, the app's own data), so every path is checked here.

    ``data`` holds every DuckDB file; ``own`` is the workspace's upload folder inside it, and its sibling
    folders belong to other workspaces. Team hosting allows ``data`` minus those siblings; shared hosting
    (``own_only``) allows ``own`` alone. A relative path is a file in ``own``."""

    data: Path
    own: Path
    own_only: bool

    def checked(self, path: str) -> Path:
        """The real path to open (links and ".." resolved), or InvalidSourceConfig. The refusal is the same
        whether or not something exists at the path, so it tells nothing about the disk."""
        candidate = Path(path)
        resolved = (candidate if candidate.is_absolute() else self.own / candidate).resolve()
        data, own = self.data.resolve(), self.own.resolve()
        inside_own = resolved.is_relative_to(own)
        other_workspace = resolved.is_relative_to(own.parent) and not inside_own
        if inside_own or (not self.own_only and resolved.is_relative_to(data) and not other_workspace):
            return resolved
        if self.own_only:
            raise InvalidSourceConfig(
                "Upload the DuckDB file: this Syncline installation opens only files uploaded into this "
                "workspace."
            )
        raise InvalidSourceConfig(
            f"Syncline opens DuckDB files only inside its data folder, {data} (DUCKDB_DATA_DIR), and not "
            "in another workspace's uploads. Move the file there and enter its path, or upload it."
        )


class DuckDbSource(ParserCheckedSource):
    type_key = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        block_private_hosts: bool = False,
        folders: DuckDbFolders | None = None,
    ):
        self.path = str(config["path"])
        self.folders = folders
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
        )
        if block_private_hosts and folders is None:
            # Shared hosting without the workspace's folders to check against: refuse DuckDB altogether.
            raise InvalidSourceConfig("DuckDB files on the server are not available on this installation.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        with self._connection() as conn:
            version = conn.execute("SELECT version()").fetchone()[0]
        return ConnectionCheck(server_version=f"DuckDB {version}")

    # --- unchecked by sqlglot: DuckDB's statement check and the read-only file are what stands here -----

    def _describe(self, sql: str) -> list[Column]:
        with self._connection() as conn:
            self._refuse_unless_one_select(conn, sql)
            relation = self._translated(lambda: conn.sql(sql), sql)  # binds the query, runs nothing
            return [
                Column(name=name, db_type=str(type_), kind=kind_of(str(type_)))
                for name, type_ in zip(relation.columns, relation.types, strict=True)
            ]

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        limit = max(0, min(limit, PREVIEW_ROW_LIMIT))
        started = time.monotonic()
        with self._running(sql, self.timeouts.preview_seconds) as (result, columns, fetch):
            rows = fetch(limit + 1)
        return Preview(
            columns=columns,
            rows=rows[:limit],
            has_more=len(rows) > limit,
            elapsed_seconds=time.monotonic() - started,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        with self._running(sql, self.timeouts.extract_seconds) as (result, columns, fetch):
            while rows := fetch(batch_size):
                yield RowBatch(columns=columns, rows=rows)

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries) -> Iterator[_FingerprintedRead]:
        # The file is open read-only, so nothing can change it between the two passes.
        with self._timed_connection(self.timeouts.extract_seconds) as (conn, translated):
            yield _FingerprintedRead(self, conn, queries, translated)

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        # Each value quoted with its quotes doubled, NULL as the bare word: unambiguous.
        quoted = " || ',' || ".join(
            f"coalesce('''' || replace(CAST({column} AS VARCHAR), '''', '''''') || '''', 'NULL')"
            for column in columns
        )
        return f"CAST('0x' || left(md5('{salt}' || {quoted}), 15) AS BIGINT)"  # its first 60 bits

    def _text_sql(self, expression: str) -> str:
        return f"CAST({expression} AS VARCHAR)"

    plain_identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # DuckDB's names are case-insensitive

    def _catalog_sql(self, search: str, limit: int) -> str:
        # The file's own database (not DuckDB's system and temp catalogs).
        return self._information_schema_catalog_sql(search, limit, scope="table_catalog = current_database()")

    # --- connection -----------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Checked at every open, not only when saved: a connection saved before the rules (or under
        # another hosting mode) must not open what they refuse.
        path = str(self.folders.checked(self.path)) if self.folders else self.path
        if not Path(path).is_file():
            raise SourceConnectionError(f'There is no DuckDB database file at "{self.path}".')
        try:
            conn = duckdb.connect(path, read_only=True, config=dict(_LOCKED_DOWN))
        except duckdb.Error as error:
            raise SourceConnectionError(f'Could not open the DuckDB file "{self.path}": {error}') from error
        try:
            with self.interrupts.running(conn.interrupt):  # DuckDB's interrupt may come from any thread
                yield conn
        finally:
            conn.close()

    @contextmanager
    def _running(self, sql: str, timeout_seconds: float):
        with self._timed_connection(timeout_seconds) as (conn, translated):
            self._refuse_unless_one_select(conn, sql)
            result = translated(lambda: conn.execute(sql), sql)
            columns = _columns(result)

            def fetch(size: int) -> list[tuple]:
                return translated(lambda: result.fetchmany(size), sql)

            yield result, columns, fetch

    @contextmanager
    def _timed_connection(self, timeout_seconds: float):
        """A connection interrupted when the time limit passes, and how to call it with errors translated."""
        with self._connection() as conn:
            timed_out = threading.Event()

            def interrupt() -> None:
                timed_out.set()
                conn.interrupt()

            def translated(call, sql: str):
                return self._translated(call, sql, timed_out, timeout_seconds)

            timer = threading.Timer(timeout_seconds, interrupt)
            timer.daemon = True
            timer.start()
            try:
                yield conn, translated
            finally:
                timer.cancel()

    def _refuse_unless_one_select(self, conn: duckdb.DuckDBPyConnection, sql: str) -> None:
        statements = self._translated(lambda: conn.extract_statements(sql), sql)
        if len(statements) != 1:
            raise UnsafeQueryError(
                f"DuckDB refused this SQL: it holds {len(statements)} statements; only one can be run.",
                refused_by="database",
            )
        kind = statements[0].type
        if kind != duckdb.StatementType.SELECT:
            raise UnsafeQueryError(
                f"DuckDB refused this SQL: {kind.name} is not a query.", refused_by="database"
            )

    def _translated(
        self, call, sql: str, timed_out: threading.Event | None = None, timeout_seconds: float = 0
    ):
        try:
            answer = call()
        except (duckdb.InterruptException, KeyboardInterrupt) as error:
            if timed_out is not None and timed_out.is_set():
                raise QueryTimeout(timeout_seconds) from error
            if self.interrupts.requested:
                raise QueryInterrupted() from error
            raise
        except duckdb.Error as error:
            raise _query_error(error, sql) from error
        self.interrupts.check()  # interrupted between two calls: what follows is not wanted
        return answer


class _FingerprintedRead:
    def __init__(
        self, source: DuckDbSource, conn: duckdb.DuckDBPyConnection, queries: FingerprintQueries, translated
    ):
        self.source, self.conn, self.queries, self.translated = source, conn, queries, translated

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        result = self._execute(self.queries.keys)
        while rows := self.translated(lambda: result.fetchmany(batch_size), self.queries.keys):
            yield PairBatch.of(rows)

    def digest(self) -> PairDigest:
        result = self._execute(self.queries.digest)
        return self.queries.pair_digest(self.translated(result.fetchone, self.queries.digest))

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        statement = self.queries.rows(only)
        result = self._execute(statement)
        columns = _columns(result)
        while rows := self.translated(lambda: result.fetchmany(batch_size), statement):
            yield RowBatch(columns=columns, rows=rows)

    def _execute(self, statement: str):
        self.source._refuse_unless_one_select(self.conn, statement)
        return self.translated(lambda: self.conn.execute(statement), statement)


def _columns(result) -> list[Column]:
    return [Column(name=d[0], db_type=str(d[1]), kind=kind_of(str(d[1]))) for d in result.description]


def _query_error(error: duckdb.Error, sql: str) -> SourceError:
    message = str(error)
    if "read-only" in message.lower() or "read only" in message.lower():
        return UnsafeQueryError(f"The database refused to write: {message}", refused_by="database")
    line = column = None
    if match := re.search(r"LINE (\d+):", message):
        line = int(match.group(1))
    return QueryError(message.split("\n\nLINE")[0], line=line, column=column)
