"""Google Sheets: ranges of spreadsheets as tables, read with Google's official client
(google-api-python-client's Sheets API v4, ``spreadsheets.get`` and ``spreadsheets.values.get``), and a
model's SQL run over them by DuckDB.

The connection lists its tables, one a line: ``users = <spreadsheet URL or ID> Users!A1:F``. A table's
first row holds the column names; its types are inferred from the cells (below) and shown in the model's
preview like any warehouse's. To run a model, the tables its SQL names are read range by range, in chunks
of rows, into a DuckDB file of their own (temporary, removed after), and the model runs there through the
DuckDB adapter, which opens that file read-only and keeps every guarantee it keeps for a user's file: one
SELECT only, external access off, a time limit, Cancel, streaming with ``fetchmany``, the same
fingerprints and no-change digest. Memory: Python holds the chunk being read, not the sheet; the copy is a
DuckDB file, of which DuckDB keeps in its buffer what fits, so it is bounded by the sheet (Sheets allows
10 million cells a spreadsheet).

How cells become values: the API is asked for unformatted values (a formula's computed value, not its
text; numbers as numbers, booleans as booleans) with dates as the text the sheet shows. A blank cell, a
formula error (#N/A, #DIV/0! …) and a row left blank are NULL, and a blank row is skipped. A column is:
- BOOLEAN when every cell is TRUE/FALSE;
- BIGINT when every cell is a whole number, or the text of one ("1,234" with thousands separators; but
  "007" stays text: leading zeros say it is a code, not a number), DECIMAL when some have decimals
  (DOUBLE past DECIMAL's 38 digits);
- DATE or TIMESTAMP when the cells are ISO dates (2024-02-29, 2024-02-29 13:45:00) or sheet serial numbers
  among them (days since 1899-12-30, what a date cell holds once its format is "Number"). Dates shown
  another way (29/02/2024) stay text: their order of day and month is the spreadsheet's locale's, which
  the value does not say; ``strptime`` in the model reads them;
- VARCHAR otherwise, with numbers and booleans written as the sheet writes them.
"""

from __future__ import annotations

import datetime
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from .base import (
    DEFAULT_BATCH_SIZE,
    PREVIEW_ROW_LIMIT,
    Column,
    ConnectionCheck,
    FingerprintQueries,
    ParserCheckedSource,
    Preview,
    RowBatch,
    Timeouts,
)
from .bigquery import ServiceAccountInvalid, ServiceAccountRefused, service_account_info
from .catalog import Catalog, CatalogColumn, CatalogTable, catalog_search, matching
from .duckdb import DuckDbSource
from .duckdb import _FingerprintedRead as _DuckDbFingerprintedRead
from .errors import (
    ConnectionLost,
    InvalidSourceConfig,
    QueryError,
    QueryInterrupted,
    QueryTimeout,
    SourceError,
)

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret
_SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
CHUNK_ROWS = 10_000  # rows a values request asks for: what memory holds of a sheet at a time
SHARE_ADVICE = "Share the spreadsheet with the service account's email (Share → add it as Viewer)."

_TABLE_LINE = re.compile(r"^\s*(?P<name>[^=]+?)\s*=\s*(?P<where>\S+)(?:\s+(?P<range>.+?))?\s*$")
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SPREADSHEET_URL = re.compile(r"/spreadsheets/d/(?P<id>[A-Za-z0-9_-]+)")
_SPREADSHEET_ID = re.compile(r"[A-Za-z0-9_-]{20,}")
_GID = re.compile(r"[#?&]gid=(?P<gid>\d+)")
_CELLS = re.compile(r"^(?P<c1>[A-Za-z]{1,3})?(?P<r1>\d+)?(?::(?P<c2>[A-Za-z]{1,3})?(?P<r2>\d+)?)?$")
_SHEET_ERRORS = frozenset(("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"))
_INTEGER_TEXT = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)?\.\d+")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
_INT64 = 2**63


class SheetsConfigInvalid(InvalidSourceConfig):
    """The connection's list of tables cannot be read; the message names the line."""


class SheetNotShared(SourceError):
    """The spreadsheet exists, but the service account may not read it."""


class SheetNotFound(SourceError):
    pass


class SheetRangeInvalid(SourceError):
    """The range, or the header row it starts with, cannot be a table."""


@dataclass(frozen=True)
class SheetTable:
    name: str
    spreadsheet_id: str
    range: str  # as the user wrote it ("" = the sheet in the URL, or the first sheet)
    gid: int | None = None  # the sheet a pasted URL pointed at

    @property
    def described(self) -> str:
        return f'table "{self.name}" ({self.range or "the whole sheet"})'


def parse_tables(text: str) -> list[SheetTable]:
    """The connection's tables, one a line: ``name = <spreadsheet URL or ID> [range]``."""
    tables: list[SheetTable] = []
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _TABLE_LINE.match(line)
        if not match:
            raise SheetsConfigInvalid(
                f"Tables, line {number}: write it as name = spreadsheet URL or ID, then the range, like "
                "users = https://docs.google.com/spreadsheets/d/1AbC…/edit Users!A1:F"
            )
        name, where, cells = match["name"], match["where"], (match["range"] or "").strip()
        if not _TABLE_NAME.fullmatch(name):
            raise SheetsConfigInvalid(
                f'Tables, line {number}: "{name}" cannot be a table name: use letters, digits and '
                "underscores, starting with a letter (the model's SQL reads FROM that name)."
            )
        if name.lower() in {table.name.lower() for table in tables}:
            raise SheetsConfigInvalid(f'Tables, line {number}: there is already a table named "{name}".')
        if url := _SPREADSHEET_URL.search(where):
            spreadsheet_id = url["id"]
            gid = _GID.search(where)
        elif _SPREADSHEET_ID.fullmatch(where):
            spreadsheet_id, gid = where, None
        else:
            raise SheetsConfigInvalid(
                f'Tables, line {number}: "{where}" is neither a spreadsheet\'s URL nor its ID. Paste the '
                "address of the spreadsheet from the browser (https://docs.google.com/spreadsheets/d/…)."
            )
        if cells:
            _split_range(cells, number)  # refuse what can never be a range, before any request
        tables.append(SheetTable(name, spreadsheet_id, cells, int(gid["gid"]) if gid else None))
    if not tables:
        raise SheetsConfigInvalid(
            "Tables: list at least one, like users = https://docs.google.com/spreadsheets/d/1AbC…/edit "
            "Users!A1:F"
        )
    return tables


def _split_range(text: str, line: int | None = None) -> tuple[str, re.Match]:
    """(sheet title, or "" for the first sheet; the cells part) of an A1 range."""
    title, bang, cells = text.rpartition("!")
    if not bang:  # the cells of the first sheet (A1:F, 2:100), or a sheet's name (Users)
        is_cells = _CELLS.match(text) and (":" in text or any(c.isdigit() for c in text))
        title, cells = ("", text) if is_cells else (text, "")
    if len(title) > 1 and title[0] == title[-1] == "'":
        title = title[1:-1].replace("''", "'")
    match = _CELLS.match(cells)
    if match is None:
        where = f"Tables, line {line}: " if line else ""
        raise SheetsConfigInvalid(
            f'{where}"{text}" is not a range. Write the sheet\'s name, "!", then the cells, like Users!A1:F '
            "(quote a name with spaces: 'Sales 2024'!A1:F)."
        )
    return title, match


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


# --- cells and types -----------------------------------------------------------------------------------

# A cell's shape: b boolean, i whole number, f other number, B boolean text, I whole-number text,
# F decimal text, D ISO date text, T ISO date-time text, s other text.
_NUMBERS = frozenset("ifIF")


def _shape(value: Any) -> tuple[str, str] | None:
    """(shape, text) of a cell as the API gives it, or None for NULL. Numbers are written out in full
    (no exponent), so DuckDB reads them exactly."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "b", "true" if value else "false"
    if isinstance(value, int):
        return "i", str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if number == number.to_integral_value():
            return "i", str(int(number))
        return "f", format(number, "f")
    text = str(value)
    if text in _SHEET_ERRORS:
        return None
    if text.upper() in ("TRUE", "FALSE"):
        return "B", text.lower()
    if _INTEGER_TEXT.fullmatch(text):
        return "I", text  # its separators are dropped where it becomes a number
    if _DECIMAL_TEXT.fullmatch(text):
        return "F", text
    if _DATE_TEXT.fullmatch(text) and _valid(datetime.date.fromisoformat, text):
        return "D", text
    if _TIMESTAMP_TEXT.fullmatch(text) and _valid(datetime.datetime.fromisoformat, text):
        return "T", text
    return "s", text


def _valid(parse, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


@dataclass
class _ColumnShapes:
    """What one column's cells looked like, gathered chunk by chunk."""

    shapes: set[str] = field(default_factory=set)
    digits: int = 0  # most digits before the decimal point
    scale: int = 0  # most digits after it

    def add(self, shape: str, text: str) -> None:
        self.shapes.add(shape)
        if shape in _NUMBERS:
            whole, _, fraction = text.replace(",", "").lstrip("+-").partition(".")
            self.digits = max(self.digits, len(whole.lstrip("0")))
            self.scale = max(self.scale, len(fraction))

    def db_type(self) -> str:
        shapes = self.shapes
        if not shapes or "s" in shapes:
            return "VARCHAR"
        if shapes <= {"b", "B"}:
            return "BOOLEAN"
        if shapes <= _NUMBERS:
            if shapes <= {"i", "I"} and self.digits <= 18:
                return "BIGINT"
            if self.digits + self.scale <= 38:
                return f"DECIMAL(38, {self.scale})" if self.scale else "DECIMAL(38, 0)"
            return "DOUBLE"
        if shapes <= {"D", "i"} and "D" in shapes:
            return "DATE"
        if shapes <= {"D", "T", "i", "f"} and shapes & {"D", "T"}:
            return "TIMESTAMP"
        return "VARCHAR"


def _converted(column: str, db_type: str) -> str:
    """SQL turning a staged column (shape letter + text) into its type."""
    shape, text = f"substr({column}, 1, 1)", f"substr({column}, 2)"
    if db_type == "BOOLEAN":
        return f"({text} = 'true')"
    if db_type in ("BIGINT", "DOUBLE") or db_type.startswith("DECIMAL"):
        return f"CAST(replace({text}, ',', '') AS {db_type})"
    serial = f"CAST({text} AS DOUBLE)"
    if db_type == "DATE":
        return f"CASE WHEN {shape} = 'i' THEN DATE '1899-12-30' + CAST({text} AS INTEGER) ELSE CAST({text} AS DATE) END"
    if db_type == "TIMESTAMP":
        micros = f"CAST(round(({serial} - 25569) * 86400000000) AS BIGINT)"  # 25569: 1899-12-30 → 1970-01-01
        return f"CASE WHEN {shape} IN ('i', 'f') THEN make_timestamp({micros}) ELSE CAST({text} AS TIMESTAMP) END"
    return f"CASE WHEN {shape} IN ('b', 'B') THEN upper({text}) ELSE {text} END"


# --- the source ------------------------------------------------------------------------------------------

# A sheet model's fingerprinted reads are the DuckDB adapter's, over the sheet's copy.
_FingerprintedRead = _DuckDbFingerprintedRead


class GoogleSheetsSource(ParserCheckedSource):
    type_key = "google_sheets"
    dialect = "duckdb"  # the model's SQL runs in DuckDB
    # DuckDB writes the fingerprints, as for a DuckDB file
    _fingerprint_sql = DuckDbSource._fingerprint_sql
    _text_sql = DuckDbSource._text_sql

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        block_private_hosts: bool = False,
        endpoint: str | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ):
        self._info = service_account_info(str(config.get("service_account_json") or ""))
        self.client_email: str = self._info["client_email"]
        self.tables = parse_tables(config.get("tables") or "")
        self.timeouts = Timeouts(
            preview_seconds=float(config["preview_timeout_seconds"]),
            extract_seconds=float(config["extract_timeout_seconds"]),
            connect_seconds=float(config["connect_timeout_seconds"]),
        )
        # Requests go to Google's API host only; no user-given host to guard.
        self.block_private_hosts = block_private_hosts
        # Tests (and only they, through settings.GOOGLE_SHEETS_ENDPOINT) point the client and the token
        # request at a stand-in; otherwise both go to Google, whatever token_uri the key names.
        self.endpoint = endpoint
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:  # never a secret
        return f"<{type(self).__name__} {self.client_email}>"

    # --- the protocol --------------------------------------------------------------------------------

    def test(self) -> ConnectionCheck:
        """Sign in, then read every table's header row: the spreadsheets are shared, the ranges exist and
        the names are usable."""
        deadline = time.monotonic() + self.timeouts.preview_seconds
        reader = _Reader(self, deadline, self.timeouts.preview_seconds)
        described = []
        for table in self.tables:
            header = reader.header(table)
            described.append(f"{table.name} ({len(header)} column{'' if len(header) == 1 else 's'})")
        return ConnectionCheck(server_version="Google Sheets: " + ", ".join(described))

    plain_identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # the SQL runs in DuckDB

    def catalog(self, search: str = "") -> Catalog:
        """The connection's tables, each with the names in its header row (one request a table, within
        the preview timeout); types are inferred from the cells when a query reads the sheet."""
        search = catalog_search(search)
        reader = _Reader(
            self, time.monotonic() + self.timeouts.preview_seconds, self.timeouts.preview_seconds
        )
        tables = []
        for table in self.tables:
            try:
                header, problem = reader.header(table), ""
            except (QueryTimeout, QueryInterrupted):
                raise
            except SourceError as error:  # one table's sheet gone or not shared: the others still list
                header, problem = [], str(error)
            columns = tuple(CatalogColumn(name, "", self.identifier(name)) for name in header)
            tables.append(CatalogTable("", table.name, self.identifier(table.name), columns, problem))
        found = matching(tables, search)
        return Catalog(
            tables=tuple(found),
            total_columns=sum(len(table.columns) for table in found),
            search=search,
            note="Each table's column types are read from its cells when a query reads it (Preview shows them).",
        )

    def _describe(self, sql: str) -> list[Column]:
        with self._loaded(sql, self.timeouts.preview_seconds) as inner:
            return inner._describe(sql)

    def _preview(self, sql: str, limit: int = PREVIEW_ROW_LIMIT) -> Preview:
        started = time.monotonic()
        with self._loaded(sql, self.timeouts.preview_seconds) as inner:
            preview = inner._preview(sql, limit)
        return Preview(
            columns=preview.columns,
            rows=preview.rows,
            has_more=preview.has_more,
            elapsed_seconds=time.monotonic() - started,
        )

    def _stream(self, sql: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        with self._loaded(sql, self.timeouts.extract_seconds) as inner:
            yield from inner._stream(sql, batch_size)

    @contextmanager
    def _fingerprinted(self, queries: FingerprintQueries):
        # Both passes read the one copy of the sheet: they agree even if someone edits it meanwhile.
        with (
            self._loaded(queries.sql, self.timeouts.extract_seconds) as inner,
            inner._fingerprinted(queries) as read,
        ):
            yield read

    # --- loading the tables a query names into a DuckDB file --------------------------------------------

    @contextmanager
    def _loaded(self, sql: str, seconds: float) -> Iterator[DuckDbSource]:
        """A DuckDB adapter over a temporary file holding the tables ``sql`` names, with what is left of
        the time limit once they are read."""
        deadline = time.monotonic() + seconds
        folder = Path(tempfile.mkdtemp(prefix="syncline_sheets_"))
        try:
            path = folder / "sheets.duckdb"
            reader = _Reader(self, deadline, seconds)
            with (
                duckdb.connect(str(path), config={"enable_external_access": False}) as conn,
                self.interrupts.running(conn.interrupt),  # Cancel stops the copy's writing too
            ):
                timer = threading.Timer(max(0.0, deadline - time.monotonic()), conn.interrupt)
                timer.daemon = True
                timer.start()  # the time limit stops the copy's writing too
                try:
                    for table in self._named_in(sql):
                        reader.load(table, conn)
                except duckdb.InterruptException as error:
                    self.interrupts.check()
                    raise QueryTimeout(seconds) from error
                finally:
                    timer.cancel()
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryTimeout(seconds)
            inner = DuckDbSource(
                {"path": str(path), "preview_timeout_seconds": left, "extract_timeout_seconds": left}
            )
            inner.__dict__["_interrupts"] = self.interrupts  # one Cancel stops both
            try:
                yield inner
            except QueryTimeout as error:
                raise QueryTimeout(seconds) from error  # the connection's limit, not what was left of it
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _named_in(self, sql: str) -> list[SheetTable]:
        """The tables the (checked) SQL reads: only those are fetched."""
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError:
            return []
        named = {table.name.lower() for table in tree.find_all(exp.Table) if not table.db}
        return [table for table in self.tables if table.name.lower() in named]

    # --- the client --------------------------------------------------------------------------------

    def _http(self, timeout: float):
        """An HTTP client that signs requests with the service account (fetching its access token from
        Google's token endpoint, or the stand-in's, with the OAuth JWT grant)."""
        import httplib2
        from google.oauth2 import service_account
        from google_auth_httplib2 import AuthorizedHttp

        token_uri = f"{self.endpoint}/token" if self.endpoint else GOOGLE_TOKEN_URI
        try:
            credentials = service_account.Credentials.from_service_account_info(
                self._info | {"token_uri": token_uri}, scopes=_SCOPES
            )
        except ValueError:
            raise ServiceAccountInvalid(
                "The service-account key's private key could not be read. Upload the .json file Google Cloud "
                "downloaded, unchanged."
            ) from None
        return AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))


_API_LOCK = threading.Lock()
_APIS: dict[str | None, Any] = {}


def _api(endpoint: str | None):
    """The Sheets API's ``spreadsheets`` resource, built once per process and endpoint: the client renders
    every method's documentation when it builds a resource (half a second and tens of MB each time).
    Requests made from it are sent with each adapter's own signed HTTP client (``execute(http=…)``)."""
    with _API_LOCK:
        if endpoint not in _APIS:
            import httplib2
            from googleapiclient.discovery import build

            options = {"api_endpoint": endpoint} if endpoint else None
            # static_discovery: the Sheets API's discovery document ships with the client; nothing is fetched.
            service = build(
                "sheets",
                "v4",
                http=httplib2.Http(),  # never used: every request names its own
                static_discovery=True,
                cache_discovery=False,
                client_options=options,
            )
            spreadsheets = service.spreadsheets()
            _APIS[endpoint] = (spreadsheets, spreadsheets.values())
        return _APIS[endpoint]


class _Reader:
    """Reads tables for one call of the adapter, within its time limit, stoppable by its Cancel."""

    def __init__(self, source: GoogleSheetsSource, deadline: float, seconds: float):
        self.source, self.deadline, self.seconds = source, deadline, seconds
        self._http = None
        self._sheets: dict[str, list[dict]] = {}

    def header(self, table: SheetTable) -> list[str]:
        title, first_row, first_col, last_row, last_col = self._bounds(table)
        rows = self._values(table, title, first_row, first_col, first_row, last_col)
        return self._names(table, rows[0] if rows else [], first_col)

    def load(self, table: SheetTable, conn: duckdb.DuckDBPyConnection) -> None:
        title, first_row, first_col, last_row, last_col = self._bounds(table)
        names: list[str] | None = None
        staging = f"staging_{table.name}"
        shapes: list[_ColumnShapes] = []
        row = first_row
        while row <= last_row:
            end = min(last_row, row + self.source.chunk_rows - 1)
            rows = self._values(table, title, row, first_col, end, last_col)
            if names is None:
                names = self._names(table, rows[0] if rows else [], first_col)
                rows = rows[1:]
                shapes = [_ColumnShapes() for _ in names]
                columns = ", ".join(f"c{i} VARCHAR" for i in range(len(names)))
                conn.execute(f"CREATE TABLE {staging} ({columns})")
            self._stage(table, conn, staging, names, shapes, rows, first_col)
            row = end + 1
        assert names is not None  # the loop runs at least once: first_row <= last_row
        selected = ", ".join(
            f"{_converted(f'c{i}', shape.db_type())} AS {_quote(name)}"
            for i, (name, shape) in enumerate(zip(names, shapes, strict=True))
        )
        conn.execute(f"CREATE TABLE {_quote(table.name)} AS SELECT {selected} FROM {staging}")  # noqa: S608
        conn.execute(f"DROP TABLE {staging}")

    def _stage(self, table, conn, staging: str, names: list[str], shapes, rows: list[list], first_col: int):
        width = len(names)
        columns: list[list[str | None]] = [[] for _ in names]
        for row in rows:
            cells = [_shape(value) for value in row]
            if not any(cells):
                continue  # a blank row (Sheets gives []): not a record
            if any(cells[width:]):
                at = width + next(i for i, cell in enumerate(cells[width:]) if cell)
                raise SheetRangeInvalid(
                    f"In {table.described}, column {column_letters(first_col + at)} has values but no name in "
                    "the header row. Name it in the first row, or end the range before it."
                )
            for i in range(width):
                cell = cells[i] if i < len(cells) else None  # a ragged row: Sheets drops trailing blanks
                if cell is None:
                    columns[i].append(None)
                else:
                    shapes[i].add(*cell)
                    columns[i].append(cell[0] + cell[1])
        if columns and columns[0]:
            selects = ", ".join(f"unnest(${i + 1})" for i in range(width))
            conn.execute(f"INSERT INTO {staging} SELECT {selects}", columns)  # noqa: S608 - names are ours

    def _names(self, table: SheetTable, header: list, first_col: int) -> list[str]:
        names = [str(cell).strip() if cell is not None else "" for cell in header]
        if not names:
            raise SheetRangeInvalid(
                f"The first row of {table.described} is empty: it must hold the column names. Start the range "
                "at the header row."
            )
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            letter = column_letters(first_col + i)
            if not name:
                raise SheetRangeInvalid(
                    f"Column {letter} of {table.described} has no name in the header row. Name it, or end the "
                    "range before it."
                )
            if name.lower() in seen:
                other = column_letters(first_col + seen[name.lower()])
                raise SheetRangeInvalid(
                    f'Columns {other} and {letter} of {table.described} are both named "{name}". Rename one in '
                    "the header row: a column name must be unique (upper and lower case count as the same)."
                )
            seen[name.lower()] = i
        return names

    # --- the range, against the sheet's size ----------------------------------------------------------

    def _bounds(self, table: SheetTable) -> tuple[str, int, int, int, int]:
        """(sheet title, first row, first column, last row, last column) of the table's range."""
        sheets = self._sheet_list(table)
        title, cells = _split_range(table.range) if table.range else ("", _CELLS.match(""))
        if title:
            sheet = next((s for s in sheets if s["title"] == title), None)
            if sheet is None:
                names = ", ".join(s["title"] for s in sheets)
                raise SheetRangeInvalid(
                    f'The spreadsheet of {table.described} has no sheet named "{title}"; its sheets are: '
                    f"{names}."
                )
        elif table.gid is not None and not table.range:
            sheet = next((s for s in sheets if s.get("sheetId", 0) == table.gid), sheets[0])
        else:
            sheet = sheets[0]
        grid = sheet.get("gridProperties", {})
        rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
        first_col = _column_number(cells["c1"]) if cells["c1"] else 1
        first_row = int(cells["r1"]) if cells["r1"] else 1
        two_parts = ":" in cells.string
        if cells["c2"]:
            last_col = _column_number(cells["c2"])
        else:
            last_col = first_col if (cells["c1"] and not two_parts) else cols
        if cells["r2"]:
            last_row = min(int(cells["r2"]), rows)
        else:
            last_row = first_row if (cells["r1"] and not two_parts) else rows
        if first_row > last_row or first_row > rows:
            raise SheetRangeInvalid(
                f"The range of {table.described} starts at row {first_row}, below the last row of the sheet "
                f'"{sheet["title"]}" ({rows}). Start it at the header row.'
            )
        return sheet["title"], first_row, first_col, last_row, max(first_col, last_col)

    def _sheet_list(self, table: SheetTable) -> list[dict]:
        if table.spreadsheet_id not in self._sheets:
            answer = self._call(
                table,
                lambda spreadsheets, values: spreadsheets.get(
                    spreadsheetId=table.spreadsheet_id,
                    fields="sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)))",
                ),
            )
            self._sheets[table.spreadsheet_id] = [s["properties"] for s in answer.get("sheets", [])]
        return self._sheets[table.spreadsheet_id]

    def _values(self, table, title: str, r1: int, c1: int, r2: int, c2: int) -> list[list]:
        a1 = f"{_quoted_title(title)}!{column_letters(c1)}{r1}:{column_letters(c2)}{r2}"
        answer = self._call(
            table,
            lambda spreadsheets, values: values.get(
                spreadsheetId=table.spreadsheet_id,
                range=a1,
                majorDimension="ROWS",
                valueRenderOption="UNFORMATTED_VALUE",  # a formula's value; numbers as numbers
                dateTimeRenderOption="FORMATTED_STRING",  # dates as the sheet shows them
            ),
        )
        return answer.get("values", [])

    # --- one request: timed, stoppable, errors in the user's words --------------------------------------

    def _call(self, table: SheetTable, make_request) -> dict:
        source = self.source
        source.interrupts.check()
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeout(self.seconds)
        if self._http is None:
            self._http = source._http(timeout=min(left, max(source.timeouts.connect_seconds, 1.0)))
        http = self._http
        for connection in http.http.connections.values():
            if connection.sock is not None:
                connection.sock.settimeout(min(left, 300))
        http.http.timeout = min(left, 300)
        timed_out = threading.Event()

        def stop() -> None:  # from another thread: the blocked read returns at once
            http.http.timeout = 0.001
            for connection in list(http.http.connections.values()):
                connection.timeout = (
                    0.001  # httplib2 reconnects once after a dropped read: that one fails too
                )
                with suppress(OSError, AttributeError):
                    connection.sock.shutdown(socket.SHUT_RDWR)

        def at_the_limit() -> None:
            timed_out.set()
            stop()

        timer = threading.Timer(left, at_the_limit)
        timer.daemon = True
        with source.interrupts.running(stop):
            timer.start()
            try:
                return make_request(*_api(source.endpoint)).execute(http=http, num_retries=0)
            except Exception as error:  # noqa: BLE001 - translated, or raised as it is
                source.interrupts.check()
                if timed_out.is_set() or time.monotonic() >= self.deadline:
                    raise QueryTimeout(self.seconds) from error
                http.http.connections.clear()  # a connection shut by a stop is not reused
                raise self._error(table, error) from error
            finally:
                timer.cancel()

    def _error(self, table: SheetTable, error: Exception) -> SourceError:
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        email = self.source.client_email
        if isinstance(error, SourceError):
            return error
        if isinstance(error, RefreshError):
            return ServiceAccountRefused(
                f'Google refused the key of the service account "{email}": it was deleted or disabled, or the '
                "service account was. Make a new JSON key and upload it."
            )
        if isinstance(error, HttpError):
            status, message = error.status_code, _reason(error)
            if status == 403:
                return SheetNotShared(
                    f"The spreadsheet of {table.described} is not shared with this connection's service "
                    f"account. Share it with {email} as Viewer (the spreadsheet's Share button), then try again."
                )
            if status == 404:
                return SheetNotFound(
                    f'There is no spreadsheet with the ID "{table.spreadsheet_id}" ({table.described}). Check '
                    "its URL: copy it again from the browser's address bar."
                )
            if status == 400:
                return SheetRangeInvalid(
                    f"Google Sheets cannot read the range of {table.described}: {message} Write it as the "
                    "sheet's name, !, then the cells, like Users!A1:F."
                )
            if status == 401:
                return ServiceAccountRefused(
                    f'Google did not accept the service account "{email}": {message} Upload a current JSON key.'
                )
            if status == 429:
                return QueryError(
                    f"{message} Google Sheets limits how often a service account reads (per minute): try again "
                    "in a minute.",
                    reported_by="Google Sheets",
                )
            return QueryError(message, reported_by="Google Sheets")
        if isinstance(error, TransportError | OSError) or type(error).__module__.startswith("httplib2"):
            return ConnectionLost(f"Google Sheets could not be reached ({error}). Try again in a moment.")
        return QueryError(str(error), reported_by="Google Sheets")


def _reason(error) -> str:
    reason = getattr(error, "reason", None) or str(error)
    return reason.strip().rstrip(".") + "."


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
