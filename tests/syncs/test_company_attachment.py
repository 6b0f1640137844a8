"""Contacts attached to their company, end to end over HTTP (DuckDB model → engine → the Intercom emulator):
a contact is attached only when its company changed, each company is found once per run (or not at all
when a Company sync's ledger knows it), and a contact saved before its company exists is synced with a
warning and attached on a later run."""

import pytest
from django.urls import reverse

from apps.syncs.models import LedgerEntry, RecordResult, RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db

ATTACH = "POST /contacts/{contact_id}/companies"
LOOKUP = "GET /companies"
UPDATE = "PUT /contacts/{contact_id}"
MISSING_C7 = "Saved; company “c-7” is not in Intercom yet: it is attached on a later run once it exists."


def run(workspace, sync):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    return sync_run_execute(run_id=started.pk)


def people(warehouse, rows):
    warehouse.table("people", "email VARCHAR, name VARCHAR, company VARCHAR", rows)


def contact_sync(workspace, warehouse, destination, rows):
    people(warehouse, rows)
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name", "company"], unique=("email",))
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
        options={"company_id_column": "company"},
    )


def company_sync(workspace, warehouse, destination, rows):
    warehouse.table("orgs", "company_id VARCHAR, name VARCHAR", rows)
    model = warehouse.model("SELECT * FROM orgs", "company_id", ["company_id", "name"])
    return make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="upsert",
        key_column="company_id",
        key_identifier="company_id",
        mappings=[m("name", "string", "name")],
    )


def companies_of(emulator, ws, email) -> set[str]:
    """The company_ids of the companies the contact with this email is attached to, in the emulator."""
    by_id = {c["id"]: c["company_id"] for c in emulator.companies(ws.id_code)}
    contact = next(c for c in emulator.contacts(ws.id_code) if c["email"] == email)
    return {by_id[ref["id"]] for ref in contact["companies"]["data"]}


def calls(emulator) -> dict[str, int]:
    return dict(emulator.requests(limit=0)["by_endpoint"])


def new_calls(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        endpoint: n - before.get(endpoint, 0) for endpoint, n in after.items() if n != before.get(endpoint, 0)
    }


def test_a_contact_whose_company_is_missing_is_saved_with_a_warning_and_attached_once_it_exists(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, owner_client
):
    ws = intercom_workspace
    sync = contact_sync(workspace, warehouse, destination, [("ada@example.com", "Ada", "c-7")])

    first = run(workspace, sync)
    assert first.status == RunStatus.SUCCEEDED_WITH_WARNINGS, first.first_error  # never fails a run
    assert (first.counts["created"], first.counts["warnings"], first.counts["rejected"]) == (1, 1, 0)
    assert companies_of(intercom_emulator, ws, "ada@example.com") == set()
    result = RecordResult.objects.for_workspace(workspace).get(run=first, outcome="warning")
    assert (result.key, result.outcome, result.code, result.message) == (
        "ada@example.com",
        "warning",
        "company_not_found",
        MISSING_C7,
    )
    entry = LedgerEntry.objects.for_workspace(workspace).get(sync=sync, key="ada@example.com")
    assert entry.payload_hash and entry.destination_id and entry.company_id == ""

    page = owner_client.get(reverse("run_detail", args=[workspace.slug, first.pk]), {"outcome": "warning"})
    assert [r["key"] for r in page.context["results"]] == ["ada@example.com"]
    html = page.content.decode()
    assert MISSING_C7 in html and "status-warning" in html and "Rejected</span>" not in html

    # Still missing: the contact is not sent again; only the company is looked for (one call).
    before = calls(intercom_emulator)
    second = run(workspace, sync)
    assert new_calls(before, calls(intercom_emulator)) == {LOOKUP: 1}
    assert (second.status, second.counts["unchanged"], second.counts["warnings"]) == (
        RunStatus.SUCCEEDED_WITH_WARNINGS,
        1,
        1,
    )

    assert (
        run(workspace, company_sync(workspace, warehouse, destination, [("c-7", "Initech")])).counts[
            "created"
        ]
        == 1
    )
    before = calls(intercom_emulator)
    third = run(workspace, sync)
    assert new_calls(before, calls(intercom_emulator)) == {ATTACH: 1}  # the Company sync's ledger knows c-7
    assert (third.counts["updated"], third.counts["warnings"], third.counts["api_calls"]) == (1, 0, 1)
    assert companies_of(intercom_emulator, ws, "ada@example.com") == {"c-7"}

    before = calls(intercom_emulator)
    fourth = run(workspace, sync)
    assert calls(intercom_emulator) == before and fourth.counts["unchanged"] == 1


@pytest.fixture
def attached(workspace, warehouse, destination, intercom_emulator, intercom_workspace):
    """Two companies synced by a Company sync, then three contacts attached to them."""
    run(workspace, company_sync(workspace, warehouse, destination, [("c-1", "Acme"), ("c-2", "Globex")]))
    rows = [("ada@example.com", "Ada", "c-1"), ("alan@example.com", "Alan", "c-1"),
            ("grace@example.com", "Grace", "c-2")]  # fmt: skip
    sync = contact_sync(workspace, warehouse, destination, rows)
    before = calls(intercom_emulator)
    first = run(workspace, sync)
    assert first.status == RunStatus.SUCCEEDED and first.counts["created"] == 3, first.first_error
    assert new_calls(before, calls(intercom_emulator)) == {"POST /contacts": 3, ATTACH: 3}  # no lookup
    return sync, rows


def test_a_changed_contact_whose_company_did_not_change_costs_one_call(
    workspace, warehouse, intercom_emulator, intercom_workspace, attached
):
    sync, rows = attached
    people(warehouse, [("ada@example.com", "Ada Lovelace", "c-1"), *rows[1:]])
    before = calls(intercom_emulator)
    result = run(workspace, sync)
    assert new_calls(before, calls(intercom_emulator)) == {UPDATE: 1}
    assert (result.counts["updated"], result.counts["unchanged"], result.counts["api_calls"]) == (1, 2, 1)
    ada = next(
        c for c in intercom_emulator.contacts(intercom_workspace.id_code) if c["email"] == "ada@example.com"
    )
    assert ada["name"] == "Ada Lovelace"
    assert companies_of(intercom_emulator, intercom_workspace, "ada@example.com") == {"c-1"}


def test_a_contact_whose_only_change_is_its_company_costs_the_attachment_alone(
    workspace, warehouse, intercom_emulator, intercom_workspace, attached
):
    sync, rows = attached
    people(warehouse, [("ada@example.com", "Ada", "c-2"), *rows[1:]])
    before = calls(intercom_emulator)
    result = run(workspace, sync)
    assert new_calls(before, calls(intercom_emulator)) == {ATTACH: 1}  # no PUT, no lookup
    assert (result.counts["updated"], result.counts["unchanged"], result.counts["api_calls"]) == (1, 2, 1)
    # Syncline attaches, it never detaches: Ada is in both companies now.
    assert companies_of(intercom_emulator, intercom_workspace, "ada@example.com") == {"c-1", "c-2"}
    before = calls(intercom_emulator)
    assert run(workspace, sync).counts["unchanged"] == 3 and calls(intercom_emulator) == before


def test_a_null_company_keeps_the_attachment_and_costs_nothing(
    workspace, warehouse, intercom_emulator, intercom_workspace, attached
):
    sync, rows = attached
    people(warehouse, [("ada@example.com", "Ada", None), *rows[1:]])
    before = calls(intercom_emulator)
    assert run(workspace, sync).counts["unchanged"] == 3 and calls(intercom_emulator) == before
    assert companies_of(intercom_emulator, intercom_workspace, "ada@example.com") == {"c-1"}


def test_each_company_is_looked_up_once_however_many_threads_need_it(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    """Companies Syncline did not sync (made in Intercom directly) are looked up: once each per run, while
    eight threads attach contacts to them at the same time."""
    with intercom_emulator.client(intercom_workspace.token) as api:
        for company_id in ("c-1", "c-2", "c-3"):
            assert (
                api.post("/companies", json={"company_id": company_id, "name": company_id}).status_code == 200
            )
    settings.SYNC_CONCURRENCY = 8
    intercom_emulator.set_faults(latency_ms=200)  # calls overlap: threads ask for the same company together
    rows = [(f"p{i}@example.com", f"P {i}", f"c-{i % 3 + 1}") for i in range(48)]
    sync = contact_sync(workspace, warehouse, destination, rows)
    before = calls(intercom_emulator)
    result = run(workspace, sync)
    assert result.status == RunStatus.SUCCEEDED and result.counts["created"] == 48, result.first_error
    assert new_calls(before, calls(intercom_emulator)) == {"POST /contacts": 48, LOOKUP: 3, ATTACH: 48}
    users = {
        c["company_id"]: c["user_count"] for c in intercom_emulator.companies(intercom_workspace.id_code)
    }
    assert users == {"c-1": 16, "c-2": 16, "c-3": 16}


def test_a_company_a_delete_sync_removed_is_looked_up_not_taken_from_the_ledger(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    upsert = company_sync(workspace, warehouse, destination, [("c-1", "Acme")])
    run(workspace, upsert)
    delete = make_sync(
        workspace,
        upsert.model,
        destination,
        object_key="company",
        behavior="delete",
        key_column="company_id",
        key_identifier="company_id",
    )
    assert run(workspace, delete).counts["deleted"] == 1
    sync = contact_sync(workspace, warehouse, destination, [("ada@example.com", "Ada", "c-1")])
    before = calls(intercom_emulator)
    result = run(workspace, sync)
    assert new_calls(before, calls(intercom_emulator)) == {"POST /contacts": 1, LOOKUP: 1}
    assert (result.status, result.counts["created"], result.counts["warnings"]) == (
        RunStatus.SUCCEEDED_WITH_WARNINGS,
        1,
        1,
    )
