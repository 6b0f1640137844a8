"""The model editor in the browser: the schema browser lists the warehouse's tables and columns, a search
narrows it, a click inserts a name into the SQL, which CodeMirror highlights (under the strict
Content-Security-Policy: any violation fails the test), the form posts what the editor holds, and a save
with repeated and missing keys warns with the keys, as text. At 1,280 and 390 px, without horizontal
overflow."""

import re

import pytest
from playwright.sync_api import expect

from apps.models.models import SqlModel
from tests.browser.conftest import log_in
from tests.factories import SourceConnectionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PEOPLE = [("b@x.com", "B", "pro"), ("<script>alert(1)</script>", "S", "free"), (None, "N", "free"),
          ("zoë@x.com", "Z", "pro"), ("b@x.com", "B2", "pro"), ("c@x.com", "C", "team"),
          ("<script>alert(1)</script>", "S2", "free")]  # fmt: skip
WARNING = (
    "Key check of “email”: 2 keys appear more than once: '<script>alert(1)</script>' (2 rows), 'b@x.com' "
    "(2 rows); 1 row has no key (NULL). Syncs skip these rows as invalid records: make the key unique and "
    "never empty, or choose another key column."
)


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_browse_insert_highlight_and_save_with_key_warnings(
    page, shot, live_server, workspace, owner, warehouse, demo_duckdb
):
    warehouse.table("people", "email VARCHAR, name VARCHAR, plan VARCHAR", PEOPLE)
    warehouse.table("orders", "order_id INTEGER, email VARCHAR, amount DECIMAL(10, 2)", [(1, "b@x.com", 9.5)])
    warehouse.source.name = "Warehouse"
    warehouse.source.save()
    SourceConnectionFactory(workspace=workspace, name="Zed demo", type="duckdb", config={"path": demo_duckdb})

    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/models/new/")
    browser = page.get_by_role("complementary", name="Tables", exact=True)
    expect(browser.get_by_role("button", name="people", exact=True)).to_be_visible()
    expect(browser.get_by_text("2 tables, 6 columns.", exact=True)).to_be_visible()

    # CodeMirror replaced the textarea (which stays in the form, hidden), and is labelled as the field was.
    editor = page.get_by_role("textbox", name="SQL", exact=True)
    expect(editor).to_be_visible()
    expect(page.locator(".sql-editor-host .cm-editor")).to_have_count(1)
    expect(page.locator("#id_sql")).to_be_hidden()

    editor.click()
    page.keyboard.type("SELECT ")
    search = page.get_by_role("searchbox", name="Search tables and columns", exact=True)
    search.fill("amou")
    expect(browser.get_by_role("button", name="amount", exact=True)).to_be_visible()  # orders opened
    expect(browser.get_by_role("button", name="people", exact=True)).to_be_hidden()
    search.fill("emai")
    expect(browser.get_by_role("button", name="people", exact=True)).to_be_visible()
    expect(browser.get_by_role("button", name="name", exact=True)).to_be_hidden()  # only the matching column
    shot("searched-1280")
    browser.locator("#catalog-1-2").get_by_role("button", name="email", exact=True).click()  # people's
    page.keyboard.type(", name, plan FROM ")
    search.fill("")
    browser.get_by_role("button", name="people", exact=True).click()
    expect(page.locator("#id_sql")).to_have_value("SELECT email, name, plan FROM main.people")

    # Highlighted: the keywords are their own styled spans, coloured unlike the names around them.
    keyword = page.locator(".cm-line span", has_text="SELECT")
    expect(keyword).to_have_count(1)
    colours = page.evaluate(
        """() => { const line = document.querySelector('.sql-editor-host').shadowRoot.querySelector('.cm-line');
        const span = [...line.querySelectorAll('span')].find(s => s.textContent === 'SELECT');
        return [getComputedStyle(span).color, getComputedStyle(line).color]; }"""
    )
    assert colours[0] != colours[1], colours

    # Tab leaves the editor (it does not type a tab): the keyboard can move on.
    editor.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.sql-editor-host') === null")

    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Preview 7 rows in [0-9.]+ s$"))).to_be_visible()
    page.get_by_label("Name", exact=True).fill("People")
    page.get_by_label("Primary-key column", exact=True).fill("email")
    shot("before-save-1280")
    page.get_by_role("button", name="Save model", exact=True).click()

    expect(page.get_by_text("Model “People” saved with 3 columns.", exact=True)).to_be_visible()
    expect(page.get_by_text(WARNING, exact=True)).to_be_visible()  # the keys as text, not markup
    assert (
        SqlModel.objects.for_workspace(workspace).get(name="People").sql
        == "SELECT email, name, plan FROM main.people"
    )
    assert no_horizontal_overflow(page)
    shot("saved-with-key-warning-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("button", name="people", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="SQL", exact=True)).to_be_visible()
    assert no_horizontal_overflow(page)
    shot("editor-390")
    page.get_by_role("searchbox", name="Search tables and columns", exact=True).fill("plan")
    expect(page.get_by_role("button", name="plan", exact=True)).to_be_visible()
    assert no_horizontal_overflow(page)
    shot("searched-390")

    # Another source chosen: the browser lists its tables instead.
    page.get_by_role("searchbox", name="Search tables and columns", exact=True).fill("")
    page.get_by_label("Source", exact=True).select_option(label="Zed demo")
    expect(page.get_by_role("button", name="users", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="people", exact=True)).to_have_count(0)
