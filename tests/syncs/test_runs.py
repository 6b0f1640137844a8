"""End to end over HTTP: a DuckDB model → the engine → the Intercom emulator, for every catalog row."""

import pytest

from apps.common.problems import Invalid, Problem
from apps.syncs.engine.config import Target
from apps.syncs.models import LedgerEntry, RecordResult, RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.preview import sync_preview
from tests.fixtures.syncs import m, make_sync

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

USERS = [
    (1, "ada@example.com", "Ada", "pro", 99.5, "u-1", "cmp-1"),
    (2, "alan@example.com", "Alan", "free", 0.0, "u-2", "cmp-1"),
    (3, "grace@example.com", "Grace", "team", 49.0, "u-3", "cmp-2"),
]
USER_COLUMNS = (
    "id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, mrr DOUBLE, external_id VARCHAR, company VARCHAR"
)
USER_NAMES = ["id", "email", "name", "plan", "mrr", "external_id", "company"]


def run(workspace, sync, **kwargs):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False, **kwargs)
    return sync_run_execute(run_id=started.pk)


def contacts(intercom_emulator, ws):
    return {c.get("email"): c for c in intercom_emulator.contacts(ws.id_code)}


def users_sync(
    workspace,
    warehouse,
    destination,
    *,
    object_key="user",
    identifier="email",
    behavior="upsert",
    rows=USERS,
    options=None,
):
    warehouse.table("users", USER_COLUMNS, rows)
    model = warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email", "external_id"))
    key_column = {"email": "email", "external_id": "external_id"}[identifier]
    mappings = [
        m("name", "string", "name"),
        m("plan", "string", "plan", custom=True),
        m("mrr", "float", "mrr", custom=True),
    ]
    if identifier != "email":
        mappings.append(m("email", "string", "email"))
    return make_sync(
        workspace,
        model,
        destination,
        object_key=object_key,
        behavior=behavior,
        key_column=key_column,
        key_identifier=identifier,
        mappings=mappings,
        options=options,
    )


@pytest.mark.parametrize(
    ("object_key", "identifier"),
    [("user", "email"), ("user", "external_id"), ("contact", "email"), ("lead", "email")],
)
def test_upsert_contacts_then_a_rerun_makes_zero_calls(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, object_key, identifier
):
    sync = users_sync(workspace, warehouse, destination, object_key=object_key, identifier=identifier)
    first = run(workspace, sync)
    assert first.status == RunStatus.SUCCEEDED, first.first_error
    assert first.counts["created"] == 3 and first.counts["rejected"] == 0
    state = contacts(intercom_emulator, intercom_workspace)
    assert set(state) == {"ada@example.com", "alan@example.com", "grace@example.com"}
    ada = state["ada@example.com"]
    assert ada["name"] == "Ada" and ada["custom_attributes"]["plan"] == "pro"
    assert ada["custom_attributes"]["mrr"] == 99.5
    assert ada["role"] == ("lead" if object_key == "lead" else "user")

    calls = intercom_emulator.request_count()
    second = run(workspace, sync)
    assert intercom_emulator.request_count() == calls  # zero API calls
    assert second.counts["unchanged"] == 3 and second.counts["api_calls"] == 0


def test_leads_are_matched_by_email_not_by_the_external_id_intercom_invents(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:  # Intercom never refuses a duplicate lead
        existing = api.post("/contacts", json={"role": "lead", "email": "ada@example.com"}).json()
        api.post("/contacts", json={"role": "user", "email": "grace@example.com"})  # a user is no match
    intercom_emulator.wait_for_search()
    sync = users_sync(workspace, warehouse, destination, object_key="lead")
    first = run(workspace, sync)
    assert (first.counts["created"], first.counts["updated"], first.counts["matched_existing"]) == (2, 1, 1)
    held = intercom_emulator.contacts(intercom_workspace.id_code)
    leads = sorted((c["email"], c["name"]) for c in held if c["role"] == "lead")
    assert leads == [("ada@example.com", "Ada"), ("alan@example.com", "Alan"), ("grace@example.com", "Grace")]
    ada = next(c for c in held if c["email"] == "ada@example.com")
    assert ada["id"] == existing["id"]  # updated, not duplicated
    entry = LedgerEntry.objects.for_workspace(workspace).get(sync=sync, key="ada@example.com")
    assert entry.destination_id == existing["id"]  # stored by the Intercom id, not the invented External ID


def test_changed_rows_are_updated_and_only_they(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = users_sync(workspace, warehouse, destination)
    run(workspace, sync)
    changed = [USERS[0][:3] + ("enterprise",) + USERS[0][4:], *USERS[1:]]
    warehouse.table("users", USER_COLUMNS, changed)
    preview = sync_preview(workspace=workspace, sync=sync)
    assert preview.counts["updated"] == 1 and preview.counts["unchanged"] == 2
    sample = preview.samples["updated"][0]
    assert sample.changes["custom_attributes.plan"] == ("pro", "enterprise")
    result = run(workspace, sync)
    assert result.counts["updated"] == 1 and result.counts["unchanged"] == 2
    assert result.counts["api_calls"] == 1  # one PUT, the id came from the ledger
    assert (
        contacts(intercom_emulator, intercom_workspace)["ada@example.com"]["custom_attributes"]["plan"]
        == "enterprise"
    )


def test_preview_counts_equal_the_run_that_follows(workspace, warehouse, destination, intercom_emulator):
    rows = [
        *USERS,
        (4, None, "No email", "free", 0.0, "u-4", None),
        (5, "ada@example.com", "Dup", "free", 0.0, "u-5", None),
    ]
    sync = users_sync(workspace, warehouse, destination, rows=rows)
    calls_before = intercom_emulator.request_count()
    preview = sync_preview(workspace=workspace, sync=sync)
    assert intercom_emulator.request_count() == calls_before  # a preview sends nothing
    result = run(workspace, sync)
    for key in ("source_rows", "created", "updated", "unchanged", "invalid"):
        assert preview.counts[key] == result.counts[key], key
    assert result.counts["invalid"] == 3  # both rows of ada@example.com, and the row without a key
    reasons = list(
        RecordResult.objects.for_workspace(workspace).filter(run=result).values_list("message", flat=True)
    )
    assert any("row 4" in r for r in reasons) and any("ada@example.com" in r for r in reasons)


def test_update_only_skips_records_not_in_intercom(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.post("/contacts", json={"role": "user", "email": "ada@example.com"})
    intercom_emulator.wait_for_search()  # search lags writes, as Intercom's does
    sync = users_sync(workspace, warehouse, destination, behavior="update_only")
    result = run(workspace, sync)
    assert result.counts["updated"] == 1 and result.counts["skipped"] == 2
    assert set(contacts(intercom_emulator, intercom_workspace)) == {"ada@example.com"}


def test_delete_archives_contacts(workspace, warehouse, destination, intercom_emulator, intercom_workspace):
    upsert = users_sync(workspace, warehouse, destination)
    run(workspace, upsert)
    model = upsert.model
    delete = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="delete",
        key_column="email",
        key_identifier="email",
    )
    intercom_emulator.wait_for_search()  # search lags writes, as Intercom's does
    result = run(workspace, delete)
    assert result.counts["archived"] == 3, result.first_error
    state = contacts(intercom_emulator, intercom_workspace)
    assert len(state) == 3 and all(c["archived"] for c in state.values())
    again = run(workspace, delete)  # the ledger remembers what was archived: nothing to send
    assert again.counts["unchanged"] == 3 and again.counts["api_calls"] == 0


def test_companies_upsert_and_delete(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    warehouse.table(
        "companies",
        "company_id VARCHAR, name VARCHAR, size INTEGER, tier VARCHAR",
        [("cmp-1", "Acme", 10, "gold"), ("cmp-2", "Globex", 200, "silver")],
    )
    model = warehouse.model("SELECT * FROM companies", "company_id", ["company_id", "name", "size", "tier"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="upsert",
        key_column="company_id",
        key_identifier="company_id",
        mappings=[
            m("name", "string", "name"),
            m("size", "integer", "size"),
            m("tier", "string", "tier", custom=True),
        ],
    )
    result = run(workspace, sync)
    assert result.counts["created"] == 2, result.first_error
    companies = {c["company_id"]: c for c in intercom_emulator.companies(intercom_workspace.id_code)}
    assert companies["cmp-1"]["name"] == "Acme" and companies["cmp-1"]["custom_attributes"]["tier"] == "gold"
    calls = intercom_emulator.request_count()
    assert run(workspace, sync).counts["unchanged"] == 2 and intercom_emulator.request_count() == calls

    delete = make_sync(
        workspace,
        model,
        destination,
        object_key="company",
        behavior="delete",
        key_column="company_id",
        key_identifier="company_id",
    )
    assert run(workspace, delete).counts["deleted"] == 2


def test_contacts_are_attached_to_their_company(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    warehouse.table("companies", "company_id VARCHAR, name VARCHAR", [("cmp-1", "Acme"), ("cmp-2", "Globex")])
    companies = warehouse.model("SELECT * FROM companies", "company_id", ["company_id", "name"])
    run(
        workspace,
        make_sync(
            workspace,
            companies,
            destination,
            object_key="company",
            behavior="upsert",
            key_column="company_id",
            key_identifier="company_id",
            mappings=[m("name", "string", "name")],
        ),
    )
    sync = users_sync(workspace, warehouse, destination, options={"company_id_column": "company"})
    result = run(workspace, sync)
    assert result.status == RunStatus.SUCCEEDED, result.first_error
    state = {c["company_id"]: c for c in intercom_emulator.companies(intercom_workspace.id_code)}
    assert state["cmp-1"]["user_count"] == 2 and state["cmp-2"]["user_count"] == 1


def test_events_are_sent_once(workspace, warehouse, destination, intercom_emulator, intercom_workspace):
    users = users_sync(workspace, warehouse, destination)
    run(workspace, users)
    warehouse.table(
        "events",
        "event_id VARCHAR, email VARCHAR, name VARCHAR, happened_at TIMESTAMP, plan VARCHAR",
        [
            ("e1", "ada@example.com", "signed-in", "2026-01-01 10:00:00", "pro"),
            ("e2", "alan@example.com", "exported-report", "2026-01-02 11:00:00", "free"),
        ],
    )
    model = warehouse.model(
        "SELECT * FROM events", "event_id", ["event_id", "email", "name", "happened_at", "plan"]
    )
    options = {"event": {"contact_column": "email", "contact_key": "email", "created_at_column": "happened_at",
                         "event_name_column": "name", "metadata_columns": ["plan"]}}  # fmt: skip
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="event",
        behavior="send",
        key_column="event_id",
        key_identifier="event_id",
        options=options,
    )
    assert run(workspace, sync).counts["sent"] == 2
    assert run(workspace, sync, full_resync=True).counts["sent"] == 0  # a full resync never resends events
    events = intercom_emulator.events(intercom_workspace.id_code)
    assert sorted(e["event_name"] for e in events) == ["exported-report", "signed-in"]
    assert intercom_emulator.duplicate_event_count() == 0


def test_failures_mid_run_are_retried_next_run_and_successes_are_not_resent(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings
):
    rows = [(i, f"user{i}@example.com", f"User {i}", "free", 0.0, f"u-{i}", None) for i in range(1, 41)]
    sync = users_sync(workspace, warehouse, destination, rows=rows)
    intercom_emulator.set_faults(error_rate=0.5, error_statuses=[500])
    settings.INTERCOM_CLIENT_MAX_ATTEMPTS = 1
    first = run(workspace, sync)
    assert first.status == RunStatus.PARTIALLY_FAILED, first.counts
    failed = first.counts["rejected"]
    assert 0 < failed < 40 and first.counts["created"] == 40 - failed
    intercom_emulator.set_faults(error_rate=0)
    second = run(workspace, sync)
    assert second.status == RunStatus.SUCCEEDED
    assert second.counts["created"] + second.counts["updated"] == failed
    assert second.counts["unchanged"] == 40 - failed
    assert len(contacts(intercom_emulator, intercom_workspace)) == 40


def test_a_revoked_token_fails_the_run_and_marks_the_connection(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = users_sync(workspace, warehouse, destination)
    intercom_emulator.revoke_token(intercom_workspace.token)
    result = run(workspace, sync)
    assert result.status == RunStatus.FAILED and "reconnect" in result.first_error
    destination.refresh_from_db()
    assert destination.status == "needs_reconnect"
    assert intercom_workspace.token not in result.first_error


@pytest.mark.parametrize("object_key", ["contact", "lead", "user"])
@pytest.mark.parametrize("behavior", ["update_only", "delete"])
def test_update_only_and_delete_for_every_contact_object(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, object_key, behavior
):
    role = "lead" if object_key == "lead" else "user"
    with intercom_emulator.client(intercom_workspace.token) as api:
        for email in ("ada@example.com", "alan@example.com"):
            assert api.post("/contacts", json={"role": role, "email": email}).status_code == 200
    intercom_emulator.wait_for_search()  # search lags writes, as Intercom's does
    mappings = [m("name", "string", "name")] if behavior == "update_only" else []
    warehouse.table("users", USER_COLUMNS, USERS)
    model = warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email",))
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key=object_key,
        behavior=behavior,
        key_column="email",
        key_identifier="email",
        mappings=mappings,
    )
    result = run(workspace, sync)
    state = contacts(intercom_emulator, intercom_workspace)
    assert set(state) == {"ada@example.com", "alan@example.com"}  # nothing created
    assert result.counts["skipped"] == 1  # grace is not in Intercom
    if behavior == "update_only":
        assert result.counts["updated"] == 2 and state["ada@example.com"]["name"] == "Ada"
    else:
        assert result.counts["archived"] == 2 and all(c["archived"] for c in state.values())


def test_contacts_keyed_by_intercom_id_and_permanent_delete(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        ids = [
            api.post("/contacts", json={"role": "user", "email": f"p{i}@example.com"}).json()["id"]
            for i in range(2)
        ]
    warehouse.table("people", "intercom_id VARCHAR, name VARCHAR", [(ids[0], "First"), (ids[1], "Second")])
    model = warehouse.model("SELECT * FROM people", "intercom_id", ["intercom_id", "name"])
    upsert = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="intercom_id",
        key_identifier="id",
        mappings=[m("name", "string", "name")],
    )
    assert run(workspace, upsert).counts["updated"] == 2
    assert {c["name"] for c in contacts(intercom_emulator, intercom_workspace).values()} == {
        "First",
        "Second",
    }
    delete = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="delete",
        key_column="intercom_id",
        key_identifier="id",
        options={"permanent_delete": True},
    )
    assert run(workspace, delete).counts["deleted"] == 2
    assert contacts(intercom_emulator, intercom_workspace) == {}


def test_a_cancelled_run_stops_after_the_records_in_flight(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace, settings, monkeypatch
):
    from apps.syncs.models import LedgerEntry, SyncRun
    from apps.syncs.runs import loop

    rows = [(i, f"user{i}@example.com", f"User {i}", "free", 0.0, f"u-{i}", None) for i in range(1, 61)]
    sync = users_sync(workspace, warehouse, destination, rows=rows)
    intercom_emulator.set_faults(latency_ms=50)
    settings.SYNC_CONCURRENCY = 2
    monkeypatch.setattr(loop, "PROGRESS_EVERY_SECONDS", 0.2)
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)

    def cancel_once_running(counts):  # the cancel arrives while the worker runs
        if counts["source_rows"] == 1:
            SyncRun.objects.for_workspace(workspace).filter(pk=started.pk).update(cancel_requested=True)

    result = sync_run_execute(run_id=started.pk, progress=cancel_once_running)
    assert result.status == RunStatus.CANCELLED
    created = result.counts["created"]
    assert 0 < created < 60
    assert LedgerEntry.objects.for_workspace(workspace).filter(sync=sync).count() == created
    assert len(contacts(intercom_emulator, intercom_workspace)) == created  # nothing sent beyond the ledger
    intercom_emulator.set_faults(latency_ms=0)
    rest = run(workspace, sync)
    assert rest.counts["created"] == 60 - created and rest.counts["unchanged"] == created


def test_a_custom_attribute_intercom_does_not_have_is_refused_on_save(workspace, warehouse, destination):
    from apps.connections.intercom.attributes import attribute_list

    attribute_list(destination)  # the destination's attributes are read (and cached) as the editor does
    warehouse.table("users", USER_COLUMNS, USERS)
    model = warehouse.model("SELECT * FROM users", "id", USER_NAMES, unique=("email",))
    with pytest.raises(Invalid) as error:
        make_sync(
            workspace,
            model,
            destination,
            object_key="user",
            behavior="upsert",
            key_column="email",
            key_identifier="email",
            mappings=[m("favourite_colour", "string", "plan", custom=True)],
        )
    assert error.value.problems == [
        Problem(
            Target("favourite_colour", custom=True),
            "unknown_attribute",
            "Intercom has no custom attribute “favourite_colour” on contacts: create it in the mapper first.",
        )
    ]


# transaction=True: the heartbeat is written on the run watch's own database connection, which sees only
# committed rows; inside the test's transaction it would update nothing and heartbeat_at would stay put.
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_written_while_a_run_is_slow(
    workspace, warehouse, destination, intercom_emulator, settings
):
    from apps.syncs.models import SyncRun

    settings.SYNC_RUN_HEARTBEAT_SECONDS = 0.1
    settings.SYNC_RUN_LEASE_SECONDS = 1
    settings.SYNC_CONCURRENCY = 1  # one record at a time: the run lasts a few seconds
    intercom_emulator.set_faults(latency_ms=150)
    rows = [(i, f"user{i}@example.com", f"User {i}", "free", 0.0, f"u-{i}", "cmp-1") for i in range(1, 13)]
    sync = users_sync(workspace, warehouse, destination, rows=rows)
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    heartbeats = []

    def read_heartbeat(counts):  # after each record, while the run is going
        run = SyncRun.objects.for_workspace(workspace).get(pk=started.pk)
        assert run.status == RunStatus.RUNNING
        heartbeats.append(run.heartbeat_at)

    result = sync_run_execute(run_id=started.pk, progress=read_heartbeat)
    assert result.status == RunStatus.SUCCEEDED, result.first_error
    assert len(heartbeats) >= 2
    # Claiming the run sets heartbeat_at once; only the heartbeat moves it on while records are sent.
    assert heartbeats[-1] > heartbeats[0]
    assert len(set(heartbeats)) >= 3
