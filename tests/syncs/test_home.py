"""The home page: the five steps on an empty workspace; syncs, what needs attention and a chart after."""

import pytest
from django.urls import reverse

from apps.syncs.models import SyncRun
from tests.factories import IntercomConnectionFactory
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db


def test_an_empty_workspace_shows_the_five_steps(owner_client, workspace):
    html = owner_client.get(reverse("workspace_home", args=[workspace.slug])).content.decode()
    assert "Connect Intercom" in html and "Confirm the data arrived" in html
    assert 'class="done"' not in html


def test_syncs_failures_and_reconnects_are_shown(owner_client, workspace, warehouse, destination,
                                                 django_assert_max_num_queries):  # fmt: skip
    warehouse.table("people", "email VARCHAR, name VARCHAR", [("a@example.com", "A")])
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name"])
    sync = make_sync(workspace, model, destination, object_key="user", behavior="upsert", key_column="email",
                     key_identifier="email", mappings=[m("name", "string", "name")], name="People")  # fmt: skip
    for status, created in (("succeeded", 5), ("failed", 0)):
        SyncRun.objects.create(workspace=workspace, sync=sync, status=status, counts={"created": created})
    IntercomConnectionFactory(workspace=workspace, name="Old Intercom", status="needs_reconnect",
                              status_message="Intercom refused the access token")  # fmt: skip
    with django_assert_max_num_queries(12):
        html = owner_client.get(reverse("workspace_home", args=[workspace.slug])).content.decode()
    assert "Needs attention" in html
    assert "People</a>: last run" in html and "Old Intercom" in html
    assert "Records synced per day" in html and "peak 5 records a day" in html
    assert html.count("<rect") == 30


def test_no_records_yet_says_so_instead_of_an_empty_chart(owner_client, workspace, warehouse, destination):
    warehouse.table("people", "email VARCHAR, name VARCHAR", [("a@example.com", "A")])
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name"])
    make_sync(workspace, model, destination, object_key="user", behavior="upsert", key_column="email",
              key_identifier="email", mappings=[m("name", "string", "name")])  # fmt: skip
    html = owner_client.get(reverse("workspace_home", args=[workspace.slug])).content.decode()
    assert "No records synced in the last 30 days." in html and "<rect" not in html
