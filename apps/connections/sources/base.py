"""What every source adapter offers, and the plain values it returns.

An adapter is built from one connection's cleaned configuration (see ``registry``) and opens a fresh
database connection per call: previews and extractions are rare and long compared with the cost of
connecting, and a connection that is never reused cannot leak a session setting into the next query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .safety import checked_query

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
class ConnectionCheck:
    """The answer to "Test connection": what the server said about itself."""

    server_version: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    has_more: bool  # the query had more rows than were fetched (they were never read)
    elapsed_seconds: float


@dataclass(frozen=True)
class RowBatch:
    columns: list[Column]
    rows: list[tuple[Any, ...]]


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


class ParserCheckedSource:
    """The public half every adapter shares: Syncline's parser check first (`safety.checked_query`), then
    the adapter's own unchecked path (`_describe`, `_preview`, `_stream`), where the database's locks
    apply. Tests call the unchecked paths directly to prove the databases refuse writes on their own."""

    dialect: str

    def describe(self, sql: str) -> list[Column]:
        return self._describe(checked_query(sql, self.dialect))

    def preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        return self._preview(checked_query(sql, self.dialect), limit)

    def stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        return self._stream(checked_query(sql, self.dialect), batch_size)


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
