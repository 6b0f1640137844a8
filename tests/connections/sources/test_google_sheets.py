"""Google Sheets, through Google's own client over HTTP to the stand-in of the token and Sheets endpoints
(tests/fixtures/fake_sheets.py): dirty cells, header rows that cannot be column names, sheets not shared,
ranges that do not exist, reading in chunks, and time limits and Cancel while a sheet is being read.
(The contract every source keeps is in test_source_contract.py.)"""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from decimal import Decimal

import pytest

from apps.connections.sources.bigquery import ServiceAccountRefused
from apps.connections.sources.errors import QueryInterrupted, QueryTimeout
from apps.connections.sources.google_sheets import (
    GoogleSheetsSource,
    SheetNotFound,
    SheetNotShared,
    SheetRangeInvalid,
    SheetsConfigInvalid,
    parse_tables,
)
from apps.connections.sources.registry import clean_config
from tests.fixtures.fake_sheets import DateCell, Formula, Shown, sheets_service_account

ACCOUNT = sheets_service_account()
EMAIL = ACCOUNT["client_email"]


def spreadsheet_id() -> str:
    return "1Sheet" + uuid.uuid4().hex


def source(fake_sheets, tables: str, key: dict = ACCOUNT, **overrides) -> GoogleSheetsSource:
    values = {"tables": tables, "service_account_json": json.dumps(key), "connect_timeout_seconds": 5}
    chunk_rows = overrides.pop("chunk_rows", 10_000)
    values.update(overrides)
    return GoogleSheetsSource(
        clean_config("google_sheets", values), endpoint=fake_sheets.endpoint, chunk_rows=chunk_rows
    )


def shared(fake_sheets, sheets: dict, **options) -> str:
    sid = spreadsheet_id()
    fake_sheets.add_spreadsheet(sid, sheets, shared_with={EMAIL}, **options)
    return sid


# --- dirty cells ----------------------------------------------------------------------------------------

DIRTY = [
    ["id", "name", "amount", "seats", "active", "signed_up", "last_seen", "zip", "note"],
    [1, "Zoë 🚀 数据", Shown(1234.5, "1,234.50"), "1,200", True, DateCell(datetime.date(2024, 2, 29), "2024-02-29"),
     DateCell(datetime.datetime(2024, 3, 1, 13, 45), "2024-03-01 13:45:00"), "00123", "plain"],
    [2, "", Formula("=SUM(C2:C2)*2", 2469), 7, False, 45351, "2024-03-02T08:00:00", "01234"],  # ragged: no note
    [],  # a blank row in the middle
    [3, "O'Brien \"quoted\"", 0.1, "-12,345", "TRUE", "2024-01-05", 45352.5, "90210", "#N/A"],  # 45352.5: 2024-03-01 12:00
    [4, None, Formula("=1/0", "#DIV/0!"), "", None, "", ""],
]  # fmt: skip


def test_dirty_cells_become_typed_columns_and_values(fake_sheets):
    sid = shared(fake_sheets, {"People": DIRTY})
    people = source(
        fake_sheets, f"people = https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0 People!A1:I"
    )
    sql = "SELECT * FROM people ORDER BY id"

    types = {c.name: c.db_type for c in people.describe(sql)}
    assert types == {
        "id": "BIGINT",
        "name": "VARCHAR",
        "amount": "DECIMAL(38,1)",  # 1234.5, 2469 (a formula's value), 0.1; #DIV/0! is NULL
        "seats": "BIGINT",  # "1,200" and "-12,345" as text, 7 as a number
        "active": "BOOLEAN",  # TRUE/FALSE cells and the text "TRUE"
        "signed_up": "DATE",  # a date cell shown as 2024-02-29, a serial number, an ISO text
        "last_seen": "TIMESTAMP",
        "zip": "VARCHAR",  # leading zeros: a code, not a number
        "note": "VARCHAR",
    }
    kinds = {c.name: c.kind for c in people.describe(sql)}
    assert kinds["amount"] == "decimal" and kinds["signed_up"] == "date" and kinds["active"] == "boolean"

    rows = people.preview(sql).rows
    assert rows == [
        (
            1,
            "Zoë 🚀 数据",
            Decimal("1234.5"),
            1200,
            True,
            datetime.date(2024, 2, 29),
            datetime.datetime(2024, 3, 1, 13, 45),
            "00123",
            "plain",
        ),
        (
            2,
            None,
            Decimal("2469.0"),
            7,
            False,
            datetime.date(2024, 2, 29),
            datetime.datetime(2024, 3, 2, 8, 0),
            "01234",
            None,
        ),
        (
            3,
            'O\'Brien "quoted"',
            Decimal("0.1"),
            -12345,
            True,
            datetime.date(2024, 1, 5),
            datetime.datetime(2024, 3, 1, 12, 0),
            "90210",
            None,
        ),
        (4, None, None, None, None, None, None, None, None),
    ]
    assert [batch.rows for batch in people.stream(sql)] == [rows]


def test_a_formula_is_read_as_its_value_not_its_text(fake_sheets):
    sid = shared(fake_sheets, {"Totals": [["region", "total"], ["EU", Formula("=SUM(Orders!B2:B99)", 1500)]]})
    totals = source(fake_sheets, f"totals = {sid} Totals")
    assert totals.preview("SELECT * FROM totals").rows == [("EU", 1500)]


def test_huge_and_tiny_numbers(fake_sheets):
    sid = shared(
        fake_sheets,
        {
            "N": [
                ["exact", "big", "tiny", "wide"],
                ["9,007,199,254,740,993", 1e20, 1e-7, 1e300],
                ["-9007199254740993", 5, 2.5, 1],
            ]
        },
    )
    numbers = source(fake_sheets, f"n = {sid} N")
    assert {c.name: c.db_type for c in numbers.describe("SELECT * FROM n")} == {
        "exact": "BIGINT",  # typed as text, so no double rounded it
        "big": "DECIMAL(38,0)",  # past BIGINT
        "tiny": "DECIMAL(38,7)",
        "wide": "DOUBLE",  # past DECIMAL's 38 digits
    }
    first, second = numbers.preview("SELECT * FROM n").rows
    assert first == (9_007_199_254_740_993, Decimal(10**20), Decimal("0.0000001"), 1e300)
    assert second == (-9_007_199_254_740_993, Decimal(5), Decimal("2.5"), 1.0)


def test_dates_shown_day_or_month_first_stay_text_that_sql_can_read(fake_sheets):
    shown = DateCell(datetime.date(2024, 2, 29), "29/02/2024")  # a date cell in a day-first locale
    sid = shared(fake_sheets, {"D": [["day"], [shown], ["03/01/2024"]]})
    days = source(fake_sheets, f"d = {sid} D")
    assert days.describe("SELECT * FROM d")[0].db_type == "VARCHAR"
    parsed = days.preview("SELECT CAST(strptime(day, '%d/%m/%Y') AS DATE) AS day FROM d")
    assert parsed.rows == [(datetime.date(2024, 2, 29),), (datetime.date(2024, 1, 3),)]


def test_mixed_columns_stay_text_as_the_sheet_writes_them(fake_sheets):
    sid = shared(fake_sheets, {"M": [["v"], ["abc"], [42], [True], ["1,234"], [2.5], [""]]})
    mixed = source(fake_sheets, f"m = {sid} M")
    assert mixed.describe("SELECT * FROM m")[0].db_type == "VARCHAR"
    assert [r[0] for r in mixed.preview("SELECT * FROM m").rows] == ["abc", "42", "TRUE", "1,234", "2.5"]


def test_only_the_tables_a_query_names_are_read_and_in_chunks(fake_sheets):
    rows = [["n", "word"]] + [[i, f"w{i}"] for i in range(1, 26)]
    rows[12] = []  # a blank row inside a chunk
    sid = shared(fake_sheets, {"Words": rows, "Other": [["x"], [1]]}, sizes={"Words": (30, 2)})
    words = source(fake_sheets, f"words = {sid} Words!A1:B\nother = {sid} Other", chunk_rows=4)
    before = fake_sheets.count("/values/")
    assert words.preview("SELECT count(*) AS n, sum(n) AS total FROM words").rows == [(24, 325 - 12)]
    # the sheet's 30 rows (its grid) in chunks of 4, and nothing of "Other"
    assert fake_sheets.count("/values/") - before == 8
    before = fake_sheets.count("/values/")
    assert words.preview("SELECT 1 AS one").rows == [(1,)]
    assert fake_sheets.count("/values/") == before


# --- header rows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (
            ["id", "email", "Email"],
            [[1, "a", "b"]],
            'Columns B and C of table "t" (S!A1:Z) are both named "Email"',
        ),
        (["id", "", "name"], [[1, "a", "b"]], 'Column B of table "t" (S!A1:Z) has no name in the header row'),
        (["id", "name"], [[1, "a", "stray"]], "column C has values but no name in the header row"),
        ([], [[1, "a"]], 'The first row of table "t" (S!A1:Z) is empty'),
    ],
)
def test_a_header_row_that_cannot_name_the_columns_is_refused_in_words(fake_sheets, header, rows, message):
    sid = shared(fake_sheets, {"S": [header, *rows]})
    table = source(fake_sheets, f"t = {sid} S!A1:Z")
    with pytest.raises(SheetRangeInvalid) as refused:
        table.preview("SELECT * FROM t")
    assert message in str(refused.value)


# --- what Google refuses ----------------------------------------------------------------------------------


def test_a_sheet_not_shared_says_which_email_to_share_it_with(fake_sheets):
    sid = spreadsheet_id()
    fake_sheets.add_spreadsheet(sid, {"S": [["a"], [1]]}, shared_with={"someone@example.com"})
    table = source(fake_sheets, f"t = {sid} S")
    for attempt in (table.test, lambda: table.preview("SELECT * FROM t")):
        with pytest.raises(SheetNotShared) as refused:
            attempt()
        assert f"Share it with {EMAIL}" in str(refused.value)
        assert 'table "t"' in str(refused.value)


def test_an_unknown_spreadsheet_and_unknown_ranges(fake_sheets):
    missing = source(fake_sheets, f"t = {spreadsheet_id()} S")
    with pytest.raises(SheetNotFound, match="There is no spreadsheet with the ID"):
        missing.test()

    sid = shared(fake_sheets, {"Users": [["a"], [1]]}, sizes={"Users": (50, 6)})
    with pytest.raises(SheetRangeInvalid, match='has no sheet named "Userz"; its sheets are: Users'):
        source(fake_sheets, f"t = {sid} Userz!A1:F").test()
    # past the sheet's columns: Google answers 400 INVALID_ARGUMENT, and the message says what it said
    with pytest.raises(SheetRangeInvalid) as refused:
        source(fake_sheets, f"t = {sid} Users!A1:ZZ").preview("SELECT * FROM t")
    assert "exceeds grid limits" in str(refused.value) and "like Users!A1:F" in str(refused.value)
    with pytest.raises(SheetRangeInvalid, match="starts at row 60, below the last row"):
        source(fake_sheets, f"t = {sid} Users!A60:F").test()


def test_a_key_google_does_not_know_is_refused_at_the_token_endpoint(fake_sheets):
    sid = shared(fake_sheets, {"S": [["a"], [1]]})
    stranger = sheets_service_account("not-registered")
    # the stand-in's token endpoint checks the JWT's signature against the keys it knows
    impostor = ACCOUNT | {"private_key": stranger["private_key"]}
    for key in (stranger, impostor):
        with pytest.raises(ServiceAccountRefused, match="Google refused the key"):
            source(fake_sheets, f"t = {sid} S", key=key).test()


def test_the_connection_test_reads_each_header(fake_sheets):
    sid = shared(fake_sheets, {"A": [["x", "y"], [1, 2]], "B": [["z"]]})
    check = source(
        fake_sheets, f"a = {sid} A\nb = https://docs.google.com/spreadsheets/d/{sid}/edit#gid=1000"
    ).test()
    assert check.server_version == "Google Sheets: a (2 columns), b (1 column)"


# --- the list of tables -------------------------------------------------------------------------------------


def test_tables_accept_urls_ids_and_quoted_sheet_names():
    sid = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    tables = parse_tables(
        f"users = https://docs.google.com/spreadsheets/d/{sid}/edit#gid=42\n"
        "# a comment\n\n"
        f"sales = {sid} 'Sales 2024'!B2:D\n"
        f"orders={sid}  Orders"
    )
    assert [(t.name, t.spreadsheet_id, t.range, t.gid) for t in tables] == [
        ("users", sid, "", 42),
        ("sales", sid, "'Sales 2024'!B2:D", None),
        ("orders", sid, "Orders", None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "list at least one"),
        ("users https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUv/edit", "line 1: write it as"),
        ("1users = 1AbCdEfGhIjKlMnOpQrStUv A1:B", '"1users" cannot be a table name'),
        ("users = docs.google.com/document/d/xyz", "neither a spreadsheet's URL nor its ID"),
        (
            "a = 1AbCdEfGhIjKlMnOpQrStUv\nA = 1AbCdEfGhIjKlMnOpQrStUv",
            'line 2: there is already a table named "A"',
        ),
        ("a = 1AbCdEfGhIjKlMnOpQrStUv Users!A1:B2:C", "is not a range"),
    ],
)
def test_a_list_of_tables_that_cannot_be_read_names_the_line(text, message):
    with pytest.raises(SheetsConfigInvalid, match=message):
        parse_tables(text)


# --- time limits and Cancel while a sheet is being read -------------------------------------------------------


@pytest.fixture
def slow_sheets(fake_sheets):
    fake_sheets.state.delay_seconds = 30
    yield fake_sheets
    fake_sheets.state.delay_seconds = 0


def test_reading_a_sheet_stops_at_the_time_limit(slow_sheets):
    sid = shared(slow_sheets, {"S": [["a"], [1]]})
    table = source(slow_sheets, f"t = {sid} S", preview_timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="cancelled after 2 seconds"):
        table.preview("SELECT * FROM t")
    assert time.monotonic() - started < 4


def test_cancel_stops_reading_a_sheet(slow_sheets):
    sid = shared(slow_sheets, {"S": [["a"], [1]]})
    table = source(slow_sheets, f"t = {sid} S")
    outcome: dict = {}

    def run():
        try:
            outcome["rows"] = list(table.stream("SELECT * FROM t"))
        except Exception as error:  # noqa: BLE001 - the test looks at it
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(1.0)
    assert thread.is_alive()
    asked = time.monotonic()
    table.interrupt()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - asked < 3
    assert isinstance(outcome.get("error"), QueryInterrupted), outcome
