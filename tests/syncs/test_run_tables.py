"""Run tables show what each run did in the words of its sync's behavior: Sent for events, Archived and
Deleted for Delete, Skipped for Update Only; never a row of zeros for a run that did something."""

import pytest
from django.urls import reverse

from tests.factories import SyncFactory, SyncRunFactory
from tests.html_tables import table_rows

pytestmark = pytest.mark.django_db

RUNS = {
    ("event", "send"): {"source_rows": 7, "sent": 5, "unchanged": 2},
    ("user", "delete"): {"source_rows": 4, "archived": 3, "skipped": 1},
    ("user", "update_only"): {"source_rows": 3, "updated": 1, "skipped": 2},
    ("company", "upsert"): {"source_rows": 4, "created": 2, "rejected": 1, "invalid": 1, "warnings": 1},
}


@pytest.fixture
def runs(workspace):
    made = {}
    for (object_key, behavior), counts in RUNS.items():
        sync = SyncFactory(
            workspace=workspace, object_key=object_key, behavior=behavior, name=f"{object_key} {behavior}"
        )
        made[behavior] = SyncRunFactory(workspace=workspace, sync=sync, counts=counts)
    return made


@pytest.mark.parametrize(
    ("behavior", "header", "values"),
    [
        ("send", ["Sent", "Skipped", "Unchanged", "Rejected", "Invalid"], ["5", "0", "2", "0", "0"]),
        (
            "delete",
            ["Archived", "Deleted", "Skipped", "Unchanged", "Rejected", "Invalid"],
            ["3", "0", "1", "0", "0", "0"],
        ),
        (
            "update_only",
            ["Updated", "Skipped", "Unchanged", "Rejected", "Invalid"],
            ["1", "2", "0", "0", "0"],
        ),
        ("upsert", ["Created", "Updated", "Unchanged", "Rejected", "Invalid"], ["2", "0", "0", "1", "1"]),
    ],
)
def test_a_syncs_history_has_the_columns_of_its_behavior(
    owner_client, workspace, runs, behavior, header, values
):
    run = runs[behavior]
    html = owner_client.get(reverse("sync_detail", args=[workspace.slug, run.sync_id])).content.decode()
    head, row = table_rows(html, "runs")[:2]
    assert head[-len(header) :] == header
    assert row[-len(values) :] == values


def test_the_run_list_names_what_each_run_did(owner_client, workspace, runs):
    html = owner_client.get(reverse("run_list", args=[workspace.slug])).content.decode()
    records = {row[1]: row[-1] for row in table_rows(html, "runs")[1:]}
    assert records == {
        "event send": "5 sent · 2 unchanged",
        "user delete": "3 archived · 1 skipped",
        "user update_only": "1 updated · 2 skipped",
        "company upsert": "2 created · 1 rejected · 1 invalid · 1 warning",
    }
