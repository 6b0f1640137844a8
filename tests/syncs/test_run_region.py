"""A run whose connection points at the wrong data host region says to check the region, not to reconnect:
the token is fine, Intercom only knows it on its own region's host."""

import pytest

from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.fixtures.syncs import m, make_sync

pytestmark = pytest.mark.django_db


def users_sync(workspace, warehouse, destination):
    warehouse.table("users", "id INTEGER, email VARCHAR, name VARCHAR", [(1, "ada@example.com", "Ada")])
    model = warehouse.model("SELECT * FROM users", "id", ["id", "email", "name"], unique=("email",))
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


def run(workspace, sync):
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    return sync_run_execute(run_id=started.pk)


def test_a_run_in_the_wrong_region_says_check_the_data_host_region(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    destination.config = {**destination.config, "region": "EU"}  # the workspace is hosted in the US
    destination.save()
    sync = users_sync(workspace, warehouse, destination)

    result = run(workspace, sync)

    assert result.status == RunStatus.FAILED
    assert "check the data host region" in result.first_error
    assert "in the EU region" in result.first_error and "accepts it in US" in result.first_error
    assert "reconnect" not in result.first_error.lower()
    assert intercom_workspace.token not in result.first_error
    destination.refresh_from_db()
    assert destination.status == "failing" and destination.status_message == result.first_error
    assert intercom_emulator.contacts(intercom_workspace.id_code) == []  # nothing reached Intercom


def test_a_revoked_token_still_says_reconnect(
    workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = users_sync(workspace, warehouse, destination)
    intercom_emulator.revoke_token(intercom_workspace.token)
    result = run(workspace, sync)
    assert result.status == RunStatus.FAILED and "reconnect" in result.first_error
    assert "data host region" not in result.first_error
    destination.refresh_from_db()
    assert destination.status == "needs_reconnect"
