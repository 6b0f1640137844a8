"""Drift, end to end against the emulator over HTTP: records that vanish from Intercom out of band are
found by a run's sample of the ledger, reported on its page, and restored at one call per missing record."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import LedgerEntry, RecordOutcome, RecordResult, RunStatus, SyncRun
from apps.syncs.runs import drift
from apps.syncs.runs import services as run_services
from apps.syncs.runs.drift import drift_sample
from apps.syncs.runs.execute import sync_run_execute
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db

COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, external_id VARCHAR"
NAMES = ["id", "email", "name", "external_id"]


def people(n, *, renamed=()):
    return [
        (i, f"p{i}@example.com", f"Person {i}{' (new)' if i in renamed else ''}", f"u-{i}")
        for i in range(1, n + 1)
    ]


def user_sync(workspace, warehouse, destination, rows, *, behavior="upsert", identifier="email"):
    warehouse.table("people", COLUMNS, rows)
    model = warehouse.model("SELECT * FROM people", "id", NAMES, unique=("email", "external_id"))
    mappings = [m("name", "string", "name")]
    if identifier != "email":
        mappings.append(m("email", "string", "email"))
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior=behavior,
        key_column=identifier,
        key_identifier=identifier,
        mappings=mappings,
    )


def run_now(workspace, sync, **kwargs) -> SyncRun:
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False, **kwargs)
    return sync_run_execute(run_id=started.pk)


def counts_of(run) -> RunCounts:
    return RunCounts.from_json(run.counts)


def held(intercom_emulator, intercom_workspace) -> dict[str, str]:
    """email → name of the contacts Intercom has (archived ones left out)."""
    contacts = intercom_emulator.contacts(intercom_workspace.id_code)
    return {c["email"]: c["name"] for c in contacts if not c["archived"]}


def ids_by_email(intercom_emulator, intercom_workspace) -> dict[str, str]:
    return {c["email"]: c["id"] for c in intercom_emulator.contacts(intercom_workspace.id_code)}


def page(client, workspace, run) -> str:
    return client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()


def test_a_wiped_workspace_is_reported_as_drift_and_restore_brings_every_record_back_at_one_call_each(
    workspace, owner_client, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    sync = user_sync(workspace, warehouse, destination, people(20))
    first = run_now(workspace, sync)
    assert counts_of(first) == RunCounts(source_rows=20, created=20, api_calls=20)
    assert intercom_emulator.wipe_workspace(intercom_workspace.id_code) == 20
    assert held(intercom_emulator, intercom_workspace) == {}

    settings.SYNC_DRIFT_SAMPLE = 5
    calls = intercom_emulator.request_count()
    drifted = run_now(workspace, sync)
    # The ledger still says "unchanged", but the sample of 5 looked up in Intercom is missing.
    assert counts_of(drifted) == RunCounts(
        source_rows=20, unchanged=20, drift_checked=5, drift_missing=5, api_calls=5
    )
    assert intercom_emulator.request_count() - calls == 5  # the check's calls are all it made, and counted
    assert drifted.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    shown = page(owner_client, workspace, drifted)
    assert "<strong>5 of the 5 records checked are missing from Intercom.</strong>" in shown
    assert "Restore missing records" in shown and "Every record went through" not in shown
    assert "it creates each record first: one call per missing record" in shown

    answer = owner_client.post(reverse("run_restore", args=[workspace.slug, drifted.pk]))
    restore = SyncRun.objects.for_workspace(workspace).get(restores=drifted)
    assert answer.status_code == 302 and answer.url == reverse(
        "run_detail", args=[workspace.slug, restore.pk]
    )
    assert restore.full_resync and restore.status == RunStatus.QUEUED
    calls = intercom_emulator.request_count()
    restore = sync_run_execute(run_id=restore.pk)
    assert counts_of(restore) == RunCounts(source_rows=20, created=20, restored=20, api_calls=20)
    assert intercom_emulator.request_count() - calls == intercom_emulator.request_count("POST /contacts") - 20
    assert restore.status == RunStatus.SUCCEEDED
    assert held(intercom_emulator, intercom_workspace) == {
        f"p{i}@example.com": f"Person {i}" for i in range(1, 21)
    }
    shown = page(owner_client, workspace, restore)
    assert "Of the 20 created, 20 restored" in shown
    assert (
        "restoring the records missing from Intercom in <a href=" in shown
        and f">run {drifted.pk}</a>" in shown
    )

    assert f">run {restore.pk}</a> (succeeded)" in page(owner_client, workspace, drifted)  # "Restored by"

    # The ledger holds the new ids: the next run finds nothing missing.
    after = run_now(workspace, sync)
    assert counts_of(after) == RunCounts(source_rows=20, unchanged=20, drift_checked=5, api_calls=5)
    assert after.status == RunStatus.SUCCEEDED


def test_a_restore_where_most_records_are_there_updates_by_id_and_creates_the_missing_ones(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings, owner_client
):
    sync = user_sync(workspace, warehouse, destination, people(10))
    run_now(workspace, sync)
    ids = ids_by_email(intercom_emulator, intercom_workspace)
    intercom_emulator.set_deleted_hold(0)  # deleted long ago: Intercom has freed their email and External ID
    with intercom_emulator.client(intercom_workspace.token) as api:
        for email in ("p3@example.com", "p7@example.com"):
            assert api.delete(f"/contacts/{ids[email]}").status_code == 200

    settings.SYNC_DRIFT_SAMPLE = 10  # the whole ledger: the counts do not depend on the draw
    drifted = run_now(workspace, sync)
    assert counts_of(drifted) == RunCounts(
        source_rows=10, unchanged=10, drift_checked=10, drift_missing=2, api_calls=10
    )
    assert "It updates each record by its Intercom id" in page(owner_client, workspace, drifted)

    restore = run_services.sync_run_restore(workspace=workspace, run=drifted)
    restore = sync_run_execute(run_id=restore.pk)
    # 8 updated by id (one call each); 2 answered 404 and created in the same run (two calls each).
    assert counts_of(restore) == RunCounts(source_rows=10, updated=8, created=2, restored=2, api_calls=12)
    assert held(intercom_emulator, intercom_workspace) == {
        f"p{i}@example.com": f"Person {i}" for i in range(1, 11)
    }
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 10  # no duplicate


def test_an_update_answered_404_creates_the_record_in_the_same_run_and_counts_it_restored(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = user_sync(workspace, warehouse, destination, people(3))
    run_now(workspace, sync)
    intercom_emulator.set_deleted_hold(0)  # deleted long ago: Intercom has freed its email and External ID
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.delete(f"/contacts/{ids_by_email(intercom_emulator, intercom_workspace)['p2@example.com']}")
    warehouse.table("people", COLUMNS, people(3, renamed={2}))

    changed = run_now(workspace, sync)
    assert counts_of(changed) == RunCounts(source_rows=3, unchanged=2, created=1, restored=1, api_calls=2)
    assert changed.status == RunStatus.SUCCEEDED
    assert held(intercom_emulator, intercom_workspace)["p2@example.com"] == "Person 2 (new)"
    new_id = ids_by_email(intercom_emulator, intercom_workspace)["p2@example.com"]
    entry = LedgerEntry.objects.for_workspace(workspace).get(sync=sync, key="p2@example.com")
    assert entry.destination_id == new_id  # the next change updates the new contact, one call


def test_an_archived_contact_is_drift(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    sync = user_sync(workspace, warehouse, destination, people(3))
    run_now(workspace, sync)
    with intercom_emulator.client(intercom_workspace.token) as api:
        contact_id = ids_by_email(intercom_emulator, intercom_workspace)["p1@example.com"]
        assert api.post(f"/contacts/{contact_id}/archive").status_code == 200

    settings.SYNC_DRIFT_SAMPLE = 5  # more than the ledger has: each record is checked once
    drifted = run_now(workspace, sync)
    assert counts_of(drifted) == RunCounts(
        source_rows=3, unchanged=3, drift_checked=3, drift_missing=1, api_calls=3
    )
    assert drifted.status == RunStatus.SUCCEEDED_WITH_WARNINGS


def test_a_wiped_company_sync_is_restored_at_one_call_each(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    warehouse.table(
        "companies",
        "company_id VARCHAR, name VARCHAR",
        [("cmp-1", "Acme"), ("cmp-2", "Globex ☃"), ("cmp-3", "<b>Initech</b>")],
    )
    model = warehouse.model("SELECT * FROM companies", "company_id", ["company_id", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="upsert",
        key_column="company_id",
        key_identifier="company_id",
        mappings=[m("name", "string", "name")],
    )
    run_now(workspace, sync)
    intercom_emulator.wipe_workspace(intercom_workspace.id_code)

    settings.SYNC_DRIFT_SAMPLE = 5
    drifted = run_now(workspace, sync)
    assert counts_of(drifted) == RunCounts(
        source_rows=3, unchanged=3, drift_checked=3, drift_missing=3, api_calls=3
    )
    restore = sync_run_execute(run_id=run_services.sync_run_restore(workspace=workspace, run=drifted).pk)
    assert counts_of(restore) == RunCounts(source_rows=3, created=3, restored=3, api_calls=3)
    companies = {c["company_id"]: c["name"] for c in intercom_emulator.companies(intercom_workspace.id_code)}
    assert companies == {"cmp-1": "Acme", "cmp-2": "Globex ☃", "cmp-3": "<b>Initech</b>"}


def test_update_only_never_creates_a_contact_its_update_finds_missing(
    workspace, client, owner_client, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        for i in (1, 2, 3):
            api.post(
                "/contacts", json={"role": "user", "external_id": f"u-{i}", "email": f"p{i}@example.com"}
            )
    intercom_emulator.wait_for_search()  # Update Only finds them by search, which lags writes
    sync = user_sync(
        workspace, warehouse, destination, people(3), behavior="update_only", identifier="external_id"
    )
    assert counts_of(run_now(workspace, sync)).updated == 3
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.delete(f"/contacts/{ids_by_email(intercom_emulator, intercom_workspace)['p2@example.com']}")
    warehouse.table("people", COLUMNS, people(3, renamed={2}))

    settings.SYNC_DRIFT_SAMPLE = 5
    changed = run_now(workspace, sync)
    # The sample finds u-2 missing; its update by id is answered 404: skipped, not created.
    assert counts_of(changed) == RunCounts(
        source_rows=3, unchanged=2, skipped=1, drift_checked=3, drift_missing=1, api_calls=4
    )
    assert "p2@example.com" not in held(intercom_emulator, intercom_workspace)
    results = RecordResult.objects.for_workspace(workspace).filter(run=changed)
    assert [(r.key, r.outcome, r.code, r.message) for r in results] == [
        ("u-2", RecordOutcome.SKIPPED, "not_found", "Update Only: no Intercom contact with External ID u-2.")
    ]
    # The ledger forgot the id Intercom no longer has: the next run looks u-2 up as a record never synced.
    assert not LedgerEntry.objects.for_workspace(workspace).filter(sync=sync, key="u-2").exists()

    shown = page(owner_client, workspace, changed)
    assert (
        "1 of the 3 records checked is missing from Intercom." in shown
        and "Restore missing records" not in shown
    )
    assert "Update Only never creates records, so Syncline cannot restore them" in shown
    answer = owner_client.post(reverse("run_restore", args=[workspace.slug, changed.pk]))
    assert answer.status_code == 302
    assert "cannot restore them" in str(list(get_messages(answer.wsgi_request))[0])
    assert not SyncRun.objects.for_workspace(workspace).filter(restores=changed).exists()


def test_only_editors_restore_and_only_runs_that_found_drift(
    workspace, client, owner_client, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    sync = user_sync(workspace, warehouse, destination, people(2))
    clean = run_now(workspace, sync)
    owner_client.post(reverse("run_restore", args=[workspace.slug, clean.pk]))
    assert not SyncRun.objects.for_workspace(workspace).filter(restores=clean).exists()

    intercom_emulator.wipe_workspace(intercom_workspace.id_code)
    settings.SYNC_DRIFT_SAMPLE = 5
    drifted = run_now(workspace, sync)
    client.force_login(member_of(workspace, Role.VIEWER).user)
    assert "Restore missing records" not in page(client, workspace, drifted)
    assert client.post(reverse("run_restore", args=[workspace.slug, drifted.pk])).status_code == 403
    assert client.get(reverse("run_restore", args=[workspace.slug, drifted.pk])).status_code == 405
    assert not SyncRun.objects.for_workspace(workspace).filter(restores=drifted).exists()


def test_a_sync_keyed_by_the_intercom_id_skips_a_contact_deleted_in_intercom(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        ids = [
            api.post("/contacts", json={"role": "user", "email": f"k{i}@example.com"}).json()["id"]
            for i in (1, 2)
        ]
    warehouse.table("people", "intercom_id VARCHAR, name VARCHAR", [(ids[0], "First"), (ids[1], "Second")])
    model = warehouse.model("SELECT * FROM people", "intercom_id", ["intercom_id", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="intercom_id",
        key_identifier="id",
        mappings=[m("name", "string", "name")],
    )
    assert counts_of(run_now(workspace, sync)).updated == 2
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.delete(f"/contacts/{ids[1]}")
    warehouse.table(
        "people", "intercom_id VARCHAR, name VARCHAR", [(ids[0], "First"), (ids[1], "Second, again")]
    )

    changed = run_now(workspace, sync)
    assert counts_of(changed) == RunCounts(source_rows=2, unchanged=1, skipped=1, api_calls=1)
    [result] = RecordResult.objects.for_workspace(workspace).filter(run=changed)
    assert (result.key, result.code) == (ids[1], "not_found")
    assert result.message.startswith(f"No Intercom contact with Intercom ID {ids[1]}: a sync keyed by it")
    assert [c["id"] for c in intercom_emulator.contacts(intercom_workspace.id_code)] == [
        ids[0]
    ]  # none created


def test_a_big_ledger_is_sampled_by_pages_and_a_small_one_sorted(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, monkeypatch
):
    sync = user_sync(workspace, warehouse, destination, people(20))
    run_now(workspace, sync)
    ids = set(ids_by_email(intercom_emulator, intercom_workspace).values())
    assert len(set(drift_sample(sync, 5))) == 5 and set(drift_sample(sync, 5)) <= ids
    assert set(drift_sample(sync, 50)) == ids  # never more than the ledger has
    monkeypatch.setattr(drift, "SAMPLED_PAGES_FROM_ROWS", -1)  # as if the table were big: pages first
    with CaptureQueriesContext(connection) as queries:
        picked = drift_sample(sync, 5)
    assert len(set(picked)) == 5 and set(picked) <= ids
    assert any("TABLESAMPLE" in query["sql"] for query in queries.captured_queries)  # pages, not a sort
    assert drift_sample(sync, 0) == []
