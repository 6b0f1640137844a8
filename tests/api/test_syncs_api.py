"""/api/v1/syncs and the schedules: create, read, change, delete through the syncs' services; the configuration
stored exactly as `SyncConfig.to_json` writes it; tenancy, the key's role, bad input and limits."""

import pytest

from apps.syncs.engine.config import SyncConfig
from apps.syncs.models import RunStatus, Sync, SyncRun
from tests.factories import (
    IntercomConnectionFactory,
    MembershipFactory,
    SqlModelFactory,
    SyncFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db

SYNCS = "/api/v1/syncs"


def sync_url(sync_id, rest=""):
    return f"{SYNCS}/{sync_id}{rest}"


def columns(*names):
    return [{"name": n, "db_type": "VARCHAR", "kind": "string"} for n in names]


@pytest.fixture
def model(workspace):
    return SqlModelFactory(
        workspace=workspace, name="Users", columns=columns("id", "email", "name", "plan", "signed_up")
    )


@pytest.fixture
def destination(workspace):
    return IntercomConnectionFactory(workspace=workspace)


def new_sync(model, destination, **overrides):
    return {
        "name": "Users to Intercom",
        "model_id": model.pk,
        "destination_id": destination.pk,
        "object": "user",
        "behavior": "upsert",
        "key_column": "email",
        "key_identifier": "email",
        "mappings": [
            {"target": "name", "field_type": "string", "column": "name"},
            {"target": "plan", "field_type": "string", "column": "plan", "custom": True, "on_null": "keep"},
            {"target": "signed_up_at", "field_type": "date", "column": "signed_up", "unit": "milliseconds"},
        ],
    } | overrides


def problems(response):
    assert response.status_code == 422, response.content
    assert response.json()["error"] == "invalid_request"
    return {p["field"]: p for p in response.json()["problems"]}


def test_create_stores_the_configuration_as_the_engine_writes_it(api, workspace, model, destination):
    response = api.post(SYNCS, new_sync(model, destination))
    assert response.status_code == 201, response.content
    body = response.json()
    sync = Sync.objects.for_workspace(workspace).get()
    assert body["id"] == sync.pk and body["object"] == "user" and body["model_id"] == model.pk
    assert sync.created_by is None and not sync.paused
    # Stored by SyncConfig.to_json alone: reading it back and writing it again changes nothing.
    assert (sync.mappings, sync.options) == sync.config.to_json()
    assert sync.mappings[2] == {
        "target": "signed_up_at", "field_type": "date", "custom": False, "on_null": "keep",
        "column": "signed_up", "unit": "milliseconds",
    }  # fmt: skip
    assert body["mappings"][2]["unit"] == "milliseconds" and body["mappings"][0]["unit"] == "seconds"
    assert body["schedule"]["kind"] == "manual" and body["schedule"]["next_run_at"] is None
    assert body["last_run"] is None and body["trigger_url"].endswith(f"/api/v1/syncs/{sync.pk}/trigger")
    assert api.get(sync_url(sync.pk)).json() == body
    assert api.get(SYNCS).json()["syncs"] == [body]


def test_an_event_sync_with_its_options_round_trips(api, workspace, model, destination):
    options = {
        "event": {
            "contact_column": "email", "contact_key": "email", "created_at_column": "signed_up",
            "event_name": "signed-up", "metadata_columns": ["plan"],
        }
    }  # fmt: skip
    created = api.post(
        SYNCS,
        new_sync(model, destination, object="event", behavior="send", key_column="id", key_identifier="event_id",
                 mappings=[], options=options),
    )  # fmt: skip
    assert created.status_code == 201, created.content
    sync = Sync.objects.for_workspace(workspace).get()
    assert sync.config.event.metadata_columns == ("plan",) and sync.config.event.event_name == "signed-up"
    assert created.json()["options"]["event"]["first_run"] == "send_all"


def test_every_problem_names_its_field(api, workspace, model, destination):
    bad = new_sync(
        model,
        destination,
        key_column="mail",
        mappings=[
            {"target": "name", "field_type": "string", "column": "name"},
            {"target": "shoe_size", "field_type": "string", "column": "plan"},
            {"target": "role", "field_type": "string", "constant": "admin"},
        ],
        options={"permanent_delete": True, "event": {"contact_column": "email"}},
    )
    found = problems(api.post(SYNCS, bad))
    assert found["key_column"]["code"] == "column_not_in_model" and "“mail”" in found["key_column"]["message"]
    assert found["mappings.1"]["code"] == "unknown_field"
    assert found["mappings.2"]["code"] == "unknown_role"
    assert found["options.permanent_delete"]["code"] == "permanent_needs_delete"
    assert found["options.event"]["code"] == "event_options_unused"
    assert "mappings.0" not in found
    assert not Sync.objects.for_workspace(workspace).exists()


def test_event_option_problems_sit_under_options_event(api, model, destination):
    bad = new_sync(
        model, destination, object="event", behavior="send", key_column="id", key_identifier="event_id",
        mappings=[], options={"event": {"created_at_column": "nope", "event_name": "x"}},
    )  # fmt: skip
    found = problems(api.post(SYNCS, bad))
    assert found["options.event.contact_column"]["code"] == "column_required"
    assert found["options.event.created_at_column"]["code"] == "column_not_in_model"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"object": "ticket"}, "object", "enum"),
        ({"behavior": "upsert", "object": "company", "key_identifier": "email"}, "key_identifier", "identifier_not_allowed"),
        ({"mappings": [{"target": "name", "field_type": "text", "column": "name"}]}, "mappings.0.field_type", "enum"),
        ({"mappings": [{"target": "name", "field_type": "string", "column": "name", "colour": 1}]}, "mappings.0.colour", "extra_forbidden"),
        ({"mappings": [{"target": "x", "field_type": "float", "constant": float("inf")}]}, "mappings.0.constant.float", "finite_number"),
        ({"name": "a" * 101}, "name", "string_too_long"),
        ({"model_id": 0}, "model_id", "greater_than_equal"),
        ({"options": {"event": {"contact_key": "phone"}}}, "options.event.contact_key", "enum"),
    ],
)  # fmt: skip
def test_bad_input_is_422_naming_the_field(api, workspace, model, destination, change, field, code):
    body = new_sync(model, destination) | change
    raw = __import__("json").dumps(body)  # inf travels as JSON's Infinity, which Python's parser reads
    response = api.client.generic("POST", SYNCS, raw, content_type="application/json", headers=api.headers)
    found = problems(response)
    assert field in found, found
    assert found[field]["code"] == code
    assert not Sync.objects.for_workspace(workspace).exists()


def test_the_name_is_unique_whatever_its_case(api, workspace, model, destination):
    SyncFactory(workspace=workspace, name="Users to Intercom")
    found = problems(api.post(SYNCS, new_sync(model, destination, name="users TO intercom ")))
    assert found["name"]["code"] == "name_taken"


def test_a_model_or_destination_of_another_workspace_is_refused(api, workspace, model, destination):
    other = MembershipFactory().workspace
    their_model, their_destination = (
        SqlModelFactory(workspace=other),
        IntercomConnectionFactory(workspace=other),
    )
    found = problems(api.post(SYNCS, new_sync(model, destination, model_id=their_model.pk)))
    assert found["model_id"]["message"] == f"No model with id {their_model.pk} in this workspace."
    found = problems(api.post(SYNCS, new_sync(model, destination, destination_id=their_destination.pk)))
    assert found["destination_id"]["code"] == "not_found"
    found = problems(api.post(SYNCS, new_sync(model, destination, destination_id=model.source_id)))
    assert "destination_id" in found  # a source is not a destination
    assert not Sync.objects.for_workspace(workspace).exists()


def test_patch_changes_what_is_given_and_checks_the_whole(api, workspace, model, destination):
    sync_id = api.post(SYNCS, new_sync(model, destination)).json()["id"]

    paused = api.patch(sync_url(sync_id), {"paused": True, "name": "Renamed"})
    assert (
        paused.status_code == 200 and paused.json()["paused"] is True and paused.json()["name"] == "Renamed"
    )
    assert len(paused.json()["mappings"]) == 3

    replaced = api.patch(
        sync_url(sync_id), {"mappings": [{"target": "name", "field_type": "string", "column": "email"}]}
    )
    assert replaced.status_code == 200 and [m["column"] for m in replaced.json()["mappings"]] == ["email"]

    # Changing the object alone makes the kept mappings wrong: refused, with the field, and nothing changes.
    found = problems(api.patch(sync_url(sync_id), {"object": "company"}))
    assert found["key_identifier"]["code"] == "identifier_not_allowed"
    sync = Sync.objects.for_workspace(workspace).get()
    assert sync.object_key == "user" and sync.name == "Renamed" and sync.paused
    assert sync.config == SyncConfig.from_json(
        object_key="user", behavior="upsert", key_column="email", key_identifier="email",
        mappings=[{"target": "name", "field_type": "string", "column": "email"}], options={},
    )  # fmt: skip
    assert problems(api.patch(sync_url(sync_id), {"object": None}))["object"]["code"] == "enum"


def test_delete_is_refused_while_a_run_is_active_or_syncs_follow(api, workspace):
    sync = SyncFactory(workspace=workspace, name="Users")
    run = SyncRunFactory(workspace=workspace, sync=sync, status=RunStatus.RUNNING)
    busy = api.delete(sync_url(sync.pk))
    assert (
        busy.status_code == 409
        and busy.json()["error"] == "sync_running"
        and f"run {run.pk}" in busy.json()["message"]
    )

    SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    follower = SyncFactory(
        workspace=workspace, name="Companies", schedule_kind="after_sync", schedule_after=sync
    )
    followed = api.delete(sync_url(sync.pk))
    assert followed.status_code == 409 and followed.json()["error"] == "sync_followed"
    assert "“Companies”" in followed.json()["message"]

    follower.delete()
    assert api.delete(sync_url(sync.pk)).json() == {"deleted": True, "id": sync.pk}
    assert not Sync.objects.for_workspace(workspace).exists()
    assert not SyncRun.objects.for_workspace(workspace).exists()
    assert api.get(sync_url(sync.pk)).status_code == 404


def test_another_workspaces_sync_answers_404_and_is_never_changed(api, workspace):
    other = MembershipFactory().workspace
    theirs = SyncFactory(workspace=other, name="Theirs")
    SyncRunFactory(workspace=other, sync=theirs)
    calls = [
        ("get", ""), ("patch", ""), ("delete", ""), ("get", "/schedule"), ("put", "/schedule"),
        ("patch", "/schedule"), ("delete", "/schedule"), ("post", "/trigger"),
    ]  # fmt: skip
    for method, rest in calls:
        data = (
            {"kind": "interval", "every_minutes": 5}
            if "schedule" in rest and method in ("put", "patch")
            else None
        )
        data = {"name": "Mine now"} if (method, rest) == ("patch", "") else data
        call = getattr(api, method)
        answer = call(sync_url(theirs.pk, rest), data) if data else call(sync_url(theirs.pk, rest))
        assert answer.status_code == 404, (method, rest)
        assert answer.json() == {
            "error": "not_found",
            "message": f"No sync with id {theirs.pk} in the workspace of this API key.",
        }
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.schedule_kind == "manual"
    assert SyncRun.objects.for_workspace(other).count() == 1
    assert api.get(SYNCS).json() == {"syncs": []} and api.get("/api/v1/schedules").json() == {"schedules": []}
    # Nor can a sync of mine be put after theirs.
    mine = SyncFactory(workspace=workspace)
    found = problems(
        api.put(sync_url(mine.pk, "/schedule"), {"kind": "after_sync", "after_sync_id": theirs.pk})
    )
    assert found["after_sync_id"]["message"] == f"There is no sync with id {theirs.pk} in this workspace."


def test_a_viewer_key_reads_but_cannot_write_or_trigger(viewer_api, workspace, model, destination):
    sync = SyncFactory(workspace=workspace, name="Users")
    assert viewer_api.get(SYNCS).status_code == 200
    assert viewer_api.get(sync_url(sync.pk)).status_code == 200
    assert viewer_api.get(sync_url(sync.pk, "/schedule")).status_code == 200
    for response in (
        viewer_api.post(SYNCS, new_sync(model, destination)),
        viewer_api.patch(sync_url(sync.pk), {"paused": True}),
        viewer_api.delete(sync_url(sync.pk)),
        viewer_api.post(sync_url(sync.pk, "/trigger")),
        viewer_api.put(sync_url(sync.pk, "/schedule"), {"kind": "daily", "at": "09:00"}),
        viewer_api.patch(sync_url(sync.pk, "/schedule"), {"kind": "manual"}),
        viewer_api.delete(sync_url(sync.pk, "/schedule")),
    ):
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    sync.refresh_from_db()
    assert not sync.paused and sync.schedule_kind == "manual"
    assert Sync.objects.for_workspace(workspace).count() == 1
    assert not SyncRun.objects.for_workspace(workspace).exists()


def test_writes_count_against_the_keys_limit(api, workspace, model, destination, settings):
    settings.API_RATE_LIMIT = "1/min"
    sync = SyncFactory(workspace=workspace, name="Users")
    assert api.patch(sync_url(sync.pk), {"paused": True}).status_code == 200
    for refused in (api.post(SYNCS, new_sync(model, destination)), api.delete(sync_url(sync.pk)),
                    api.put(sync_url(sync.pk, "/schedule"), {"kind": "manual"})):  # fmt: skip
        assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert list(Sync.objects.for_workspace(workspace).values_list("name", flat=True)) == ["Users"]


# --- schedules ---------------------------------------------------------------------------------------


def test_a_schedule_is_set_read_changed_and_removed(api, workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    sync = SyncFactory(workspace=workspace, name="Users")

    daily = api.put(sync_url(sync.pk, "/schedule"), {"kind": "daily", "at": "09:30"})
    assert daily.status_code == 200, daily.content
    body = daily.json()
    assert body["kind"] == "daily" and body["at"] == "09:30" and body["timezone"] == "Europe/Paris"
    assert body["description"] == "Daily at 09:30 (Europe/Paris)" and body["next_run_at"]
    sync.refresh_from_db()
    assert sync.schedule_kind == "daily" and sync.next_run_at is not None
    assert api.get(sync_url(sync.pk, "/schedule")).json() == body
    assert api.get(sync_url(sync.pk)).json()["schedule"] == body
    assert api.get("/api/v1/schedules").json() == {
        "schedules": [{"sync_id": sync.pk, "sync_name": "Users", "schedule": body}]
    }

    weekly = api.patch(sync_url(sync.pk, "/schedule"), {"kind": "weekly", "weekday": 0})
    assert weekly.json()["description"] == "Weekly on Monday at 09:30 (Europe/Paris)"

    removed = api.delete(sync_url(sync.pk, "/schedule"))
    assert (
        removed.status_code == 200
        and removed.json()["kind"] == "manual"
        and removed.json()["next_run_at"] is None
    )
    sync.refresh_from_db()
    assert sync.schedule_kind == "manual" and sync.next_run_at is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "cron", "cron": "61 * * * *"}, "cron", "invalid_schedule"),
        ({"kind": "interval", "every_minutes": 0}, "every_minutes", "invalid_schedule"),
        ({"kind": "interval"}, "every_minutes", "invalid_schedule"),
        ({"kind": "hourly", "minute": 75}, "minute", "invalid_schedule"),
        ({"kind": "daily", "at": "09:00", "timezone": "Mars/Olympus"}, "timezone", "invalid_schedule"),
        ({"kind": "daily", "at": "25:00"}, "at", "time_parsing"),
        ({"kind": "after_sync"}, "after_sync_id", "invalid_schedule"),
        ({"kind": "fortnightly"}, "kind", "enum"),
        ({"every_minutes": 5}, "kind", "missing"),
    ],
)
def test_a_bad_schedule_is_422_naming_the_field_and_keeps_the_old_one(api, workspace, body, field, code):
    sync = SyncFactory(workspace=workspace, schedule_kind="manual")
    found = problems(api.put(sync_url(sync.pk, "/schedule"), body))
    assert found[field]["code"] == code, found
    sync.refresh_from_db()
    assert sync.schedule_kind == "manual"


def test_a_sequence_may_not_loop(api, workspace):
    first = SyncFactory(workspace=workspace, name="First")
    second = SyncFactory(workspace=workspace, name="Second")
    assert (
        api.put(sync_url(second.pk, "/schedule"), {"kind": "after_sync", "after_sync_id": first.pk}).json()[
            "description"
        ]
        == "After “First” succeeds"
    )
    found = problems(
        api.put(sync_url(first.pk, "/schedule"), {"kind": "after_sync", "after_sync_id": second.pk})
    )
    assert "loop" in found["after_sync_id"]["message"]
    found = problems(
        api.put(sync_url(first.pk, "/schedule"), {"kind": "after_sync", "after_sync_id": first.pk})
    )
    assert "cannot run after itself" in found["after_sync_id"]["message"]
