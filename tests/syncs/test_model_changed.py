"""A model whose SQL changed after its sync was saved, so that a column the sync reads is gone: the run
fails before reading any row or calling Intercom, and says which column; the preview says the same."""

import pytest

from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.preview import sync_preview
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db


def people_sync(workspace, warehouse, destination):
    warehouse.table("people", "email VARCHAR, name VARCHAR", [("ada@example.com", "Ada")])
    model = warehouse.model("SELECT * FROM people", "email", ["email", "name"])
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "name")],
    )
    return model, sync


@pytest.mark.parametrize(
    ("sql", "column"),
    [("SELECT name FROM people", "email"), ("SELECT email FROM people", "name")],
    ids=["sync key gone", "mapped column gone"],
)
def test_a_column_gone_from_the_model_fails_the_run_naming_it_with_no_call(
    workspace, warehouse, destination, intercom_emulator, sql, column
):
    model, sync = people_sync(workspace, warehouse, destination)
    model.sql = sql
    model.save()
    calls = intercom_emulator.request_count()

    run = sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
    )

    assert run.status == RunStatus.FAILED
    assert f"“{column}”" in run.first_error and "no longer fit this sync" in run.first_error
    assert intercom_emulator.request_count() == calls
    preview = sync_preview(workspace=workspace, sync=sync)
    assert f"“{column}”" in preview.error
