"""CSV files the product writes, safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula, so a warehouse value or an Intercom message such as `=HYPERLINK(…)` would run on the
reader's machine. OWASP's CSV-injection rule: prefix such a cell with a single quote, which makes the
spreadsheet show it as text. Every CSV export goes through `csv_lines` (or `safe_cell`), so the rule lives
in one place.

Text is treated as data from users, warehouses or Intercom and neutralised, even `-2`: a key typed in SQL is
not the product's number. Numbers the product itself counts (ids, counts) are passed as `int` and stay plain.
"""

import csv
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """`value` as a spreadsheet shows it as text: text starting like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written, so csv.writer produces one line at a time for streaming."""

    def write(self, value):
        return value


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text of `header` then `rows`, one line at a time (for a StreamingHttpResponse), every cell
    passed through `safe_cell` and quoted by the csv writer as usual."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
