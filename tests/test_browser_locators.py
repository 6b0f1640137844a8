"""The browser tests find elements by their whole text or accessible name, so that an assertion cannot pass
on help text, a flash message or a menu that merely contains the words (a substring locator with `.first`
once passed whatever the page showed). Read from the test files' syntax trees: no browser needed.

Text locators are always exact. Labels and role names are exact wherever a loose match could pass: in an
assertion, and where `.first`/`.last`/`.nth` picks one of several matches. An action on a label or name
(fill, click) fails by itself when the words match two elements (Playwright's strict mode)."""

import ast
from pathlib import Path

BROWSER_TESTS = Path(__file__).parent / "browser"
ALWAYS_EXACT = {"get_by_text", "get_by_title", "get_by_alt_text"}
EXACT_WHERE_LOOSE_PASSES = {"get_by_label", "get_by_placeholder", "get_by_role"}


def _is_anchored_regex(node: ast.expr) -> bool:
    """re.compile(r"^...$"): a regular expression that must match the element's whole text."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "compile"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and str(node.args[0].value).startswith("^")
        and str(node.args[0].value).endswith("$")
    )


def _is_exact(call: ast.Call) -> bool:
    if any(
        k.arg == "exact" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    ):
        return True
    if call.func.attr == "get_by_role":
        name = next((k.value for k in call.keywords if k.arg == "name"), None)
        return name is None or _is_anchored_regex(name)
    return bool(call.args) and _is_anchored_regex(call.args[0])


def _absent_checks(tree: ast.AST) -> set[int]:
    """Locators inside `expect(locator).to_have_count(0)`: a substring there makes the check stricter."""
    allowed = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "to_have_count"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == 0
            and isinstance(node.func.value, ast.Call)
            and getattr(node.func.value.func, "id", None) == "expect"
        ):
            allowed |= {id(inner) for inner in ast.walk(node.func.value)}
    return allowed


def _where_loose_passes(tree: ast.AST) -> set[int]:
    """Locators asserted on (inside `expect(...)`) or narrowed to one of their matches."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "expect":
            found |= {id(inner) for arg in node.args for inner in ast.walk(arg)}
        if isinstance(node, ast.Attribute) and node.attr in ("first", "last", "nth"):
            found |= {id(inner) for inner in ast.walk(node.value)}
    return found


def loose_locators(source: str) -> list[int]:
    tree = ast.parse(source)
    absent, checked = _absent_checks(tree), _where_loose_passes(tree)
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            node.func.attr in ALWAYS_EXACT
            or (node.func.attr in EXACT_WHERE_LOOSE_PASSES and id(node) in checked)
        )
        and id(node) not in absent
        and not _is_exact(node)
    )


def test_browser_tests_locate_by_whole_text_or_name():
    files = sorted(BROWSER_TESTS.glob("*.py"))
    assert len(files) > 10
    loose = {f.name: lines for f in files if (lines := loose_locators(f.read_text()))}
    assert loose == {}, "use exact=True, a role locator with exact=True, or re.compile(r'^...$')"


def test_the_check_sees_a_loose_locator():
    assert loose_locators('expect(page.get_by_text("Warehouse").first).to_be_visible()') == [1]
    assert loose_locators('page.get_by_text("Request body").click()') == [1]
    assert loose_locators('expect(page.get_by_role("button", name="Copied")).to_be_visible()') == [1]
    assert loose_locators('expect(page.get_by_label("Time zone")).to_have_value("UTC")') == [1]
    assert loose_locators('page.get_by_label("Region").first.select_option("EU")') == [1]
    assert loose_locators('page.get_by_label("Region").fill("EU")') == []  # strict: two matches fail
    assert loose_locators('page.get_by_text(re.compile("saved"))') == [1]
    assert loose_locators('expect(page.get_by_text("Warehouse", exact=True)).to_be_visible()') == []
    assert loose_locators('expect(page.get_by_text(re.compile(r"^Saved\\.$"))).to_be_visible()') == []
    assert loose_locators('expect(page.get_by_role("heading", level=1)).to_be_visible()') == []
    assert loose_locators('expect(page.get_by_text("{%")).to_have_count(0)') == []
