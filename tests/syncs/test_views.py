"""The sync pages through the test client, against a DuckDB model and the Intercom emulator over HTTP."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.syncs import services
from apps.syncs.execution import sync_run_execute
from apps.syncs.models import LedgerEntry, RecordResult, RunStatus, Sync, SyncRun
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import SyncFactory, SyncRunFactory
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}

USERS = [
    (1, "ada@example.com", "Ada", "pro", 3),
    (2, "alan@example.com", "Alan", "free", 1),
    (3, "grace@example.com", "Grace", "team", 5),
]
COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, seats INTEGER"
NAMES = ["id", "email", "name", "plan", "seats"]


@pytest.fixture
def users_model(warehouse):
    warehouse.table("users", COLUMNS, USERS)
    return warehouse.model("SELECT * FROM users", "id", NAMES, unique=("email",))


@pytest.fixture
def users_sync(workspace, users_model, destination):
    return make_sync(workspace, users_model, destination, name="Users to Intercom", object_key="user",
                     behavior="upsert", key_column="email", key_identifier="email",
                     mappings=[m("name", "string", "name"), m("plan", "string", "plan", custom=True)])  # fmt: skip


def url(name, workspace, *args):
    return reverse(name, args=[workspace.slug, *args])


def as_role(client, workspace, role):
    client.force_login(member_of(workspace, role).user)
    return client


def step_one(model, destination, **overrides):
    data = {"name": "Users", "model": model.pk, "destination": destination.pk, "object_key": "user",
            "behavior": "upsert", "key_identifier": "email", "key_column": "email"}  # fmt: skip
    return data | overrides


def run_sync(workspace, sync):
    return sync_run_execute(run_id=services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk)


# --- the list and the sync page ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees_buttons"), [(Role.OWNER, True), (Role.VIEWER, False)])
def test_list_and_sync_page_render_for_each_role(client, workspace, users_sync, role, sees_buttons):
    run_sync(workspace, users_sync)
    as_role(client, workspace, role)
    listing = client.get(url("sync_list", workspace)).content.decode()
    assert "Users to Intercom" in listing and "Succeeded" in listing and "User" in listing
    assert ("New sync" in listing) is sees_buttons
    page = client.get(url("sync_detail", workspace, users_sync.pk)).content.decode()
    assert "Run history" in page and "<code>email</code> ↔ Email" in page
    assert ("Run now" in page) is sees_buttons and ("Full resync" in page) is sees_buttons
    assert ">Edit<" in page if sees_buttons else ">Edit<" not in page
    assert "Preview" in page  # a viewer may look at the plan


# --- create and edit ------------------------------------------------------------------------------------


def test_create_in_two_steps_then_save(owner_client, workspace, users_model, destination):
    first = owner_client.post(url("sync_create", workspace), step_one(users_model, destination))
    html = first.content.decode()
    assert first.status_code == 200
    assert 'name="col:std:name"' in html and 'name="col:cus:plan"' in html  # standard + custom attributes
    assert 'name="col:std:email"' not in html  # set by the sync key
    assert "seats (string)" in html  # columns with their kinds
    data = step_one(users_model, destination) | {"mapper": "1", "action": "save", "col:std:name": "name",
                                                 "col:cus:seats": "seats", "const:cus:plan": "trial"}  # fmt: skip
    saved = owner_client.post(url("sync_create", workspace), data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    sync = Sync.objects.for_workspace(workspace).get()
    assert saved.url == url("sync_detail", workspace, sync.pk)
    assert {(x["target"], x.get("column"), x.get("constant")) for x in sync.mappings} == {
        ("name", "name", None), ("seats", "seats", None), ("plan", None, "trial")
    }  # fmt: skip


def test_a_blank_key_column_uses_the_models_primary_key(owner_client, workspace, users_model, destination):
    data = step_one(
        users_model, destination, object_key="company", key_identifier="company_id", key_column=""
    )
    data |= {"mapper": "1", "action": "save", "col:std:name": "name"}
    assert owner_client.post(url("sync_create", workspace), data).status_code == 302
    assert Sync.objects.for_workspace(workspace).get().key_column == "id"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"object_key": "company", "behavior": "update_only"}, "behavior", "cannot use"),
        ({"key_identifier": "company_id"}, "key_identifier", "cannot be matched"),
        ({"key_column": "name"}, "key_column", "must be the model's unique key"),
        ({"key_column": "nope"}, "key_column", "not in the model's columns"),
    ],
)
def test_step_one_problems_are_next_to_their_field(
    owner_client, workspace, users_model, destination, overrides, field, words
):
    response = owner_client.post(
        url("sync_create", workspace), step_one(users_model, destination, **overrides)
    )
    assert response.status_code == 422
    assert words in " ".join(response.context["setup"].errors[field])
    assert 'value="Users"' in response.content.decode()  # what was typed stays


def test_step_two_problems_are_next_to_their_row_and_values_stay(
    owner_client, workspace, users_model, destination
):
    data = step_one(users_model, destination) | {
        "mapper": "1", "action": "save", "const:cus:seats": "many", "col:std:name": "name",
        "col:std:phone": "plan", "const:std:phone": "123",
    }  # fmt: skip
    response = owner_client.post(url("sync_create", workspace), data)
    assert response.status_code == 422
    rows = {row.slug: row for row in response.context["rows"]}
    assert "not both" in rows["std:phone"].error
    html = response.content.decode()
    assert 'value="many"' in html and '<option value="name" selected>' in html
    assert not Sync.objects.for_workspace(workspace).exists()

    data["const:std:phone"] = ""
    response = owner_client.post(url("sync_create", workspace), data)
    rows = {row.slug: row for row in response.context["rows"]}
    assert response.status_code == 422
    assert "many" in rows["cus:seats"].error  # the engine's coercion problem, on the attribute's row
    assert response.context["problems"] == []


def test_event_options_problems_are_next_to_the_option(owner_client, workspace, users_model, destination):
    data = step_one(users_model, destination, object_key="event", behavior="send", key_identifier="event_id",
                    key_column="id")  # fmt: skip
    data |= {"mapper": "1", "action": "save", "opt-event_name": "signed-up", "opt-contact_column": "email",
             "opt-contact_key": "email", "opt-first_run": "skip_existing"}  # fmt: skip
    response = owner_client.post(url("sync_create", workspace), data)
    assert response.status_code == 422
    assert "event time" in " ".join(response.context["options"].errors["created_at_column"])
    data["opt-created_at_column"] = "seats"
    assert owner_client.post(url("sync_create", workspace), data).status_code == 302
    event = Sync.objects.for_workspace(workspace).get().options["event"]
    assert event["event_name"] == "signed-up" and event["first_run"] == "skip_existing"


def test_permanent_delete_requires_typing_the_name(owner_client, workspace, users_model, destination):
    data = step_one(users_model, destination, behavior="delete") | {
        "mapper": "1", "action": "save", "opt-permanent_delete": "on", "opt-confirm_name": "users"}  # fmt: skip
    response = owner_client.post(url("sync_create", workspace), data)
    assert response.status_code == 422
    assert "Type “Users” exactly" in response.content.decode()
    data["opt-confirm_name"] = "Users"
    assert owner_client.post(url("sync_create", workspace), data).status_code == 302
    assert Sync.objects.for_workspace(workspace).get().options == {"permanent_delete": True}


def test_companies_say_they_cannot_be_archived(owner_client, workspace, users_model, destination):
    data = step_one(users_model, destination, object_key="company", behavior="delete",
                    key_identifier="company_id", key_column="id")  # fmt: skip
    assert (
        "Companies cannot be archived"
        in owner_client.post(url("sync_create", workspace), data).content.decode()
    )


def test_create_a_custom_attribute_inline_keeps_the_mapper(
    owner_client, workspace, users_model, destination, intercom_emulator, intercom_workspace
):
    data = step_one(users_model, destination) | {"mapper": "1", "action": "create_attribute",
                                                 "col:std:name": "name", "new_attribute_name": "team_size",
                                                 "new_attribute_type": "integer"}  # fmt: skip
    html = owner_client.post(url("sync_create", workspace), data).content.decode()
    assert 'name="col:cus:team_size"' in html
    assert '<option value="name" selected>' in html
    names = {
        a["name"] for a in intercom_emulator.workspace_state(intercom_workspace.id_code)["data_attributes"]
    }
    assert "team_size" in names

    data |= {"new_attribute_name": "plan"}  # exists: Intercom's message next to the name
    html = owner_client.post(url("sync_create", workspace), data).content.decode()
    assert "already have &#x27;plan&#x27;" in html


def test_back_keeps_both_steps(owner_client, workspace, users_model, destination):
    data = step_one(users_model, destination, name="Kept") | {"mapper": "1", "action": "back",
                                                              "const:cus:plan": "gold"}  # fmt: skip
    html = owner_client.post(url("sync_create", workspace), data).content.decode()
    assert 'value="Kept"' in html and 'name="const:cus:plan" value="gold"' in html
    data["action"] = "next"
    html = owner_client.post(url("sync_create", workspace), data).content.decode()
    assert 'name="const:cus:plan" value="gold"' in html


def test_edit_starts_from_the_saved_sync(owner_client, workspace, users_sync):
    html = owner_client.get(url("sync_edit", workspace, users_sync.pk)).content.decode()
    assert 'value="Users to Intercom"' in html
    data = step_one(users_sync.model, users_sync.destination, name="Users to Intercom")
    html = owner_client.post(url("sync_edit", workspace, users_sync.pk), data).content.decode()
    assert '<option value="plan" selected>' in html  # the saved mapping of the custom attribute


# --- preview, run, progress -------------------------------------------------------------------------------


def test_preview_shows_counts_and_samples_and_writes_nothing(
    client, workspace, users_sync, warehouse, intercom_emulator
):
    run_sync(workspace, users_sync)
    warehouse.table("users", COLUMNS, [(1, "ada@example.com", "Ada L.", "pro", 3), USERS[1],
                                       (4, "linus@example.com", "Linus", "free", 1), (5, None, "X", "free", 1)])  # fmt: skip
    ledger = list(LedgerEntry.objects.for_workspace(workspace).values_list("key", "payload_hash"))
    calls = intercom_emulator.request_count()

    response = as_role(client, workspace, Role.VIEWER).get(url("sync_preview", workspace, users_sync.pk))
    preview = response.context["preview"]
    assert preview.counts["created"] == 1 and preview.counts["updated"] == 1
    assert preview.counts["unchanged"] == 1 and preview.counts["invalid"] == 1
    html = response.content.decode()
    assert "linus@example.com" in html and "&quot;Linus&quot;" in html  # the create's payload
    assert '<span class="change-old">Ada</span> → <span class="change-new">Ada L.</span>' in html
    assert "the sync key is empty" in html
    assert "Run sync" not in html  # a viewer cannot start it
    assert intercom_emulator.request_count() == calls  # not one call, let alone a write
    assert list(LedgerEntry.objects.for_workspace(workspace).values_list("key", "payload_hash")) == ledger


def test_run_now_queues_then_the_page_polls_until_the_run_ends(owner_client, workspace, users_sync):
    response = owner_client.post(url("sync_run_now", workspace, users_sync.pk))
    assert response.status_code == 302
    run = SyncRun.objects.for_workspace(workspace).get()
    assert run.status == RunStatus.QUEUED and run.trigger == "manual"

    page = owner_client.get(url("sync_detail", workspace, users_sync.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in page and f"Run {run.pk} in progress" in page
    again = owner_client.post(url("sync_run_now", workspace, users_sync.pk), follow=True)
    assert "already running" in again.content.decode()

    sync_run_execute(run_id=run.pk)
    partial = owner_client.get(url("run_progress", workspace, run.pk), headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<section id="progress"')
    assert "hx-trigger" not in partial and "Succeeded" in partial and "3 created" in partial


def test_full_resync_from_the_page(owner_client, workspace, users_sync):
    owner_client.post(url("sync_run_now", workspace, users_sync.pk), {"full_resync": "1"})
    assert SyncRun.objects.for_workspace(workspace).get().full_resync


def test_pause_and_resume(owner_client, workspace, users_sync):
    owner_client.post(url("sync_pause", workspace, users_sync.pk), {"paused": "1"})
    users_sync.refresh_from_db()
    assert users_sync.paused
    assert "Resume" in owner_client.get(url("sync_detail", workspace, users_sync.pk)).content.decode()
    owner_client.post(url("sync_pause", workspace, users_sync.pk), {"paused": "0"})
    users_sync.refresh_from_db()
    assert not users_sync.paused


def test_cancel_a_queued_run(owner_client, workspace, users_sync):
    run = services.sync_run_start(workspace=workspace, sync=users_sync, enqueue=False)
    assert "Cancel run" in owner_client.get(url("run_detail", workspace, run.pk)).content.decode()
    owner_client.post(url("run_cancel", workspace, run.pk))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


# --- the run page -------------------------------------------------------------------------------------------


@pytest.fixture
def failed_run(workspace, users_sync):
    run = SyncRunFactory(workspace=workspace, sync=users_sync, status=RunStatus.PARTIALLY_FAILED,
                         counts={"created": 1, "rejected": 2, "invalid": 1})  # fmt: skip
    for key, outcome, code, message in [
        ("ada@example.com", "rejected", "parameter_invalid", "Custom attribute 'plan' is of type string"),
        ("alan@example.com", "rejected", "conflict", 'A contact matching those details, "quoted"'),
        ("", "invalid", "invalid", "row 4: id: the sync key is empty"),
    ]:
        RecordResult.objects.create(workspace=workspace, run=run, key=key, outcome=outcome, code=code,
                                    message=message)  # fmt: skip
    return run


def test_run_page_lists_searches_and_filters_records(client, workspace, failed_run):
    as_role(client, workspace, Role.VIEWER)
    page = client.get(url("run_detail", workspace, failed_run.pk))
    html = page.content.decode()
    assert "Partially failed" in html and "parameter_invalid" in html and "the sync key is empty" in html
    assert "Cancel run" not in html
    found = client.get(url("run_detail", workspace, failed_run.pk), {"q": "ALAN"}).context["results"]
    assert [r["key"] for r in found] == ["alan@example.com"]
    invalid = client.get(url("run_detail", workspace, failed_run.pk), {"outcome": "invalid"}).context[
        "results"
    ]
    assert [r["outcome"] for r in invalid] == ["invalid"]


def test_run_records_csv(owner_client, workspace, failed_run):
    response = owner_client.get(url("run_records_csv", workspace, failed_run.pk), {"outcome": "rejected"})
    assert response["Content-Type"].startswith("text/csv") and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["key", "outcome", "code", "message"]
    assert rows[1:] == [
        ["ada@example.com", "rejected", "parameter_invalid", "Custom attribute 'plan' is of type string"],
        ["alan@example.com", "rejected", "conflict", 'A contact matching those details, "quoted"'],
    ]


def test_runs_page_lists_every_sync(owner_client, workspace, failed_run):
    other = SyncRunFactory(workspace=workspace)
    html = owner_client.get(url("run_list", workspace)).content.decode()
    assert failed_run.sync.name in html and other.sync.name in html


# --- query counts do not grow with rows ---------------------------------------------------------------------


def test_pages_query_counts_do_not_grow(owner_client, workspace, django_assert_max_num_queries):
    sync = SyncFactory(workspace=workspace)
    run = SyncRunFactory(workspace=workspace, sync=sync)
    pages = [url("sync_detail", workspace, sync.pk), url("run_list", workspace), url("sync_list", workspace),
             url("run_detail", workspace, run.pk)]  # fmt: skip

    def queries():
        counts = []
        for page in pages:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                assert owner_client.get(page).status_code == 200
            counts.append(len(captured))
        return counts

    RecordResult.objects.create(
        workspace=workspace, run=run, key="k", outcome="rejected", code="c", message="m"
    )
    queries()  # the first request of a session remembers the workspace: one write more
    few = queries()
    SyncRun.objects.bulk_create(
        SyncRun(workspace=workspace, sync=sync, status="succeeded", counts={"created": 1}) for _ in range(120)
    )
    RecordResult.objects.bulk_create(
        RecordResult(workspace=workspace, run=run, key=f"k{i}", outcome="rejected", code="c", message="m")
        for i in range(120)
    )
    for _ in range(5):
        SyncFactory(workspace=workspace, model=sync.model, destination=sync.destination)
    assert queries() == few
    with django_assert_max_num_queries(12):
        owner_client.get(url("sync_detail", workspace, sync.pk))
    html = owner_client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert html.count('<tr>\n    <td><a href="/w/') == 50  # one page of 50 runs
    assert "Page 1 of 3" in html


# --- purge ------------------------------------------------------------------------------------------------


def test_record_results_older_than_the_setting_are_purged(workspace, failed_run, settings):
    settings.SYNC_RECORD_RESULTS_DAYS = 7
    old = RecordResult.objects.for_workspace(workspace).filter(key="ada@example.com")
    old.update(created_at=timezone.now() - timedelta(days=8))
    call_command("purge_record_results", stdout=io.StringIO())
    keys = set(RecordResult.objects.for_workspace(workspace).values_list("key", flat=True))
    assert keys == {"alan@example.com", ""}
    assert services.record_results_purge(now=timezone.now() + timedelta(days=8)) == 2
