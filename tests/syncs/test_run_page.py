"""The run page says "Every record went through" only when it is true."""

import pytest
from django.urls import reverse

from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "counts", "says_all_went_through"),
    [
        ("succeeded", {"source_rows": 3, "created": 3}, True),
        ("succeeded", {"source_rows": 3, "skipped": 3}, False),  # Update Only into an empty workspace
        ("succeeded_with_warnings", {"source_rows": 3, "created": 2, "warnings": 1}, False),
        ("failed", {"source_rows": 3, "rejected": 3}, False),  # its details expired, say
        ("running", {"source_rows": 3, "created": 1}, False),  # not yet known
    ],
)
def test_every_record_went_through_only_when_it_did(
    owner_client, workspace, status, counts, says_all_went_through
):
    run = SyncRunFactory(workspace=workspace, status=status, counts=counts)
    html = owner_client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()
    assert ("Every record went through" in html) is says_all_went_through
    assert "{#" not in html and "{%" not in html
