"""dbt in the browser: a bad file is refused where it was chosen, a manifest uploads (htmx, multipart, with
the CSRF header), a dbt model is picked with its key, and a later manifest without it flags the model and
its sync."""

import pytest
from playwright.sync_api import expect

from apps.models.models import SqlModel
from tests.browser.conftest import log_in
from tests.fixtures.syncs import m, make_sync
from tests.models.dbt_manifests import CUSTOMERS, build_warehouse, manifest_bytes, project_models

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_upload_a_manifest_pick_a_model_and_see_it_flagged_when_it_leaves(
    page, shot, live_server, workspace, owner, warehouse, destination, tmp_path
):
    catalog = build_warehouse(warehouse.path)
    warehouse.source.name = "Analytics warehouse"
    warehouse.source.save()
    good, bad, later = (
        tmp_path / "manifest.json",
        tmp_path / "run_results.json",
        tmp_path / "later" / "manifest.json",
    )
    good.write_bytes(manifest_bytes(project_models(catalog)))
    bad.write_text(
        '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}}'
    )
    later.parent.mkdir()
    later.write_bytes(manifest_bytes([n for n in project_models(catalog) if n["name"] != CUSTOMERS]))

    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/models/")
    page.get_by_role("button", name="dbt models", exact=True).click()
    expect(page.get_by_role("heading", name="dbt models", exact=True)).to_be_visible()

    # The wrong dbt file: the reason shows under the file field, in place.
    page.get_by_label("manifest.json", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Load manifest", exact=True).click()
    error = page.locator("#id_manifest_error")
    expect(error).to_have_text(
        "This is dbt's run_results.json, not its manifest: upload target/manifest.json instead."
    )
    shot("wrong-file")

    page.get_by_label("manifest.json", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Load manifest", exact=True).click()
    expect(
        page.get_by_text(
            "Loaded 3 models of the dbt project “jaffle_shop” (dbt 1.9.4): 3 new: clients, customers, orders.",
            exact=True,
        )
    ).to_be_visible()
    project = page.locator("section.dbt-project")
    expect(project.get_by_role("row")).to_have_count(4)  # the header and three models (not the ephemeral one)
    expect(
        project.get_by_text(f'"{catalog}"."analytics"."clients ünïcodé ""q"""', exact=True)
    ).to_be_visible()
    shot("loaded")

    # Creating a model offers the dbt models to pick from.
    page.goto(f"{live_server.url}/w/{workspace.slug}/models/new/")
    page.get_by_text("Or use a dbt model", exact=True).click()
    expect(page.locator("details.dbt-pick li")).to_have_count(3)
    shot("new-model-offers-dbt")
    page.get_by_role("link", name="customers", exact=True).click()
    expect(page.get_by_role("heading", name="Use the dbt model customers", exact=True)).to_be_visible()
    expect(page.locator("table.dbt-columns")).to_contain_text("Lower-cased e-mail address.")
    page.get_by_label("Primary-key column", exact=True).fill("customer_id")
    shot("pick")
    page.get_by_role("button", name="Create model", exact=True).click()
    expect(
        page.get_by_text("Model “customers” reads the dbt model customers (4 columns).", exact=True)
    ).to_be_visible()
    expect(page.get_by_label("SQL", exact=True)).to_be_disabled()
    expect(page.get_by_label("SQL", exact=True)).to_have_value(
        f'SELECT * FROM "{catalog}"."analytics"."customers"'  # noqa: S608
    )
    shot("model")

    model = SqlModel.objects.for_workspace(workspace).get()
    sync = make_sync(
        workspace, model, destination, name="Customers → Intercom", object_key="user", behavior="upsert",
        key_column="email", key_identifier="email", mappings=[m("name", "string", "full_name")],
    )  # fmt: skip
    page.goto(f"{live_server.url}/w/{workspace.slug}/models/dbt/")
    page.get_by_label("manifest.json", exact=True).set_input_files(str(later))
    page.get_by_role("button", name="Load manifest", exact=True).click()
    expect(
        page.get_by_text(
            "Loaded 2 models of the dbt project “jaffle_shop” (dbt 1.9.4): 1 no longer in the manifest (kept, and "
            "their syncs stopped): customers.",
            exact=True,
        )
    ).to_be_visible()
    shot("missing")
    page.goto(f"{live_server.url}/w/{workspace.slug}/syncs/{sync.pk}/")
    expect(page.locator(".dbt-missing")).to_contain_text(
        "The dbt model “customers” is no longer in the dbt project's"
    )
    shot("sync-flagged")
