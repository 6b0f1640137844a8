"""Record lookup, end to end against the emulator over HTTP: every record a run sent, refused or skipped is
kept with the fields sent and Intercom's answer; the run page finds any of them by key, email or Intercom
id whatever its outcome (an unchanged one through the ledger); the record page lists, for one key, every
run that touched it, newest first. Kept SYNC_RECORD_RESULTS_DAYS days, like any record result."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.syncs.engine.outcomes import Outcome, RunCounts
from apps.syncs.models import RecordOutcome, RecordResult
from apps.syncs.runs import services as run_services
from apps.syncs.tasks import purge_record_results_task
from tests.factories import SyncFactory, SyncRunFactory
from tests.fixtures.syncs import m, make_sync
from tests.html_tables import table_rows
from tests.syncs.test_views import run_sync, typed, url

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, external_id VARCHAR, seats VARCHAR, signed_up BIGINT"
NAMES = ["id", "email", "name", "external_id", "seats", "signed_up"]
DIRTY_NAME = "<script>alert(1)</script> Zoë 🚀"
DIRTY_KEY = "<b>ü-4</b>"
ROWS = [
    (1, "p1@example.com", "Ada", "u-1", None, 1_700_000_000),  # Intercom has it already: matched existing
    (2, "p2@example.com", "Alan", "u-2", None, 1_600_000_000),  # created
    (3, "p3@example.com", "Grace", "u-3", "ten", None),  # seats is an integer in Intercom: rejected
    (4, "p4@example.com", DIRTY_NAME, DIRTY_KEY, None, None),  # created, with HTML-looking values
    (5, "p5@example.com", "Nokey", None, None, None),  # invalid: no key
]


def user_sync(workspace, warehouse, rows, destination, behavior="upsert"):
    warehouse.table("people", COLUMNS, rows)
    model = typed(
        warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email", "external_id")),
        signed_up="integer",
    )
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior=behavior,
        key_column="external_id",
        key_identifier="external_id",
        mappings=[
            m("email", "string", "email"),
            m("name", "string", "name"),
            m("seats", "string", "seats", custom=True),
            m("signed_up_at", "date", "signed_up"),
        ],
    )


def search(client, workspace, run, q="", outcome=""):
    response = client.get(url("run_detail", workspace, run.pk), {"q": q, "outcome": outcome})
    return response, [(r["key"], r["outcome"]) for r in response.context["results"]]


def record_page(client, workspace, sync, key, **params):
    response = client.get(url("sync_record", workspace, sync.pk), {"key": key, **params})
    assert response.status_code == 200
    return response.content.decode()


def kept(run) -> dict[str, int]:
    results = RecordResult.objects.for_workspace(run.workspace).filter(run=run)
    return {o: results.filter(outcome=o).count() for o in RecordOutcome.values}


@pytest.fixture
def first_run(workspace, warehouse, destination, intercom_emulator, intercom_workspace):
    with intercom_emulator.client(intercom_workspace.token) as api:
        existing = api.post(
            "/contacts", json={"role": "user", "external_id": "u-1", "email": "p1@example.com"}
        )
        assert existing.status_code == 200
    sync = user_sync(workspace, warehouse, ROWS, destination)
    run = run_sync(workspace, sync)
    assert RunCounts.from_json(run.counts) == RunCounts(
        source_rows=5, created=2, updated=1, matched_existing=1, rejected=1, invalid=1, api_calls=5
    )
    return sync, run


def test_every_record_of_a_run_is_kept_with_what_was_sent_and_intercoms_answer(
    workspace, first_run, intercom_emulator, intercom_workspace
):
    sync, run = first_run
    counts = RunCounts.from_json(run.counts)
    # One result per record given an outcome by a decision or a call: the page's counts are the run's.
    assert kept(run) == {o: counts[o] if o in counts.to_json() else 0 for o in RecordOutcome.values}
    held = {c["external_id"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert set(held) == {"u-1", "u-2", DIRTY_KEY}
    results = {r.key: r for r in RecordResult.objects.for_workspace(workspace).filter(run=run)}
    for key in held:  # Intercom's ids, as Intercom holds them
        assert results[key].destination_id == held[key]["id"]
    assert results["u-1"].already_existed and not results["u-2"].already_existed
    assert results["u-1"].payload == {"email": "p1@example.com", "external_id": "u-1", "name": "Ada",
                                      "role": "user", "signed_up_at": 1_700_000_000}  # fmt: skip
    assert results[DIRTY_KEY].payload["name"] == held[DIRTY_KEY]["name"] == DIRTY_NAME
    assert results["u-3"].payload["custom_attributes"] == {"seats": "ten"}  # what Intercom refused
    assert (results["u-3"].code, results["u-3"].destination_id) == ("parameter_invalid", "")
    assert results[""].payload is None  # invalid: nothing sent


def test_the_run_page_finds_any_record_by_key_email_or_intercom_id(owner_client, workspace, first_run):
    sync, run = first_run
    u1 = RecordResult.objects.for_workspace(workspace).get(run=run, key="u-1")
    assert search(owner_client, workspace, run, "p2@example.com")[1] == [("u-2", "created")]
    assert search(owner_client, workspace, run, "P3@EXAMPLE")[1] == [("u-3", "rejected")]
    assert search(owner_client, workspace, run, u1.destination_id)[1] == [("u-1", "updated")]
    assert search(owner_client, workspace, run, "u-1")[1] == [("u-1", "updated")]
    assert search(owner_client, workspace, run, "ü-4")[1] == [(DIRTY_KEY, "created")]
    response, found = search(owner_client, workspace, run, outcome="updated")
    assert found == [("u-1", "updated")]
    assert {value for value, _ in response.context["outcomes"]} == set(RecordOutcome.values)
    html = response.content.decode()
    assert "matched existing" in html
    record_url = url("sync_record", workspace, sync.pk) + "?key=u-1"
    assert f'href="{record_url}"' in html
    # Every record is listed, and the dirty ones are escaped.
    html = owner_client.get(url("run_detail", workspace, run.pk)).content.decode()
    assert len(table_rows(html, "record-results")) == 1 + 5
    assert DIRTY_KEY not in html and "&lt;b&gt;ü-4&lt;/b&gt;" in html
    assert "?key=%3Cb%3E%C3%BC-4%3C%2Fb%3E" in html


def test_the_record_page_shows_the_fields_sent_and_intercoms_answer(owner_client, workspace, first_run):
    sync, run = first_run
    html = record_page(owner_client, workspace, sync, "u-1")
    fields = table_rows(html, "sent-fields")
    assert ["signed_up_at", "2023-11-14 22:13:20 UTC"] in fields  # a date as a date, not 1700000000
    assert ["name", "Ada"] in fields and ["email", "p1@example.com"] in fields
    assert f'href="{url("run_detail", workspace, run.pk)}"' in html and "matched existing" in html
    u1 = RecordResult.objects.for_workspace(workspace).get(run=run, key="u-1")
    assert html.count(u1.destination_id) >= 2  # Intercom's answer, and the ledger's state now

    rejected = record_page(owner_client, workspace, sync, "u-3")
    assert "Rejected" in rejected and "parameter_invalid" in rejected
    assert ["seats custom", "ten"] in table_rows(rejected, "sent-fields")

    dirty = record_page(owner_client, workspace, sync, DIRTY_KEY)
    assert DIRTY_KEY not in dirty and "<script>alert(1)" not in dirty
    assert "&lt;b&gt;ü-4&lt;/b&gt;" in dirty and ["name", DIRTY_NAME] in table_rows(dirty, "sent-fields")

    nothing = record_page(owner_client, workspace, sync, "nobody")
    assert "never had Intercom accept or refuse a record with this key" in nothing


def test_a_rerun_lists_the_records_it_sent_and_finds_the_unchanged_ones_through_the_ledger(
    owner_client, workspace, warehouse, first_run, intercom_emulator, intercom_workspace
):
    sync, first = first_run
    warehouse.table(
        "people", COLUMNS, [(1, "p1@example.com", "Ada L.", "u-1", None, 1_700_000_000), *ROWS[1:]]
    )
    second = run_sync(workspace, sync)
    counts = RunCounts.from_json(second.counts)
    assert (counts.updated, counts.unchanged, counts.rejected, counts.invalid) == (1, 2, 1, 1)
    assert kept(second)[Outcome.UPDATED] == 1 and sum(kept(second).values()) == 3  # the unchanged: none

    response, found = search(owner_client, workspace, second, "p2@example.com")
    assert found == []
    html = response.content.decode()
    assert f'created in <a href="{url("run_detail", workspace, first.pk)}">run {first.pk}</a>' in html
    by_key = search(owner_client, workspace, second, "u-2")[0].content.decode()
    alan = next(
        c for c in intercom_emulator.contacts(intercom_workspace.id_code) if c["external_id"] == "u-2"
    )
    assert "Not sent in this run: unchanged, or not in the model" in by_key and alan["id"] in by_key

    page = record_page(owner_client, workspace, sync, "u-1")
    runs = [int(n) for n in re.findall(r'<h3><a href="[^"]+">Run (\d+)</a>', page)]
    assert runs == [second.pk, first.pk]  # newest first
    assert ["name", "Ada L."] in table_rows(page, "sent-fields")
    alan_page = record_page(owner_client, workspace, sync, "u-2")
    assert alan_page.count('<article class="record-run">') == 1  # unchanged in the second run: not listed


def test_update_only_skipped_records_are_found_with_their_reason(
    owner_client, workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = user_sync(workspace, warehouse, ROWS[:2], destination, behavior="update_only")
    run = run_sync(workspace, sync)
    assert (
        RunCounts.from_json(run.counts).skipped == 2
        and intercom_emulator.contacts(intercom_workspace.id_code) == []
    )
    assert search(owner_client, workspace, run, "p2@")[1] == [("u-2", "skipped")]
    page = record_page(owner_client, workspace, sync, "u-2")
    assert "Update Only: no Intercom contact with External ID u-2." in page and "Skipped" in page


def test_record_details_expire_with_the_retention_setting(owner_client, workspace, first_run, settings):
    sync, run = first_run
    settings.SYNC_RECORD_RESULTS_DAYS = 7
    assert run_services.record_results_purge(now=timezone.now() + timedelta(days=6)) == 0
    RecordResult.objects.for_workspace(workspace).update(created_at=timezone.now() - timedelta(days=8))
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("purge_record_results_task")
    )
    assert entry["schedule"] <= 24 * 3600
    assert purge_record_results_task() == 5  # what beat runs: the bodies sent go too
    assert not RecordResult.objects.for_workspace(workspace).exists()
    page = record_page(owner_client, workspace, sync, "u-1")
    assert "No run of this sync in the last 7 days" in page and "Last synced" in page  # the ledger stays


def test_the_record_page_is_scoped_to_the_workspace(client, owner_client, workspace):
    other = SyncRunFactory()  # another workspace's run and sync
    RecordResult.objects.create(workspace=other.workspace, run=other, key="u-9", outcome="created")
    assert owner_client.get(url("sync_record", workspace, other.sync.pk), {"key": "u-9"}).status_code == 404
    mine = SyncFactory(workspace=workspace)
    assert "u-9</code></a>" not in record_page(owner_client, workspace, mine, "u-9")


def test_an_event_is_found_by_its_contacts_email_and_shown_as_an_event(
    owner_client, workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.post("/contacts", json={"role": "user", "email": "p1@example.com"})
    warehouse.table("people", COLUMNS, ROWS[:1])
    model = typed(warehouse.model("SELECT * FROM people", "id", NAMES), signed_up="integer")
    options = {"event": {"event_name": "signed-up", "contact_column": "email", "contact_key": "email",
                         "created_at_column": "signed_up", "metadata_columns": ["name"]}}  # fmt: skip
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        options=options,
    )
    run = run_sync(workspace, sync)
    assert (
        RunCounts.from_json(run.counts).sent == 1
        and len(intercom_emulator.events(intercom_workspace.id_code)) == 1
    )
    assert search(owner_client, workspace, run, "P1@example")[1] == [("1", "sent")]
    page = record_page(owner_client, workspace, sync, "1")
    assert ["signed-up", "p1@example.com Email", "2023-11-14 22:13:20 UTC", "name: Ada"] in table_rows(
        page, "preview-events"
    )
