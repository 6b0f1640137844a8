"""The rows of a page's tables as people read them: each row's cells as text, whitespace collapsed.

A <details> (a request body one click away) is left out of the text: the tests read what shows first."""

from __future__ import annotations

from html.parser import HTMLParser


class _Rows(HTMLParser):
    def __init__(self, table_class: str | None):
        super().__init__()
        self.table_class = table_class
        self.rows: list[list[str]] = []
        self.depth = 0  # inside a matching table
        self.hidden = 0  # inside a <details>
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            classes = (attrs.get("class") or "").split()
            if self.depth or self.table_class is None or self.table_class in classes:
                self.depth += 1
        elif not self.depth:
            return
        elif tag == "details":
            self.hidden += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "details":
            self.hidden -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None and not self.hidden:
            self.cell.append(data)


def table_rows(html: str, table_class: str | None = None) -> list[list[str]]:
    """Every row (of the tables with this class, or of all tables), as the list of its cells' text."""
    reader = _Rows(table_class)
    reader.feed(html)
    return reader.rows
