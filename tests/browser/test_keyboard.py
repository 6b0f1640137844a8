"""The wizard with the keyboard alone: Tab to move, type into fields, Space and the arrow keys to choose,
Enter to go on. No clicks."""

import pytest
from playwright.sync_api import expect

from apps.syncs.models import Sync
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def people(warehouse):
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR", [(1, "ada@example.com", "Ada")])
    model = warehouse.model("SELECT * FROM people", "id", ["id", "email", "name"])
    model.columns = [{"name": "id", "db_type": "INTEGER", "kind": "integer"},
                     {"name": "email", "db_type": "VARCHAR", "kind": "string"},
                     {"name": "name", "db_type": "VARCHAR", "kind": "string"}]  # fmt: skip
    model.save()
    return model


def tab_to(page, css: str, most: int = 60) -> None:
    """Press Tab until the focused element matches `css`; fail when it never does."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(css) => document.activeElement.matches(css)", css):
            return
    pytest.fail(f"Tab never reached {css}")


def focus_is_visible(page) -> bool:
    """The focused element draws an outline or a ring (the user can see where they are)."""
    return page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }""")


def test_the_wizard_with_the_keyboard_only(
    page, shot, live_server, live_intercom, run_worker, workspace, owner, people, destination
):
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/new/")

    # 1. The only source and model are chosen already; Tab to Next, Enter.
    tab_to(page, "#id_model")
    expect(page.locator("#id_model")).to_have_value(str(people.pk))
    tab_to(page, "button[value=next]:not(.default-submit)")
    assert focus_is_visible(page)
    shot("keyboard-1-data")
    page.keyboard.press("Enter")

    # 2. The object: arrow keys move within the radio group; Space keeps the choice.
    expect(page.get_by_role("heading", name="Where do you want to sync data to?", exact=True)).to_be_visible()
    tab_to(page, "input[name=object_key]")
    page.keyboard.press("ArrowDown")  # User → Event
    page.keyboard.press("ArrowUp")  # back to User
    page.keyboard.press("Space")
    expect(page.locator("input[name=object_key][value=user]")).to_be_checked()
    shot("keyboard-2-destination")
    tab_to(page, "button[value=next]:not(.default-submit)")
    page.keyboard.press("Enter")

    # 3. Keep the safe start (Update Only) and the recommended key (id ↔ External ID).
    expect(
        page.get_by_role("heading", name="How should changes to the source be synced?", exact=True)
    ).to_be_visible()
    tab_to(page, "input[name=behavior]")
    expect(page.locator("input[name=behavior][value=update_only]")).to_be_checked()
    assert focus_is_visible(page)
    shot("keyboard-3-behavior")
    tab_to(page, "button[value=next]:not(.default-submit)")
    page.keyboard.press("Enter")

    # 4. Accept the suggested mappings (email → Email, name → Name), then Enter in a field: Next.
    expect(page.get_by_role("heading", name="Which fields should be updated?", exact=True)).to_be_visible()
    tab_to(page, "button[value=accept_all]")
    page.keyboard.press("Enter")
    expect(page.locator("select[name=map-0-column]")).to_have_value("email")
    expect(page.locator("select[name=map-1-target]")).to_have_value("std:name")
    tab_to(page, "#id_name")
    page.keyboard.press("Control+A")
    page.keyboard.type("Keyboard sync")
    shot("keyboard-4-fields")
    page.keyboard.press("Enter")

    # 5. The preview; Tab to "Save and schedule", Space.
    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Planned operations", exact=True)).to_be_visible(
        timeout=30_000
    )  # planned by the worker, which may start a while after the page on a busy machine
    tab_to(page, "button[value=schedule]")
    assert focus_is_visible(page)
    shot("keyboard-5-preview")
    page.keyboard.press("Space")
    expect(page.get_by_text("Sync “Keyboard sync” saved. Choose when it runs.", exact=True)).to_be_visible()
    shot("keyboard-saved")
    sync = Sync.objects.for_workspace(workspace).get()
    assert (sync.object_key, sync.behavior, sync.key_column, sync.key_identifier) == (
        "user",
        "update_only",
        "id",
        "external_id",
    )
    # Exactly the two suggestions accepted with the keyboard, in the order the page showed them.
    assert sync.mappings == [
        {"target": "email", "field_type": "string", "custom": False, "on_null": "keep", "column": "email"},
        {"target": "name", "field_type": "string", "custom": False, "on_null": "keep", "column": "name"},
    ]
