"""What a source holds, for the model editor's schema browser, and what its key column looks like.

``Catalog``: the source's schemas, tables (views included) and columns with their types, read with one
query of the source's own catalog (information_schema, pg_catalog), capped at ``CATALOG_COLUMN_LIMIT``
columns: a warehouse with 50,000 columns lists the first ones and says how many more there are, and a
search (``catalog_search``) asks the source for the matching ones.

``KeyCheck``: the duplicates and NULLs of a model's key column, from one bounded query of the model's
checked SQL wrapped as a subquery (``key_check_sql``), the way ``FingerprintQueries`` wraps it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import SourceError

CATALOG_COLUMN_LIMIT = 1_000
KEY_CHECK_SAMPLE = 10  # offending keys named in a key check's answer
SEARCH_MAX_LENGTH = 100


class CatalogUnavailable(SourceError):
    """The source cannot list its tables (the message says why and what to set instead)."""


@dataclass(frozen=True)
class CatalogColumn:
    name: str
    db_type: str  # the database's own name for the type ("" when the source cannot tell before a query)
    reference: str  # how SQL names it in this dialect: quoted when it must be


@dataclass(frozen=True)
class CatalogTable:
    schema: str  # "" for a source without schemas (Google Sheets)
    name: str
    reference: str  # schema-qualified, each part quoted when it must be
    columns: tuple[CatalogColumn, ...]
    problem: str = ""  # why its columns could not be read (Google Sheets: a sheet not shared, say)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[CatalogTable, ...]
    total_columns: int  # the columns matching the search in the whole source, listed or not
    search: str = ""  # the search the source was asked (normalised by ``catalog_search``)
    note: str = ""  # what the user should know about this source's catalog (e.g. types come later)

    @property
    def listed_columns(self) -> int:
        return sum(len(table.columns) for table in self.tables)

    @property
    def unlisted_columns(self) -> int:
        return max(0, self.total_columns - self.listed_columns)

    @property
    def schemas(self) -> list[tuple[str, list[CatalogTable]]]:
        """(schema, its tables) in the catalog's order."""
        grouped: dict[str, list[CatalogTable]] = {}
        for table in self.tables:
            grouped.setdefault(table.schema, []).append(table)
        return list(grouped.items())


def catalog_search(text: str) -> str:
    """The search as the catalog query receives it: lower case, letters, digits, ``_ $ -`` and spaces
    only, so it can be written into any dialect's string literal (no quote, backslash or LIKE wildcard
    but ``_``, which then matches any one character: a wider search, never a wrong one)."""
    return re.sub(r"[^\w $-]", "", text or "").strip().lower()[:SEARCH_MAX_LENGTH]


def catalog_from_rows(
    rows: Sequence[Sequence[Any]], *, identifier, limit: int, search: str, note: str = ""
) -> Catalog:
    """A catalog from the rows of a catalog query: (schema, table, column, type, total columns), ordered
    by schema, table and column position. ``identifier`` quotes one name for the dialect."""
    tables: list[CatalogTable] = []
    current: tuple[str, str] | None = None
    columns: list[CatalogColumn] = []
    total = 0

    def close() -> None:
        if current is not None:
            schema, name = current
            reference = ".".join(identifier(part) for part in (schema, name) if part)
            tables.append(CatalogTable(schema, name, reference, tuple(columns)))

    for schema, table, column, db_type, count in rows[:limit]:
        total = int(count)
        if (str(schema or ""), str(table)) != current:
            close()
            current, columns = (str(schema or ""), str(table)), []
        columns.append(CatalogColumn(str(column), str(db_type or ""), identifier(str(column))))
    close()
    return Catalog(tables=tuple(tables), total_columns=total, search=search, note=note)


def matching(tables: Iterable[CatalogTable], search: str) -> list[CatalogTable]:
    """For a source listed in Python (Google Sheets): the tables whose schema or name contains the
    search with every column, and else the columns that contain it."""
    if not search:
        return list(tables)
    found = []
    for table in tables:
        if search in table.schema.lower() or search in table.name.lower():
            found.append(table)
        elif columns := tuple(c for c in table.columns if search in c.name.lower()):
            found.append(CatalogTable(table.schema, table.name, table.reference, columns, table.problem))
    return found


# --- the key check -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    """What one query says about a model's key column: how many key values appear on more than one row,
    the most repeated of them (at most ``KEY_CHECK_SAMPLE``, with their row counts), and how many rows
    have no key (NULL)."""

    key_column: str
    duplicate_keys: int
    duplicates: tuple[tuple[Any, int], ...]
    null_rows: int

    @property
    def clean(self) -> bool:
        return not self.duplicate_keys and not self.null_rows


def key_check_sql(checked_sql: str, key: str, sample: int = KEY_CHECK_SAMPLE) -> str:
    """One statement over the model's checked SQL (a subquery: it can only read) and its quoted key
    column: a row per repeated key and one for the NULL key if any, the NULL one first, then the most
    repeated, at most ``sample`` + 1 rows, each with how many such rows there are in all."""
    groups = (
        f"SELECT m.{key} AS k, count(*) AS n FROM ({checked_sql}\n) AS m "  # noqa: S608 - checked SQL, quoted name
        f"GROUP BY m.{key} HAVING count(*) > 1 OR m.{key} IS NULL"
    )
    return (
        f"SELECT d.k, d.n, count(*) OVER () AS g FROM ({groups}) AS d "  # noqa: S608 - as above
        f"ORDER BY CASE WHEN d.k IS NULL THEN 0 ELSE 1 END, d.n DESC, d.k LIMIT {int(sample) + 1}"
    )


def key_check_from_rows(
    rows: Sequence[Sequence[Any]], key_column: str, sample: int = KEY_CHECK_SAMPLE
) -> KeyCheck:
    null_rows = next((int(n) for k, n, _ in rows if k is None), 0)
    groups = int(rows[0][2]) if rows else 0
    duplicates = tuple((k, int(n)) for k, n, _ in rows if k is not None)[:sample]
    return KeyCheck(
        key_column=key_column,
        duplicate_keys=groups - (1 if null_rows else 0),
        duplicates=duplicates,
        null_rows=null_rows,
    )
