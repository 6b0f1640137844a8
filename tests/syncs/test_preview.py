"""The preview as people read it: per operation a table of Intercom fields with old and new values, dates
as dates in the workspace's time zone, events as name, contact, time and metadata, the request body one
click away, and what "skipped" means for Update Only. Test client, DuckDB model, emulator over HTTP."""

import re

import pytest

from apps.common.time_zones import zone_or_utc
from apps.connections.intercom.coercion import FIRST_SECOND, LAST_SECOND
from apps.syncs import services
from apps.syncs.runs.preview_display import ValueFormatter
from tests.fixtures.syncs import m, make_sync
from tests.html_tables import table_rows
from tests.syncs.test_views import run_sync, typed, url

pytestmark = pytest.mark.django_db

COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, signed_up BIGINT"
NAMES = ["id", "email", "name", "plan", "signed_up"]
ADA = (1, "ada@example.com", "Ada", "pro", 1_700_000_000)
ALAN = (2, "alan@example.com", "Alan", "free", 1_600_000_000)


@pytest.fixture
def people(warehouse):
    warehouse.table("people", COLUMNS, [ADA, ALAN])
    model = warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email",))
    return typed(model, id="integer", signed_up="integer")


def user_sync(workspace, model, destination, behavior="upsert", key="email"):
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior=behavior,
        key_column=key,
        key_identifier="external_id" if key == "id" else key,
        mappings=[
            m("name", "string", "name"),
            m("plan", "string", "plan", custom=True),
            m("signed_up_at", "date", "signed_up"),
        ],
    )


def test_an_update_shows_each_changed_field_old_and_new_with_dates_as_dates(
    owner_client, workspace, people, destination, warehouse
):
    sync = user_sync(workspace, people, destination)
    run_sync(workspace, sync)
    linus = (3, "linus@example.com", "<b>Linus</b>", "=1+1", 1_500_000_000)
    warehouse.table("people", COLUMNS, [(1, "ada@example.com", "Ada L.", "team", 1_710_000_000), ALAN, linus])

    response = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True)
    counts = response.context["preview"].counts
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (1, 1, 1)  # the counts stay
    html = response.content.decode()
    updates = table_rows(html, "preview-fields")
    assert ["name", "Ada", "Ada L."] in updates
    assert ["plan custom", "pro", "team"] in updates
    assert ["signed_up_at", "2023-11-14 22:13:20 UTC", "2024-03-09 16:00:00 UTC"] in updates
    assert not any("1700000000" in cell for row in updates for cell in row)  # no epoch number shows
    assert '<time datetime="2024-03-09T16:00:00+00:00" title="1710000000 (UNIX seconds, as sent)">' in html
    # A create: its new values only, as the model has them (escaped, formulas as text).
    assert ["name", "&lt;b&gt;Linus&lt;/b&gt;"] not in updates and ["name", "<b>Linus</b>"] in updates
    assert ["plan custom", "=1+1"] in updates and ["signed_up_at", "2017-07-14 02:40:00 UTC"] in updates
    assert "<b>Linus</b>" not in html
    # The request body, one click away.
    body = re.search(
        r'<details class="raw-payload"><summary>Request body</summary><pre class="payload">(.*?)</pre>',
        html,
        re.S,
    )
    assert body and "&quot;signed_up_at&quot;: 1500000000" in body.group(1)  # the first: the create


def test_dates_show_in_the_workspace_time_zone(owner_client, workspace, people, destination):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    sync = user_sync(workspace, people, destination)
    html = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True).content.decode()
    assert ["signed_up_at", "2023-11-15 07:13:20 JST"] in table_rows(html, "preview-fields")
    assert "dates in Asia/Tokyo" in html


def test_dates_at_the_ends_of_the_calendar_show_in_utc_where_the_zone_cannot():
    config = services.engine_config(
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("signed_up_at", "date", "d")],
        options={},
    )
    east = ValueFormatter(config, [], zone_or_utc("Pacific/Kiritimati"))
    west = ValueFormatter(config, [], zone_or_utc("America/New_York"))
    assert east.date(LAST_SECOND).text == "9999-12-31 23:59:59 UTC"
    assert west.date(FIRST_SECOND).text == "0001-01-01 00:00:00 UTC"
    assert west.date(0).text == "1969-12-31 19:00:00 EST"
    assert west.date(LAST_SECOND + 1).text == str(LAST_SECOND + 1)  # not a date Intercom could hold
    assert east.shown(1_700_000_000, is_date=False).text == "1700000000"  # only date fields are dates


def test_an_event_preview_shows_the_event_name_contact_time_and_metadata(
    owner_client, workspace, people, destination
):
    options = {"event": {"event_name": "signed-up", "contact_column": "email", "contact_key": "email",
                         "created_at_column": "signed_up", "metadata_columns": ["plan", "name"]}}  # fmt: skip
    sync = make_sync(
        workspace,
        people,
        destination,
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        options=options,
    )
    html = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True).content.decode()
    rows = table_rows(html, "preview-events")
    assert rows[0] == ["Event ID", "Event name", "Contact", "Time", "Metadata"]
    assert [
        "1",
        "signed-up",
        "ada@example.com Email",
        "2023-11-14 22:13:20 UTC",
        "plan: pro name: Ada",
    ] in rows
    # The event's configuration, in words.
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Event name “signed-up”" in facts and "Contact email ↔ Email" in facts
    assert "Event time signed_up (numbers as epoch seconds)" in facts and "Metadata plan , name" in facts


def test_update_only_says_what_skipped_means(owner_client, workspace, people, destination, warehouse):
    sync = user_sync(workspace, people, destination, key="id")
    run_sync(workspace, sync)  # created as an upsert: the ledger knows Ada's and Alan's Intercom ids
    sync.behavior = "update_only"
    sync.save()
    warehouse.table(
        "people",
        COLUMNS,
        [
            (1, "ada@example.com", "Ada L.", "pro", 1_700_000_000),
            ALAN,
            (3, "linus@example.com", "Linus", "free", 1_500_000_000),
        ],
    )
    response = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True)
    html = response.content.decode()
    assert "Update Only: contacts not found in Intercom by External ID are skipped, not created." in html
    # Both kinds of update are sampled: Ada's (her id is known) and Linus's (only if Intercom has him).
    assert [r.key for r in response.context["samples"][0].records] == ["1", "3"]
    assert ["name", "Ada", "Ada L."] in table_rows(html, "preview-fields")
    assert "Updated only if Intercom has a record with this External ID; skipped if not." in html
    upsert = user_sync(workspace, people, destination)
    assert (
        "skipped, not created"
        not in owner_client.get(url("sync_preview", workspace, upsert.pk), follow=True).content.decode()
    )


def test_a_long_value_is_cut_in_the_table_and_whole_in_the_request_body(
    owner_client, workspace, people, destination, warehouse
):
    warehouse.table("people", COLUMNS, [(1, "ada@example.com", "é" * 5000, "pro", None)])
    sync = user_sync(workspace, people, destination)
    html = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True).content.decode()
    (name,) = [row for row in table_rows(html, "preview-fields") if row[0] == "name"]
    assert name[1] == "é" * 299 + "…"
    assert "é" * 5000 in html  # the request body has it whole
    assert "signed_up_at" not in [row[0] for row in table_rows(html, "preview-fields")]  # NULL: left out


def test_a_delete_preview_lists_the_records_to_archive(owner_client, workspace, people, destination):
    sync = make_sync(
        workspace,
        people,
        destination,
        object_key="user",
        behavior="delete",
        key_column="id",
        key_identifier="external_id",
    )
    html = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True).content.decode()
    assert "Records to archive" in html
    rows = table_rows(html)
    assert ["External ID", "Intercom id"] in rows and ["1", "found by the key at run time"] in rows
