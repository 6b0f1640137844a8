"""NULLs in the model, per mapping: "Keep Intercom's value" leaves them out, "Clear in Intercom" sends null
where Intercom accepts it. End to end over HTTP against the emulator, the mapper, the pages, and the
migration from the sync-wide "Don't overwrite with null" option."""

from __future__ import annotations

import importlib
import json

import pytest

from apps.common.problems import Invalid, Problem
from apps.connections.intercom.catalog import OBJECTS
from apps.syncs.engine.config import Target
from apps.syncs.models import RunStatus, Sync
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.factories import SyncFactory
from tests.fixtures.migrations import apply_migration_again
from tests.fixtures.syncs import m, make_sync
from tests.syncs.mapper_inputs import mapped
from tests.syncs.test_views import answer, step_url, through_behavior, url

pytestmark = pytest.mark.django_db
MIGRATION = "0011_null_policy_per_mapping"

USER_COLUMNS = "id VARCHAR, email VARCHAR, name VARCHAR, plan VARCHAR"
USER_NAMES = ["id", "email", "name", "plan"]
COMPANY_COLUMNS = "company_id VARCHAR, name VARCHAR, website VARCHAR, size INTEGER, tier VARCHAR"
COMPANY_NAMES = ["company_id", "name", "website", "size", "tier"]


@pytest.fixture
def users_model(warehouse):
    warehouse.table("users", USER_COLUMNS, [("u-1", "ada@example.com", "Ada", "pro")])
    return warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email",))


def run(workspace, sync):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    return sync_run_execute(run_id=started.pk)


def bodies(intercom_requests, method: str, prefix: str) -> list[dict]:
    """The JSON bodies the client sent to `method` paths starting with `prefix`."""
    return [
        json.loads(e.request_body)
        for e in intercom_requests.exchanges
        if e.method == method and e.path.startswith(prefix) and e.request_body
    ]


def nulls_sent(body: dict) -> set[str]:
    """The fields of a body sent as null (custom attributes as `custom_attributes.<name>`)."""
    found = {k for k, v in body.items() if v is None}
    found |= {f"custom_attributes.{k}" for k, v in (body.get("custom_attributes") or {}).items() if v is None}
    return found


def users_sync(workspace, warehouse, destination, rows):
    warehouse.table("users", USER_COLUMNS, rows)
    model = warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email",))
    mappings = [m("email", "string", "email"), m("name", "string", "name", on_null="clear"),
                m("plan", "string", "plan", custom=True)]  # fmt: skip
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="id",
        key_identifier="external_id",
        mappings=mappings,
    )


def test_contacts_keep_or_clear_per_mapping_and_never_send_a_null_email(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, intercom_requests
):
    sync = users_sync(workspace, warehouse, destination, [("u-1", "ada@example.com", "Ada", "pro")])
    assert run(workspace, sync).counts["created"] == 1
    warehouse.table("users", USER_COLUMNS, [("u-1", None, None, None), ("u-2", None, "Bob", None)])

    second = run(workspace, sync)

    assert second.status == RunStatus.SUCCEEDED, second.first_error
    assert (second.counts["updated"], second.counts["created"], second.counts["rejected"]) == (1, 1, 0)
    sent = bodies(intercom_requests, "POST", "/contacts") + bodies(intercom_requests, "PUT", "/contacts")
    assert sent and all(nulls_sent(body) <= {"name"} for body in sent)  # email and plan: never null
    state = {c["external_id"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    ada, bob = state["u-1"], state["u-2"]
    assert ada["email"] == "ada@example.com"  # kept: Intercom cannot clear it
    assert ada["name"] is None  # cleared: "Clear in Intercom"
    assert ada["custom_attributes"] == {"plan": "pro"}  # kept: "Keep Intercom's value", the default
    assert bob["name"] == "Bob" and not bob.get("email")

    calls = intercom_emulator.request_count()
    third = run(workspace, sync)  # the same NULLs again: nothing changed
    assert third.counts["unchanged"] == 2 and intercom_emulator.request_count() == calls


def test_a_null_under_keep_is_no_call_and_intercom_keeps_its_value(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = users_sync(workspace, warehouse, destination, [("u-1", "ada@example.com", "Ada", "pro")])
    run(workspace, sync)
    warehouse.table("users", USER_COLUMNS, [("u-1", "ada@example.com", "Ada", None)])  # plan: KEEP
    calls = intercom_emulator.request_count()

    result = run(workspace, sync)

    assert result.counts["unchanged"] == 1 and intercom_emulator.request_count() == calls
    (ada,) = intercom_emulator.contacts(intercom_workspace.id_code)
    assert ada["custom_attributes"] == {"plan": "pro"}


def test_companies_never_send_null_and_keep_their_values(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, intercom_requests
):
    warehouse.table("companies", COMPANY_COLUMNS, [("cmp-1", "Acme", "https://acme.test", 10, "gold")])
    model = warehouse.model("SELECT * FROM companies", "company_id", COMPANY_NAMES)
    mappings = [m("name", "string", "name"), m("website", "string", "website"), m("size", "integer", "size"),
                m("tier", "string", "tier", custom=True)]  # fmt: skip
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="upsert",
        key_column="company_id",
        key_identifier="company_id",
        mappings=mappings,
    )
    assert run(workspace, sync).counts["created"] == 1
    warehouse.table(
        "companies",
        COMPANY_COLUMNS,
        [("cmp-1", "Acme Inc", None, None, None), ("cmp-2", None, None, None, None)],
    )

    result = run(workspace, sync)

    assert result.status == RunStatus.SUCCEEDED, result.first_error
    assert (result.counts["updated"], result.counts["created"], result.counts["rejected"]) == (1, 1, 0)
    sent = bodies(intercom_requests, "POST", "/companies")
    assert len(sent) == 3 and all(not nulls_sent(body) for body in sent)
    state = {c["company_id"]: c for c in intercom_emulator.companies(intercom_workspace.id_code)}
    acme = state["cmp-1"]
    assert (acme["name"], acme["website"], acme["size"]) == ("Acme Inc", "https://acme.test", 10)
    assert acme["custom_attributes"] == {"tier": "gold"}
    assert not state["cmp-2"].get("website")


def test_clear_on_a_field_intercom_cannot_clear_is_refused_on_save(workspace, warehouse, destination):
    warehouse.table("users", USER_COLUMNS, [])
    model = warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email",))
    with pytest.raises(Invalid) as refused:
        make_sync(
            workspace,
            model,
            destination,
            object_key="user",
            behavior="upsert",
            key_column="id",
            key_identifier="external_id",
            mappings=[m("email", "string", "email", on_null="clear")],
        )
    assert refused.value.problems == [
        Problem(
            Target("email"),
            "cannot_clear",
            "Intercom cannot clear “email”: it does not accept null. Choose “Keep Intercom's value”.",
        )
    ]


# --- the mapper and the pages ------------------------------------------------------------------------------


def rows_of(response):
    return {row.target_slug: row for row in response.context["form"].rows}


def test_the_mapper_offers_the_choice_only_where_intercom_can_clear(
    owner_client, workspace, users_model, destination
):
    through_behavior(owner_client, workspace, users_model, destination)
    slugs = ("std:name", "std:phone", "std:signed_up_at", "cus:plan", "std:external_id")
    data = mapped(*[(slug, "id") for slug in slugs], name="Users", action="check")
    html = answer(owner_client, workspace, "fields", data).content.decode()
    for index in range(4):
        assert f'name="map-{index}-null"' in html
    assert 'name="map-4-null"' not in html  # external_id (email is the key)
    assert html.count("Keeps Intercom's value (cannot be cleared)") == 1
    assert '<option value="keep" selected>Keep Intercom&#x27;s value</option>' in html  # the default
    assert '<option value="clear">Clear in Intercom</option>' in html
    assert "Don&#x27;t overwrite with null" not in html and "dont_overwrite" not in html


def test_the_mapper_saves_each_policy_and_the_pages_show_it(
    owner_client, workspace, users_model, destination
):
    through_behavior(owner_client, workspace, users_model, destination)
    data = mapped(("std:name", "name", {"null": "clear"}), ("cus:plan", "plan"), ("std:external_id", "id"),
                  name="Users")  # fmt: skip
    response = answer(owner_client, workspace, "fields", data)
    assert response.status_code == 302, rows_of(response)
    preview = owner_client.get(response.url, follow=True).content.decode()
    assert "If NULL: Clear in Intercom" in preview and "If NULL: Keep Intercom&#x27;s value" in preview
    assert "NULL keeps Intercom&#x27;s value (cannot be cleared)" in preview  # external_id

    answer(owner_client, workspace, "preview", {"action": "schedule"})
    sync = Sync.objects.for_workspace(workspace).get()
    assert {x["target"]: x["on_null"] for x in sync.mappings} == {
        "name": "clear",
        "plan": "keep",
        "external_id": "keep",
    }
    assert "dont_overwrite_with_null" not in sync.options

    page = owner_client.get(url("sync_preview", workspace, sync.pk), follow=True).content.decode()
    assert "<code>name</code> → name" in page and "If NULL: Clear in Intercom" in page
    detail = owner_client.get(url("sync_detail", workspace, sync.pk)).content.decode()
    assert "If NULL: Clear in Intercom" in detail

    owner_client.get(url("sync_edit", workspace, sync.pk))  # editing starts from the saved policies
    rows = rows_of(owner_client.get(step_url(workspace, "fields", sync)))
    assert (rows["std:name"].on_null, rows["cus:plan"].on_null) == ("clear", "keep")


def test_clear_asked_on_a_field_that_cannot_be_cleared_is_refused_on_its_row(
    owner_client, workspace, users_model, destination
):
    through_behavior(owner_client, workspace, users_model, destination)
    data = mapped(("std:name", "name"), ("std:external_id", "id", {"null": "clear"}), name="Users")
    response = answer(owner_client, workspace, "fields", data)
    assert response.status_code == 422
    rows = rows_of(response)
    assert rows["std:external_id"].error == (
        "Intercom cannot clear “external_id”: it does not accept null. Choose “Keep Intercom's value”."
    )
    assert [slug for slug, row in rows.items() if row.error] == ["std:external_id"]
    assert response.context["form"].problems == []
    assert 'name="map-1-null"' in response.content.decode()  # shown, so it can be changed
    data["map-1-null"] = "keep"
    assert answer(owner_client, workspace, "fields", data).status_code == 302


def test_an_unknown_null_choice_is_an_error_on_its_row(owner_client, workspace, users_model, destination):
    through_behavior(owner_client, workspace, users_model, destination)
    response = answer(
        owner_client, workspace, "fields", mapped(("std:name", "name", {"null": "erase"}), name="Users")
    )
    assert response.status_code == 422
    assert (
        rows_of(response)["std:name"].error
        == "If NULL: choose “Keep Intercom's value” or “Clear in Intercom”."
    )


def test_company_fields_offer_no_clear(owner_client, workspace, users_model, destination):
    through_behavior(
        owner_client,
        workspace,
        users_model,
        destination,
        object_key="company",
        key_identifier="company_id",
        key_column="id",
    )
    data = mapped(("std:name", "name"), ("cus:tier", "plan"), name="Companies", action="check")
    response = answer(owner_client, workspace, "fields", data)
    html = response.content.decode()
    assert 'name="map-0-null"' not in html and 'name="map-1-null"' not in html
    assert html.count("Keeps Intercom's value (cannot be cleared)") == len(rows_of(response))


# --- the migration ---------------------------------------------------------------------------------------


def old_style(**kwargs):
    """A sync as stored before null policies: mappings without `on_null`."""
    sync = SyncFactory(**kwargs)
    Sync.objects.for_workspace(sync.workspace).filter(pk=sync.pk).update(
        mappings=[{k: v for k, v in mapping.items() if k != "on_null"} for mapping in sync.mappings]
    )
    return sync


def policies(sync):
    sync = Sync.objects.for_workspace(sync.workspace).get(pk=sync.pk)
    return {("cus:" if x["custom"] else "") + x["target"]: x["on_null"] for x in sync.mappings}, sync.options


def test_the_migration_keeps_what_each_sync_sent(workspace):
    user_mappings = [m("email", "string", "email"), m("name", "string", "name"),
                     m("plan", "string", "plan", custom=True), m("role", "string", constant="user")]  # fmt: skip
    company_mappings = [m("website", "string", "website"), m("tier", "string", "tier", custom=True)]
    kept = old_style(
        workspace=workspace,
        object_key="contact",
        key_identifier="external_id",
        mappings=user_mappings,
        options={"dont_overwrite_with_null": True, "company_id_column": "org"},
    )
    sent = old_style(
        workspace=workspace,
        object_key="user",
        key_identifier="external_id",
        mappings=user_mappings,
        options={"dont_overwrite_with_null": False},
    )
    never_set = old_style(
        workspace=workspace, object_key="lead", key_identifier="email", mappings=user_mappings[1:], options={}
    )
    company = old_style(workspace=workspace, mappings=company_mappings, options={})
    saved_since = SyncFactory(
        workspace=workspace,
        object_key="user",
        key_identifier="external_id",
        mappings=[m("name", "string", "name", on_null="keep")],
    )
    event_options = {"event": {"contact_column": "who", "contact_key": "user_id", "created_at_column": "at",
                               "event_name": "signed-up"}}  # fmt: skip
    event = old_style(
        workspace=workspace,
        object_key="event",
        behavior="send",
        key_identifier="event_id",
        options=event_options,
    )
    updated_at = {s.pk: s.updated_at for s in Sync.objects.for_workspace(workspace)}

    apply_migration_again("syncs", MIGRATION)

    everything_kept = {"email": "keep", "name": "keep", "cus:plan": "keep", "role": "keep"}
    assert policies(kept) == (everything_kept, {"company_id_column": "org"})
    assert policies(sent) == ({"email": "keep", "name": "clear", "cus:plan": "clear", "role": "keep"}, {})
    assert policies(never_set) == ({"name": "clear", "cus:plan": "clear", "role": "keep"}, {})
    assert policies(company) == ({"website": "keep", "cus:tier": "keep"}, {})
    assert policies(saved_since) == ({"name": "keep"}, {})  # a policy already chosen stays
    assert policies(event) == ({}, event_options)
    for sync in Sync.objects.for_workspace(workspace):
        assert sync.updated_at == updated_at[sync.pk]
        assert sync.config.mappings is not None  # every converted sync reads

    apply_migration_again("syncs", MIGRATION)  # once more: nothing changes
    assert policies(sent) == ({"email": "keep", "name": "clear", "cus:plan": "clear", "role": "keep"}, {})


def test_the_migrations_frozen_nullability_is_the_catalogs():
    migration = importlib.import_module(f"apps.syncs.migrations.{MIGRATION}")
    for key, obj in OBJECTS.items():
        if obj.attribute_model is None:
            continue
        assert migration.NULLABLE_FIELDS[key] == {f.name for f in obj.fields if f.nullable}, key
        assert migration.CUSTOM_NULLABLE[key] is obj.custom_attributes_nullable, key
