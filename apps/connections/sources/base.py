"""What every source adapter offers, and the plain values it returns.

An adapter is built from one connection's cleaned configuration (see ``registry``) and opens a fresh
database connection per call: previews and extractions are rare and long compared with the cost of
connecting, and a connection that is never reused cannot leak a session setting into the next query.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import sqlglot

from .catalog import (
    CATALOG_COLUMN_LIMIT,
    Catalog,
    KeyCheck,
    catalog_from_rows,
    catalog_search,
    key_check_from_rows,
    key_check_sql,
)
from .errors import QueryInterrupted
from .safety import checked_query

if TYPE_CHECKING:
    import numpy as np

PREVIEW_ROW_LIMIT = 100
DEFAULT_PREVIEW_TIMEOUT_SECONDS = 30.0
DEFAULT_EXTRACT_TIMEOUT_SECONDS = 3600.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Column:
    """A result column. ``db_type`` is the database's own name for the type; ``kind`` is a small
    database-neutral vocabulary the sync engine maps onto destination types."""

    name: str
    db_type: str
    kind: str  # string | integer | decimal | float | boolean | date | timestamp | json | other


@dataclass(frozen=True)
class Timeouts:
    preview_seconds: float = DEFAULT_PREVIEW_TIMEOUT_SECONDS
    extract_seconds: float = DEFAULT_EXTRACT_TIMEOUT_SECONDS
    connect_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ConnectionWarning:
    """Something the connection test found that works but should not be so: the user can write, read
    server files, administer the server … ``advice`` says what to grant instead."""

    code: str  # can_write | file | admin | superuser | server_files | server_program
    message: str
    advice: str


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to "Test connection": what the server said about itself."""

    server_version: str
    warnings: list[ConnectionWarning] = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    has_more: bool  # the query had more rows than were fetched (they were never read)
    elapsed_seconds: float
    # What the warehouse says the whole query reads (BigQuery's dry run: it bills by it); None: not said.
    scanned_bytes: int | None = None


@dataclass(frozen=True)
class RowBatch:
    columns: list[Column]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class FingerprintSpec:
    """What a row's fingerprint covers: the key column and the other columns a sync's payload is built
    from, and a salt (hex) that stands for everything else the payload depends on (the sync's
    configuration, the columns' types), so changing any of them changes every fingerprint."""

    key_column: str
    columns: tuple[str, ...]
    salt: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{1,64}", self.salt):
            raise ValueError("the salt is written into SQL: hex digits only")


# A fingerprint is a 64-bit integer, written in decimal where it leaves the database (PostgreSQL's own
# 64-bit text hash, the first 60 bits of an md5 elsewhere: `ParserCheckedSource._fingerprint_sql`). It
# detects change, it guards nothing: a changed row keeps its old fingerprint about once in 2^60 changes.
FINGERPRINT = re.compile(r"-?[0-9]{1,19}")


@dataclass(frozen=True)
class PairDigest:
    """What one aggregate query says about a multiset of (key, fingerprint) pairs: how many, how many
    with a key, and the exact sum of the fingerprints (numeric/decimal/hugeint: no overflow). A
    fingerprint covers the key's value (`FingerprintSpec.columns` starts with the key column), so it
    stands for the pair. Two equal digests are (but for a 1-in-2^60 coincidence) the same: when one is a
    set with distinct keys (the ledger's), so is the other, so no count(DISTINCT …) is needed (it costs
    a sort of every key)."""

    rows: int
    keys: int  # rows whose key is not NULL
    total: int


@dataclass(frozen=True)
class PairBatch:
    """(key value, fingerprint) of a batch of rows, column by column: a rerun's first pass asks about
    every fingerprint of a batch at once (numpy), and reads a key only where it needs one."""

    values: Sequence[Any]  # each row's key value, as the database driver gives it
    fingerprints: np.ndarray  # int64, one a row

    @classmethod
    def of(cls, pairs: Sequence[Sequence[Any]]) -> PairBatch:
        """From (key value, fingerprint) rows, each fingerprint an integer or its decimal text."""
        import numpy as np  # here, not at the top: 15 MB in every process, needed only by a rerun's first pass

        fingerprints = np.array([fingerprint for _, fingerprint in pairs], dtype=np.int64)
        return cls([value for value, _ in pairs], fingerprints)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        """The pairs, each fingerprint as the ledger stores it."""
        return zip(self.values, map(str, self.fingerprints.tolist()), strict=True)

    def fingerprint(self, index: int) -> str:
        """That row's fingerprint as the ledger stores it (and `rows` gives it): in decimal."""
        return str(int(self.fingerprints[index]))


class FingerprintedRead(Protocol):
    """One consistent read of a model (one snapshot, so both passes see the same rows)."""

    def keys(self, batch_size: int) -> Iterator[PairBatch]:
        """(key, fingerprint) of every row, in batches."""
        ...

    def rows(self, batch_size: int, only: Collection[tuple[Any, str]] | None = None) -> Iterator[RowBatch]:
        """The rows, each with its fingerprint as an extra last column; with ``only``, (key value,
        fingerprint) pairs as `keys` gave them, at least the rows of those pairs (picked by fingerprint,
        or by key where the database can: then other rows of those keys may come too)."""
        ...

    def digest(self) -> PairDigest:
        """The digest of every row's (key, fingerprint) pair, computed by the database in one query."""
        ...


class SourceAdapter(Protocol):
    """The protocol. Every method may raise a ``SourceError`` subclass and nothing else (programming
    errors aside)."""

    type_key: str

    def test(self) -> ConnectionCheck:
        """Connect, authenticate and ask the server who it is."""
        ...

    def describe(self, sql: str) -> list[Column]:
        """Column names and types of a query, without fetching its rows."""
        ...

    def preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        """At most ``limit`` (≤ 100) rows, read from a cursor that is then closed: the rest of the result
        is never transferred. Bounded by the preview timeout."""
        ...

    def stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        """Every row, in batches, from a server-side (unbuffered) cursor, so memory does not grow with
        the row count. Bounded by the extraction timeout. Closing the iterator early cancels the query."""
        ...

    def fingerprinted(self, sql: str, spec: FingerprintSpec) -> AbstractContextManager[FingerprintedRead]:
        """A read of ``sql`` where the database computes each row's fingerprint (see ``FingerprintSpec``),
        so a caller can fetch only (key, fingerprint) pairs, then the rows it needs. Adapters that
        cannot set ``fingerprints = False``."""
        ...

    def interrupt(self) -> None:
        """Stop whatever this adapter is running, from any thread, within seconds; its calls then raise
        ``QueryInterrupted``, and so does every later call (an interrupted adapter is done)."""
        ...

    def catalog(self, search: str = "") -> Catalog:
        """The schemas, tables and columns (with types) the connection can read, at most
        ``CATALOG_COLUMN_LIMIT`` columns of them, those matching ``search`` if given. Bounded by the
        preview timeout. A source that cannot list them raises ``CatalogUnavailable`` saying why."""
        ...

    def key_check(self, sql: str, key_column: str) -> KeyCheck:
        """The duplicate and NULL values of ``key_column`` in the result of ``sql`` (checked like a
        preview), from one bounded query, within the preview timeout."""
        ...


class Interrupts:
    """The queries an adapter has running, each with how to stop it from another thread (a PostgreSQL
    cancel request, MySQL's KILL QUERY, DuckDB's interrupt), so a run's Cancel or a worker's shutdown
    does not wait for the warehouse.

    A stop that lands just before its query reaches the server stops nothing, so whoever interrupts
    calls ``interrupt`` again until the caller is gone (the run's watcher does, every second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: dict[object, Callable[[], None]] = {}
        self.requested = False

    @contextmanager
    def running(self, stop: Callable[[], None]) -> Iterator[None]:
        """While inside, ``stop`` stops the work; refused at once after an interrupt."""
        token = object()
        with self._lock:
            self.check()
            self._stops[token] = stop
        try:
            yield
        finally:
            with self._lock:
                self._stops.pop(token, None)

    def check(self) -> None:
        if self.requested:
            raise QueryInterrupted()

    def interrupt(self) -> None:
        with self._lock:
            self.requested = True
            stops = list(self._stops.values())
        for stop in stops:
            with suppress(Exception):  # a connection already gone needs no stopping
                stop()


class ParserCheckedSource:
    """The public half every adapter shares: Syncline's parser check first (`safety.checked_query`), then
    the adapter's own unchecked path (`_describe`, `_preview`, `_stream`), where the database's locks
    apply. Tests call the unchecked paths directly to prove the databases refuse writes on their own."""

    dialect: str
    timeouts: Timeouts
    fingerprints = True

    def describe(self, sql: str) -> list[Column]:
        return self._describe(checked_query(sql, self.dialect))

    def preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        return self._preview(checked_query(sql, self.dialect), limit)

    def stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        return self._stream(checked_query(sql, self.dialect), batch_size)

    def fingerprinted(self, sql: str, spec: FingerprintSpec) -> AbstractContextManager[FingerprintedRead]:
        return self._fingerprinted(FingerprintQueries(self, checked_query(sql, self.dialect), spec))

    @property
    def interrupts(self) -> Interrupts:
        # Made on first use (adapters keep their own __init__); setdefault is atomic, so two threads
        # asking at once get the same one.
        return self.__dict__.setdefault("_interrupts", Interrupts())

    def interrupt(self) -> None:
        self.interrupts.interrupt()

    # --- the schema browser and the key check ----------------------------------------------------------

    # A name SQL may write without quotes in this dialect (PostgreSQL folds unquoted names to lower case).
    plain_identifier = re.compile(r"[a-z_][a-z0-9_$]*")

    def identifier(self, name: str) -> str:
        """``name`` as SQL writes it: bare when the dialect reads it back as the same name, else quoted."""
        if self.plain_identifier.fullmatch(name) and name.lower() not in _reserved_words(self.dialect):
            return name
        return self._quote(name)

    def catalog(self, search: str = "") -> Catalog:
        search = catalog_search(search)
        rows = self._bounded_read(self._catalog_sql(search, CATALOG_COLUMN_LIMIT), CATALOG_COLUMN_LIMIT)
        return catalog_from_rows(rows, identifier=self.identifier, limit=CATALOG_COLUMN_LIMIT, search=search)

    def key_check(self, sql: str, key_column: str) -> KeyCheck:
        statement = key_check_sql(checked_query(sql, self.dialect), self._quote(key_column))
        return key_check_from_rows(self._bounded_read(statement, 100), key_column)

    def _catalog_sql(self, search: str, limit: int) -> str:
        """One query of the source's catalog: (schema, table, column, type, how many columns match in
        all) ordered by schema, table and column position, at most ``limit`` rows; ``search`` (already
        reduced to safe characters by ``catalog_search``) filters schema, table and column names."""
        raise NotImplementedError

    def _bounded_read(self, sql: str, max_rows: int) -> list[tuple[Any, ...]]:
        """Syncline's own small statement (the catalog, the key check), run the way a model is streamed
        (read-only, the database's locks, Cancel) but within the preview timeout (a person waits for it),
        keeping at most ``max_rows`` rows; the rest is never fetched."""
        self.interrupts  # noqa: B018 - made before the copy, so Cancel reaches the copy's query too
        quick = copy.copy(self)
        quick.timeouts = dataclasses.replace(self.timeouts, extract_seconds=self.timeouts.preview_seconds)
        rows: list[tuple[Any, ...]] = []
        batches = quick._stream(sql, batch_size=max_rows)
        try:
            for batch in batches:
                rows.extend(batch.rows)
                if len(rows) >= max_rows:
                    break
        finally:
            batches.close()  # cancels what is still running
        return rows[:max_rows]

    def _information_schema_catalog_sql(
        self,
        search: str,
        limit: int,
        *,
        scope: str,
        source: str = "information_schema.columns",
        type_column: str = "data_type",
        first: str = "",
    ) -> str:
        """The catalog query over an information_schema.columns view; ``scope`` keeps the user's
        schemas, ``first`` (an ORDER BY term) puts the connection's own schema first."""
        where = scope + _search_filter(search, "table_schema", "table_name", "column_name")
        order = f"{first}, " if first else ""
        return (
            f"SELECT table_schema, table_name, column_name, {type_column}, count(*) OVER () "  # noqa: S608 - our SQL
            f"FROM {source} WHERE {where} "
            f"ORDER BY {order}table_schema, table_name, ordinal_position LIMIT {int(limit)}"
        )

    # --- what each dialect supplies for fingerprints ----------------------------------------------------

    def _quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _fingerprint_sql(self, columns: list[str], salt: str) -> str:
        """An SQL expression: a 64-bit integer hash (at least 60 bits of it used) of the salt and of the
        columns' values, written out so that different values (NULL, '', 'a,b' …) never give the same
        text. It must give the same value for the same row on every run, server version and platform."""
        raise NotImplementedError

    def _text_sql(self, expression: str) -> str:
        """An integer as decimal text."""
        raise NotImplementedError

    def _sum_sql(self, expression: str) -> str:
        """The exact sum of fingerprints (numeric, decimal, hugeint: never a float)."""
        return f"sum({expression})"


class FingerprintQueries:
    """The statements a fingerprinted read runs: the checked query of the model, wrapped as a subquery
    (a subquery can only read, and the database's read-only transaction stands behind it anyway)."""

    def __init__(self, source: ParserCheckedSource, sql: str, spec: FingerprintSpec):
        self.sql, self.spec = sql, spec
        columns = [f"m.{source._quote(name)}" for name in spec.columns]
        self.fingerprint = source._fingerprint_sql(columns, spec.salt)
        self.fingerprint_text = source._text_sql(self.fingerprint)  # as the ledger stores it
        self.source_sql = f"({sql}\n) AS m"
        key = source._quote(spec.key_column)
        self.keys = f"SELECT m.{key}, {self.fingerprint_text} FROM {self.source_sql}"  # noqa: S608 - checked SQL, quoted names
        # The same pairs, the fingerprint as the database's integer (where its driver reads one natively).
        self.pairs = f"SELECT m.{key} AS k, {self.fingerprint} AS h FROM {self.source_sql}"  # noqa: S608 - as above
        total = source._sum_sql("d.h")
        self.digest = f"SELECT count(*), count(d.k), coalesce({total}, 0) FROM ({self.pairs}) AS d"  # noqa: S608

    @staticmethod
    def pair_digest(row: Sequence[Any]) -> PairDigest:
        """The digest from the row the `digest` statement returns (sums come as Decimal, int …)."""
        rows, keys, total = row
        return PairDigest(int(rows), int(keys), int(total))

    def rows(self, only: Collection[tuple[Any, str]] | None) -> str:
        """Picked by fingerprint: the database fingerprints every row again to find them."""
        statement = f"SELECT m.*, {self.fingerprint_text} FROM {self.source_sql}"  # noqa: S608 - as above
        if only is None:
            return statement
        fingerprints = {fingerprint for _, fingerprint in only}
        if not all(FINGERPRINT.fullmatch(value) for value in fingerprints):
            raise ValueError("not fingerprints")  # they are written into the SQL
        listed = ", ".join(sorted(fingerprints)) or "NULL"
        return f"{statement} WHERE {self.fingerprint} IN ({listed})"


def _search_filter(search: str, *names: str) -> str:
    """`` AND (…)``: any of the name columns contains the search (already safe to write in a literal)."""
    if not search:
        return ""
    like = f"'%{search}%'"
    return " AND (" + " OR ".join(f"lower({name}) LIKE {like}" for name in names) + ")"


@cache
def _reserved_words(dialect: str) -> frozenset[str]:
    """Words a name must be quoted to be: the dialect's reserved words as sqlglot lists them, else DuckDB's
    (PostgreSQL's grammar, which DuckDB's parser is), which also serve PostgreSQL and Snowflake."""
    words = sqlglot.Dialect.get_or_raise(dialect).generator_class.RESERVED_KEYWORDS
    return frozenset(words or sqlglot.Dialect.get_or_raise("duckdb").generator_class.RESERVED_KEYWORDS)


def kind_of(db_type: str) -> str:
    """Map a database type name onto the neutral ``Column.kind`` vocabulary."""
    name = db_type.lower()
    if name.endswith("[]") or name.startswith(("array", "list", "struct", "map")):
        return "other"
    if "json" in name:
        return "json"
    if name in ("bool", "boolean", "tinyint(1)"):
        return "boolean"
    if "int" in name or name in ("serial", "bigserial", "year", "hugeint"):
        return "integer"
    if name.startswith(("numeric", "decimal", "newdecimal")):
        return "decimal"
    if name.startswith(("float", "double", "real")):
        return "float"
    if name.startswith(("timestamp", "datetime")):
        return "timestamp"
    if name == "date" or name == "newdate":
        return "date"
    if any(word in name for word in ("char", "text", "string", "uuid", "enum", "varchar", "name", "citext")):
        return "string"
    return "other"
