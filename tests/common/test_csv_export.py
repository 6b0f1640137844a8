"""CSV exports open as text in a spreadsheet: OWASP's CSV-injection rule, in the one helper every export uses."""

import csv
import io

import pytest

from apps.common.csv_export import csv_lines, safe_cell


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+A", "-2", "@SUM(A1)", "\tx", "\rx", "=", '=HYPERLINK("http://x","y")', "-", "\r\n=1"],
)
def test_text_starting_like_a_formula_gets_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["ada@example.com", "a=b", "1+1", " =1", "Zoë 🚀", "", "'=1", "x-2", "\nx", "２", "＝1"]
)
def test_other_text_is_unchanged(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("number", [-2, 0, 42, -1.5])
def test_the_products_own_numbers_stay_plain(number):
    assert safe_cell(number) == number


def read_back(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def test_csv_lines_reads_back_as_text_with_plain_numbers():
    rows = [["=1+1", 3, "fine"], ["\rx", -2, 'said "=1", then, ok'], [None, 7, "@x"]]
    assert read_back(csv_lines(["key", "count", "message"], rows)) == [
        ["key", "count", "message"],
        ["'=1+1", "3", "fine"],
        ["'\rx", "-2", 'said "=1", then, ok'],
        ["", "7", "'@x"],
    ]


def test_csv_lines_streams_one_line_per_row():
    lines = list(csv_lines(["a"], iter([["=1"], ["b"]])))
    assert lines == ["a\r\n", "'=1\r\n", "b\r\n"]
