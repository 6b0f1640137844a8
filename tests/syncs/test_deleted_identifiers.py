"""Intercom keeps a permanently deleted contact's email and external ID blocked for a while (recorded): a
create gets 409 "An archived contact … exists with id=<deleted id>", and unarchiving that id answers 400 "not
restorable". Syncline rejects such a record once per run with a reason that says so and what to do, never as
transient, never in a loop. End to end against the emulator over HTTP."""

import pytest

from apps.syncs.models import RecordOutcome, RecordResult
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.syncs.test_outcomes import COLUMNS, counts_of, people, user_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_now(workspace, eager_tasks):
    def run_now(sync):
        started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
        return sync_run_execute(run_id=started.pk)

    return run_now


def calls_of(intercom_emulator, run_sync):
    """Run it; the (endpoint, status) of each Intercom call it made, in order."""
    before = intercom_emulator.request_count()
    result = run_sync()
    made = intercom_emulator.request_count() - before
    recent = intercom_emulator.requests(limit=made)["recent"] if made else []
    return result, [(call["endpoint"], call["status"]) for call in recent]


def result_of(run, key):
    return RecordResult.objects.for_workspace(run.workspace).get(run=run, key=key)


def assert_held_by_deleted(run, key, deleted_id):
    result = result_of(run, key)
    assert (result.outcome, result.code) == (RecordOutcome.REJECTED, "permanently_deleted")
    assert "permanently deleted" in result.message and deleted_id in result.message
    assert "Use another email or external ID, or wait until Intercom frees them" in result.message
    assert "not restorable" in result.message  # Intercom's own words are kept


def test_a_record_whose_email_a_deleted_contact_holds_is_rejected_once_per_run(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        deleted = api.post("/contacts", json={"role": "user", "email": "p1@example.com"}).json()["id"]
        assert api.delete(f"/contacts/{deleted}").status_code == 200
    sync = user_sync(workspace, warehouse, destination, people(2))
    for attempt in (1, 2):  # this run and the next: the same two calls, the same reason
        run, calls = calls_of(intercom_emulator, lambda: run_now(sync))
        assert counts_of(run).rejected == 1, attempt
        assert_held_by_deleted(run, "p1@example.com", deleted)
        p1_calls = [call for call in calls if call != ("POST /contacts", 200)]  # p2: created, then unchanged
        assert p1_calls == [("POST /contacts", 409), ("POST /contacts/{contact_id}/unarchive", 400)]
    held = {c["email"] for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert held == {"p2@example.com"}  # nothing was created for p1, ever


def test_a_synced_contact_deleted_in_intercom_and_changed_here_is_rejected_after_three_calls(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    sync = user_sync(workspace, warehouse, destination, people(1))
    first = run_now(sync)
    assert counts_of(first).created == 1
    (contact,) = intercom_emulator.contacts(intercom_workspace.id_code)
    with intercom_emulator.client(intercom_workspace.token) as api:
        assert api.delete(f"/contacts/{contact['id']}").status_code == 200
    for name in ("Renamed", "Renamed again"):
        warehouse.table("people", COLUMNS, [(1, "p1@example.com", name, "u-1", None)])
        run, calls = calls_of(intercom_emulator, lambda: run_now(sync))
        assert counts_of(run).rejected == 1
        assert_held_by_deleted(run, "p1@example.com", contact["id"])
        # PUT (404: gone) → POST (409: "archived") → unarchive (400): three calls, then rejected.
        assert calls == [
            ("PUT /contacts/{contact_id}", 404),
            ("POST /contacts", 409),
            ("POST /contacts/{contact_id}/unarchive", 400),
        ]
    assert intercom_emulator.contacts(intercom_workspace.id_code) == []
