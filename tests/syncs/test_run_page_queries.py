"""The run page and the record page cost the same number of queries with 10 records and with 10,000."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.syncs.models import LedgerEntry, RecordOutcome, RecordResult, SyncRun
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

OUTCOMES = [RecordOutcome.REJECTED, RecordOutcome.INVALID, RecordOutcome.SKIPPED, RecordOutcome.WARNING]


def records(run, count: int) -> None:
    RecordResult.objects.bulk_create(
        (
            RecordResult(
                workspace=run.workspace,
                run=run,
                key=f"user{i}@example.com",
                outcome=OUTCOMES[i % 4],
                code=f"code_{i % 9}",
                message=f"reason {i}",
            )
            for i in range(count)
        ),
        batch_size=2_000,
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?q=user&outcome=rejected", "?code=code_3&page=2"])
def test_the_run_page_costs_the_same_queries_with_10_and_10000_records(owner_client, workspace, query):
    few, many = (
        SyncRunFactory(workspace=workspace, counts={"source_rows": n, "rejected": n}) for n in (10, 10_000)
    )
    records(few, 10)
    records(many, 10_000)
    owner_client.get(
        reverse("workspace_home", args=[workspace.slug])
    )  # the session's first request writes once
    pages = [reverse("run_detail", args=[workspace.slug, run.pk]) + query for run in (few, many)]
    assert queries(owner_client, pages[0]) == queries(owner_client, pages[1])


def test_a_search_that_finds_nothing_in_the_run_costs_the_same_queries(owner_client, workspace):
    """The run page's answer from the other runs and the ledger (an unchanged record) is bounded too."""
    few, many = (SyncRunFactory(workspace=workspace, counts={"source_rows": n}) for n in (10, 10_000))
    records(few, 10)
    records(many, 10_000)
    owner_client.get(reverse("workspace_home", args=[workspace.slug]))
    pages = [reverse("run_detail", args=[workspace.slug, run.pk]) + "?q=nobody" for run in (few, many)]
    assert queries(owner_client, pages[0]) == queries(owner_client, pages[1])


def history(sync, key: str, runs: int) -> None:
    """`runs` runs of the sync that each sent the record `key` (with the body sent)."""
    made = SyncRun.objects.bulk_create(
        SyncRun(workspace=sync.workspace, sync=sync, status="succeeded", counts={"updated": 1})
        for _ in range(runs)
    )
    RecordResult.objects.bulk_create(
        (
            RecordResult(
                workspace=sync.workspace,
                run=run,
                key=key,
                outcome=RecordOutcome.UPDATED,
                payload={"email": key, "name": f"Person {n}", "signed_up_at": 1_700_000_000 + n},
                destination_id=f"id-{n}",
                lookup=key,
            )
            for n, run in enumerate(made)
        ),
        batch_size=2_000,
    )


@pytest.mark.parametrize("query", ["", "&page=2"])
def test_the_record_page_costs_the_same_queries_with_10_and_10000_records(owner_client, workspace, query):
    """A key touched by 10 runs and one touched by 10,000, in syncs of 10 and 10,000 records."""
    syncs = []
    for n in (10, 10_000):
        run = SyncRunFactory(workspace=workspace, counts={"source_rows": n, "rejected": n})
        records(run, n)
        history(run.sync, "user1@example.com", n)
        LedgerEntry.objects.create(
            workspace=workspace,
            sync=run.sync,
            key="user1@example.com",
            destination_id="c1",
            synced_at=timezone.now(),
        )
        syncs.append(run.sync)
    owner_client.get(reverse("workspace_home", args=[workspace.slug]))
    pages = [
        reverse("sync_record", args=[workspace.slug, sync.pk]) + "?key=user1%40example.com" + query
        for sync in syncs
    ]
    assert queries(owner_client, pages[0]) == queries(owner_client, pages[1])
    html = owner_client.get(pages[1]).content.decode()
    assert (
        html.count('<article class="record-run">') == 20
    )  # one page of the 10,000 runs (and the first run's)
    assert f"Page {2 if query else 1} of 501" in html
