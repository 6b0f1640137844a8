"""Any column can be the sync key, end to end: its values are checked each time the model is read, every
row of a repeated or empty key is invalid (listed, zero calls), and the outcome of a key does not depend
on the order of the rows."""

import pytest

from apps.syncs import services
from apps.syncs.models import RecordOutcome, RecordResult, RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.preview import sync_preview
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db

COLUMNS = "user_id INTEGER, email VARCHAR, name VARCHAR"
ROWS = [
    (1, "ada@example.com", "Ada"),
    (2, " Alan@Example.com\t", "Alan"),  # the same person as row 5, written differently
    (3, "grace@example.com", "Grace"),
    (4, None, "Nobody"),
    (5, "alan@example.com", "Alan T."),
    (6, "Linus@Example.com ", "Linus"),
]


def run(workspace, sync):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    return sync_run_execute(run_id=started.pk)


def email_sync(workspace, warehouse, destination, rows):
    """A User sync matched Email ↔ Email on a model whose key is user_id; email is declared nowhere."""
    warehouse.table("people", COLUMNS, rows)
    model = warehouse.model("SELECT * FROM people", "user_id", ["user_id", "email", "name"])
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )


def invalid_reasons(run):
    """The reasons of the invalid records, by key (a row without a key by its reason alone: its row number
    follows the order)."""
    results = RecordResult.objects.for_workspace(run.workspace).filter(run=run, outcome=RecordOutcome.INVALID)
    return sorted(r.message if r.key else r.message.split(": ", 1)[1] for r in results)


def test_a_sync_keyed_email_to_email_on_a_model_keyed_by_user_id_lists_duplicate_emails(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = email_sync(workspace, warehouse, destination, ROWS)
    assert services.sync_problems(model=sync.model, config=sync.config) == []

    preview = sync_preview(workspace=workspace, sync=sync)
    assert preview.counts["invalid"] == 3 and preview.counts["created"] == 3

    first = run(workspace, sync)
    assert first.status == RunStatus.SUCCEEDED_WITH_WARNINGS, first.first_error  # the invalid rows
    assert (first.counts["created"], first.counts["invalid"], first.counts["rejected"]) == (3, 3, 0)
    repeated = (
        "alan@example.com: email: the key “alan@example.com” appears in 2 rows; a sync key must be unique, "
        "so none of them is synced"
    )
    assert invalid_reasons(first) == sorted([repeated, repeated, "email: the sync key is empty"])
    held = {c["email"]: c["name"] for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    # Intercom holds the unique keys only, each email as the model wrote it (trimmed).
    assert held == {"ada@example.com": "Ada", "grace@example.com": "Grace", "Linus@Example.com": "Linus"}


def test_the_same_rows_in_another_order_give_the_same_outcome_per_key(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = email_sync(workspace, warehouse, destination, ROWS)
    first = run(workspace, sync)
    held = intercom_emulator.contacts(intercom_workspace.id_code)

    warehouse.table("people", COLUMNS, ROWS[::-1])
    again = run(workspace, sync)
    assert again.status == RunStatus.SUCCEEDED_WITH_WARNINGS, again.first_error
    assert again.counts["unchanged"] == 3 and again.counts["invalid"] == 3
    assert again.counts["api_calls"] == 0  # the order changed nothing: no call
    assert invalid_reasons(again) == invalid_reasons(first)
    assert intercom_emulator.contacts(intercom_workspace.id_code) == held
