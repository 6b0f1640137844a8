"""A sync of a dbt model, end to end: the manifest uploaded and the model picked over HTTP, the run on a real
Celery worker process reading the relation dbt built (DuckDB), Intercom (the emulator) holding the rows;
then a manifest without that model stops the sync before it reads or sends anything."""

import pytest
from django.urls import reverse

from apps.models.models import SqlModel
from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from tests.fixtures.syncs import m, make_sync
from tests.models.dbt_manifests import (
    CUSTOMER_ROWS,
    CUSTOMERS,
    build_warehouse,
    manifest_bytes,
    project_models,
)
from tests.models.test_dbt_projects import dbt_model, upload, use
from tests.syncs.test_workers import finished, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_dbt_model_syncs_to_intercom_and_stops_with_a_clear_error_once_it_leaves_the_project(
    owner_client, workspace, warehouse, destination, intercom_emulator, intercom_workspace, workers
):
    catalog = build_warehouse(warehouse.path)
    assert (
        upload(owner_client, workspace, warehouse.source, manifest_bytes(project_models(catalog))).status_code
        == 302
    )
    assert use(owner_client, workspace, dbt_model(workspace, CUSTOMERS)).status_code == 302
    model = SqlModel.objects.for_workspace(workspace).get(name="Customers")
    sync = make_sync(
        workspace,
        model,
        destination,
        name="dbt customers",
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "full_name"), m("plan", "string", "plan", custom=True)],
    )
    workers()
    started = run_services.sync_run_start(workspace=workspace, sync=sync)
    run = wait_for(lambda: finished(started), timeout=120)
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    assert run.counts["created"] == len(CUSTOMER_ROWS) and run.counts["rejected"] == 0
    held = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    for _, email, name, plan in CUSTOMER_ROWS:
        assert held[email]["name"] == name  # unicode, HTML- and formula-looking text, as they are
        assert held[email]["custom_attributes"].get("plan") == plan

    # dbt run drops the model: the next manifest lacks it. The sync's next run fails at once, saying why.
    without = [node for node in project_models(catalog) if node["name"] != CUSTOMERS]
    upload(owner_client, workspace, warehouse.source, manifest_bytes(without))
    calls = intercom_emulator.request_count()
    started = run_services.sync_run_start(workspace=workspace, sync=sync)
    run = wait_for(lambda: finished(started), timeout=120)
    assert run.status == RunStatus.FAILED
    assert run.first_error.startswith("The dbt model “customers” is no longer in the dbt project's manifest")
    assert run.counts.get("source_rows", 0) == 0
    assert intercom_emulator.request_count() == calls  # nothing sent
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    assert "dbt model missing." in page
