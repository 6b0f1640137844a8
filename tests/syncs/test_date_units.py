"""The epoch unit of a date mapping (and of an event's time), chosen in the wizard: saved, restored, shown,
and what the plan makes of the numbers. Through the test client, against DuckDB and the emulator."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from apps.syncs.models import Sync
from tests.fixtures.syncs import m, make_sync
from tests.html_tables import table_rows
from tests.syncs.mapper_inputs import mapped
from tests.syncs.test_views import answer, run_sync, step_url, through_behavior, typed, url

pytestmark = pytest.mark.django_db

MS = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC, in epoch milliseconds
SHOWN = "2023-11-14 22:13:20 UTC"
COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, signed_up BIGINT, seen_at TIMESTAMP"
NAMES = ["id", "email", "name", "signed_up", "seen_at"]


@pytest.fixture
def people(warehouse):
    warehouse.table("people", COLUMNS, [(1, "ada@example.com", "Ada", MS, dt.datetime(2024, 1, 2, 3, 4, 5))])
    model = warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email",))
    return typed(model, id="integer", signed_up="integer", seen_at="timestamp")


def unit_select(html: str, index: int) -> str:
    match = re.search(rf'<select name="map-{index}-unit"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no unit choice for mapping {index}"
    return match.group(1)


def date_unit_box(html: str, field_id: str) -> str:
    match = re.search(
        rf'<div class="date-unit" data-date-unit-for="{field_id}".*?unit-none.*?</small>', html, re.S
    )
    assert match, f"no date unit for {field_id}"
    return match.group(0)


def test_the_mapper_saves_restores_and_shows_the_unit_of_a_date_column(
    owner_client, workspace, people, destination
):
    through_behavior(owner_client, workspace, people, destination)
    page = owner_client.get(step_url(workspace, "fields")).content.decode()
    assert "Numbers in this column are" in page
    data = mapped(("std:name", "name"), ("std:signed_up_at", "signed_up", {"unit": "milliseconds"}),
                  # A timestamp column holds dates: a unit posted for it is not kept.
                  ("std:last_seen_at", "seen_at", {"unit": "milliseconds"}), name="People", action="check")  # fmt: skip
    page = answer(owner_client, workspace, "fields", data).content.decode()
    assert '<option value="milliseconds" selected>epoch milliseconds</option>' in unit_select(page, 1)
    assert 'name="map-0-unit"' not in page  # text fields have no unit

    response = answer(owner_client, workspace, "fields", data | {"action": "next"})
    assert response.status_code == 302, response.context["form"].rows
    preview = owner_client.get(step_url(workspace, "preview"), follow=True).content.decode()
    assert "numbers as epoch milliseconds" in preview and "timestamp column, read as a date" in preview
    assert ["signed_up_at", SHOWN] in table_rows(preview, "preview-fields")

    answer(owner_client, workspace, "preview", {"action": "schedule"})
    sync = Sync.objects.for_workspace(workspace).get()
    by_target = {mapping["target"]: mapping for mapping in sync.mappings}
    assert by_target["signed_up_at"]["unit"] == "milliseconds"
    assert "unit" not in by_target["last_seen_at"] and "unit" not in by_target["name"]
    detail = owner_client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert "numbers as epoch milliseconds" in detail

    response = owner_client.get(reverse("sync_edit", args=[workspace.slug, sync.pk]))
    page = owner_client.get(response.url).content.decode()
    rows = {r.target_slug: r.index for r in owner_client.get(response.url).context["form"].rows}
    assert '<option value="milliseconds" selected>' in unit_select(page, rows["std:signed_up_at"])
    seen = date_unit_box(page, f"map-{rows['std:last_seen_at']}-column")  # a timestamp: no unit to choose
    assert re.search(r'<label class="unit-choice" hidden>', seen)
    assert re.search(r'<small class="muted unit-none">Dates: read as a date; no unit needed', seen)


def test_seconds_stay_the_default_and_are_not_stored(owner_client, workspace, people, destination):
    through_behavior(owner_client, workspace, people, destination)
    answer(
        owner_client,
        workspace,
        "fields",
        mapped(("std:signed_up_at", "signed_up", {"unit": "seconds"}), name="People"),
    )
    answer(owner_client, workspace, "preview", {"action": "schedule"})
    (mapping,) = Sync.objects.for_workspace(workspace).get().mappings
    assert "unit" not in mapping  # stored JSON as it was before units existed


def test_an_unknown_unit_is_refused_on_its_row(owner_client, workspace, people, destination):
    through_behavior(owner_client, workspace, people, destination)
    response = answer(
        owner_client,
        workspace,
        "fields",
        mapped(("std:signed_up_at", "signed_up", {"unit": "microseconds"}), name="People"),
    )
    assert response.status_code == 422
    row = next(r for r in response.context["form"].rows if r.target_slug == "std:signed_up_at")
    assert row.error == "Say what the numbers in this column are: epoch seconds or epoch milliseconds."


def test_milliseconds_plan_as_the_date_and_seconds_say_to_choose_milliseconds(
    client, owner_client, workspace, people, destination, intercom_emulator, intercom_workspace
):
    millis = make_sync(
        workspace,
        people,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("signed_up_at", "date", "signed_up") | {"unit": "milliseconds"}],
    )
    preview = owner_client.get(url("sync_preview", workspace, millis.pk), follow=True)
    (created,) = preview.context["preview"].samples["created"]
    assert created.payload["signed_up_at"] == 1_700_000_000
    assert ["signed_up_at", SHOWN] in table_rows(preview.content.decode(), "preview-fields")
    run_sync(workspace, millis)
    (contact,) = intercom_emulator.contacts(intercom_workspace.id_code)
    assert contact["signed_up_at"] == 1_700_000_000  # what the run sent: the same date

    seconds = make_sync(
        workspace,
        people,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("signed_up_at", "date", "signed_up")],
    )
    preview = owner_client.get(url("sync_preview", workspace, seconds.pk), follow=True)
    assert preview.context["preview"].counts["invalid"] == 1
    (invalid,) = preview.context["preview"].invalid
    assert invalid.reason == (
        "signed_up: 1700000000000 is not a date or timestamp (1700000000000 seconds is after the year 9999; "
        "if the column holds epoch milliseconds, choose milliseconds on the mapping)"
    )
    assert "choose milliseconds on the mapping" in preview.content.decode()


def test_the_event_time_unit_is_saved_restored_and_used(owner_client, workspace, people, destination):
    through_behavior(
        owner_client,
        workspace,
        people,
        destination,
        object_key="event",
        behavior="send",
        key_identifier="event_id",
        key_column="id",
    )
    page = owner_client.get(step_url(workspace, "fields")).content.decode()
    assert 'name="opt-created_at_unit"' in page and "Numbers in this column are" in page
    data = {"name": "Signups", "opt-event_name": "signed-up", "opt-contact_column": "email",
            "opt-contact_key": "email", "opt-created_at_column": "signed_up",
            "opt-created_at_unit": "milliseconds", "opt-first_run": "send_all"}  # fmt: skip
    assert answer(owner_client, workspace, "fields", data).status_code == 302
    preview = owner_client.get(step_url(workspace, "preview"), follow=True).content.decode()
    assert "numbers as epoch milliseconds" in preview
    assert table_rows(preview, "preview-events")[1][3] == SHOWN
    answer(owner_client, workspace, "preview", {"action": "schedule"})
    sync = Sync.objects.for_workspace(workspace).get()
    assert sync.options["event"]["created_at_unit"] == "milliseconds"

    response = owner_client.get(reverse("sync_edit", args=[workspace.slug, sync.pk]))
    options = owner_client.get(response.url).context["form"].options
    assert options["created_at_unit"].value() == "milliseconds"

    # A timestamp column is read as a date: the unit is not stored, and the page says so.
    data |= {"opt-created_at_column": "seen_at"}
    response = answer(owner_client, workspace, "fields", data, sync)
    assert response.status_code == 302
    page = owner_client.get(step_url(workspace, "fields", sync)).content.decode()
    box = date_unit_box(page, "id_opt-created_at_column")
    assert '<div class="unit-choice" hidden>' in box and "read as a date; no unit needed" in box
    answer(owner_client, workspace, "preview", {"action": "schedule"}, sync)
    sync.refresh_from_db()
    assert "created_at_unit" not in sync.options["event"]


def test_a_date_constant_is_read_in_the_unit_of_its_row(owner_client, workspace, people, destination):
    through_behavior(owner_client, workspace, people, destination)
    data = mapped(("std:signed_up_at", f"={MS}"), name="People")
    response = answer(owner_client, workspace, "fields", data)
    assert response.status_code == 422
    row = next(r for r in response.context["form"].rows if r.target_slug == "std:signed_up_at")
    assert "choose milliseconds on the mapping" in row.error
    response = answer(owner_client, workspace, "fields", data | {"map-0-unit": "milliseconds"})
    assert response.status_code == 302
    preview = owner_client.get(step_url(workspace, "preview"), follow=True).content.decode()
    assert ["signed_up_at", SHOWN] in table_rows(preview, "preview-fields")
