"""The run page costs the same number of queries with 10 records and with 10,000."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.syncs.models import RecordOutcome, RecordResult
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db

OUTCOMES = [RecordOutcome.REJECTED, RecordOutcome.INVALID, RecordOutcome.SKIPPED, RecordOutcome.WARNING]


def records(run, count: int) -> None:
    RecordResult.objects.bulk_create(
        (RecordResult(workspace=run.workspace, run=run, key=f"user{i}@example.com", outcome=OUTCOMES[i % 4],
                      code=f"code_{i % 9}", message=f"reason {i}") for i in range(count)),
        batch_size=2_000,
    )  # fmt: skip


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
