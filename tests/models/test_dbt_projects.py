"""The dbt page: loading a manifest (uploaded, or by path in team hosting) into a warehouse's dbt project,
making a Syncline model of a dbt model, and what a new manifest does to them (new, changed, missing)."""

import html as htmllib
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.models.models import DbtModel, DbtProject, SqlModel
from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import SourceConnectionFactory, WorkspaceFactory
from tests.fixtures.syncs import m, make_sync
from tests.models.dbt_manifests import CLIENTS, CUSTOMERS, build_warehouse, manifest_bytes, project_models

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def dbt_warehouse(warehouse):
    warehouse.catalog = build_warehouse(warehouse.path)
    return warehouse


def upload(client, workspace, source, content: bytes, name="manifest.json", **extra):
    return client.post(
        reverse("dbt_manifest_load", args=[workspace.slug]),
        {"source": source.pk, "manifest": SimpleUploadedFile(name, content, "application/json")},
        **extra,
    )


def text(response) -> str:
    return htmllib.unescape(response.content.decode())


def dbt_model(workspace, name) -> DbtModel:
    return DbtModel.objects.for_workspace(workspace).get(name=name)


def use(client, workspace, dbt_model, name="Customers", key="customer_id"):
    return client.post(
        reverse("dbt_model_use", args=[workspace.slug, dbt_model.pk]),
        {"name": name, "primary_key": key, "description": ""},
    )


def test_an_uploaded_manifest_lists_its_models_on_the_dbt_page(owner_client, workspace, dbt_warehouse):
    response = upload(
        owner_client, workspace, dbt_warehouse.source, manifest_bytes(project_models(dbt_warehouse.catalog))
    )
    assert response.status_code == 302
    project = DbtProject.objects.for_workspace(workspace).get()
    assert (project.project_name, project.dbt_version, project.schema_version) == ("jaffle_shop", "1.9.4", 12)
    assert sorted(DbtModel.objects.for_workspace(workspace).values_list("name", flat=True)) == [
        "clients", "customers", "orders",
    ]  # fmt: skip
    page = owner_client.get(response.url).content.decode()
    assert (
        "Loaded 3 models of the dbt project “jaffle_shop” (dbt 1.9.4): 3 new: clients, customers, orders."
        in page
    )
    assert "One row per customer, with their plan." in page
    assert "clients ünïcodé &quot;&quot;q&quot;&quot;" in page  # the dirty relation, escaped

    # The same manifest again: no model added, moved or dropped; a new description is kept all the same.
    models = project_models(dbt_warehouse.catalog)
    again = upload(owner_client, workspace, dbt_warehouse.source, manifest_bytes(models))
    assert "(dbt 1.9.4): no model added, moved or dropped." in text(owner_client.get(again.url))
    models[0]["description"] = "Customers, now with their region."
    again = upload(owner_client, workspace, dbt_warehouse.source, manifest_bytes(models))
    assert "(dbt 1.9.4): no model added, moved or dropped." in text(owner_client.get(again.url))
    assert dbt_model(workspace, CUSTOMERS).description == "Customers, now with their region."


@pytest.mark.embedded  # the embedded default (SQLite) loads manifests too
def test_using_a_dbt_model_reads_its_relation_and_shows_what_dbt_documents(
    owner_client, workspace, dbt_warehouse
):
    upload(
        owner_client, workspace, dbt_warehouse.source, manifest_bytes(project_models(dbt_warehouse.catalog))
    )
    response = use(owner_client, workspace, dbt_model(workspace, "customers"))
    assert response.status_code == 302, response.content.decode()
    model = SqlModel.objects.for_workspace(workspace).get()
    assert model.sql == f'SELECT * FROM "{dbt_warehouse.catalog}"."analytics"."customers"'  # noqa: S608
    assert model.column_names == ["customer_id", "email", "full_name", "plan"]  # read from the warehouse
    assert model.dbt_model.name == "customers" and model.primary_key == "customer_id"
    page = owner_client.get(response.url).content.decode()
    assert "Lower-cased e-mail address." in page and "From dbt" in page
    assert 'name="sql"' in page and "disabled" in page.split('name="sql"')[1].split(">")[0]  # read-only SQL

    # The dirty names read too: a reserved word, and unicode with quotes (a view).
    for name, key in (("orders", "order_id"), ("clients", "id")):
        assert (
            use(owner_client, workspace, dbt_model(workspace, name), name=name.title(), key=key).status_code
            == 302
        )
    clients = SqlModel.objects.for_workspace(workspace).get(name="Clients")
    assert clients.column_names == ["id", "nom complet"]
    assert CLIENTS.replace('"', '""') in clients.sql


def test_a_key_that_is_not_a_column_is_said_on_the_key_field(owner_client, workspace, dbt_warehouse):
    upload(
        owner_client, workspace, dbt_warehouse.source, manifest_bytes(project_models(dbt_warehouse.catalog))
    )
    response = use(owner_client, workspace, dbt_model(workspace, "customers"), key="id")
    assert response.status_code == 422
    assert "“id” is not a column of this query" in response.content.decode()
    assert not SqlModel.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "This file is not valid JSON (line 1, column 1"),
        (json.dumps({"results": []}).encode(), "This JSON is not a dbt manifest"),
        (
            json.dumps(
                {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v13.json"}}
            ).encode(),
            "This manifest is version 13, written by a newer dbt than Syncline knows. Syncline reads manifest "
            "versions 4 to 12",
        ),
    ],
)
def test_a_bad_file_says_why_on_the_upload_field_and_changes_nothing(
    owner_client, workspace, dbt_warehouse, content, message
):
    response = upload(owner_client, workspace, dbt_warehouse.source, content, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="dbt-load"')  # the upload card, swapped in place
    field_error = html.split('id="id_manifest_error"')[1].split("</small>")[0]
    assert message in field_error
    assert not DbtProject.objects.for_workspace(workspace).exists()


def test_a_manifest_over_the_size_limit_is_refused_with_the_limit(
    owner_client, workspace, dbt_warehouse, settings
):
    settings.DBT_MANIFEST_MAX_MB = 1
    big = manifest_bytes(project_models(dbt_warehouse.catalog)) + b" " * (1024 * 1024)
    html = upload(owner_client, workspace, dbt_warehouse.source, big).content.decode()
    assert "this installation accepts manifests up to 1 MB (DBT_MANIFEST_MAX_MB)" in html
    assert not DbtProject.objects.for_workspace(workspace).exists()


def test_a_relation_that_is_not_one_table_refuses_the_whole_manifest(owner_client, workspace, dbt_warehouse):
    models = project_models(dbt_warehouse.catalog)
    models[1]["relation_name"] = '"x"."y"."z"; DROP TABLE users'
    html = upload(owner_client, workspace, dbt_warehouse.source, manifest_bytes(models)).content.decode()
    assert "is not one table name" in html
    assert not DbtModel.objects.for_workspace(workspace).exists()


@pytest.mark.embedded  # the embedded default (SQLite) loads manifests too
def test_a_new_manifest_adds_updates_and_flags_the_model_that_left_with_its_syncs(
    owner_client, workspace, dbt_warehouse, destination, intercom_emulator, intercom_workspace
):
    catalog, source = dbt_warehouse.catalog, dbt_warehouse.source
    upload(owner_client, workspace, source, manifest_bytes(project_models(catalog)))
    use(owner_client, workspace, dbt_model(workspace, "customers"))
    use(owner_client, workspace, dbt_model(workspace, "orders"), name="Orders", key="order_id")
    customers = SqlModel.objects.for_workspace(workspace).get(name="Customers")
    sync = make_sync(
        workspace, customers, destination, name="Customers to Intercom", object_key="user", behavior="upsert",
        key_column="email", key_identifier="email", mappings=[m("name", "string", "full_name")],
    )  # fmt: skip

    # The next manifest: customers gone, orders moved to another schema, a new model.
    models = [node for node in project_models(catalog) if node["name"] != CUSTOMERS]
    orders = next(node for node in models if node["name"] == "orders")
    orders["relation_name"] = f'"{catalog}"."marts"."order"'
    models.append(
        project_models(catalog)[0] | {"name": "accounts", "unique_id": "model.jaffle_shop.accounts"}
    )
    response = upload(owner_client, workspace, source, manifest_bytes(models))
    summary = owner_client.get(response.url).content.decode()
    assert "1 new: accounts; 1 with a new relation: orders; 1 no longer in the manifest" in summary
    missing = dbt_model(workspace, "customers")
    assert missing.missing_since is not None  # kept, flagged
    assert SqlModel.objects.for_workspace(workspace).get(name="Orders").sql.endswith('"marts"."order"')

    warning = "The dbt model “customers” is no longer in the dbt project's manifest"
    model_page = text(owner_client.get(reverse("model_edit", args=[workspace.slug, customers.pk])))
    sync_page = text(owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])))
    list_page = text(owner_client.get(reverse("model_list", args=[workspace.slug])))
    assert warning in model_page and warning in sync_page and "dbt model missing" in list_page

    # Its runs fail at once with that message, before any call to the warehouse or Intercom.
    calls = intercom_emulator.request_count()
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run = sync_run_execute(run_id=started.pk)
    assert run.status == RunStatus.FAILED and warning in run.first_error
    assert intercom_emulator.request_count() == calls
    assert intercom_emulator.contacts(intercom_workspace.id_code) == []

    # A manifest that has it again brings it back.
    upload(owner_client, workspace, source, manifest_bytes(project_models(catalog)))
    assert dbt_model(workspace, "customers").missing_since is None
    assert (
        warning
        not in owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    )


def test_a_path_is_read_in_team_hosting_only_and_only_inside_the_dbt_folder(
    owner_client, workspace, dbt_warehouse, settings, tmp_path
):
    settings.DBT_PROJECTS_DIR = tmp_path / "dbt"
    (tmp_path / "dbt" / "shop" / "target").mkdir(parents=True)
    (tmp_path / "dbt" / "shop" / "target" / "manifest.json").write_bytes(
        manifest_bytes(project_models(dbt_warehouse.catalog))
    )
    (tmp_path / "outside.json").write_bytes(manifest_bytes(project_models(dbt_warehouse.catalog)))
    url = reverse("dbt_manifest_load", args=[workspace.slug])
    source = dbt_warehouse.source.pk

    for outside in (str(tmp_path / "outside.json"), "../outside.json"):
        html = owner_client.post(url, {"source": source, "path": outside}).content.decode()
        assert "Syncline reads dbt manifests only from inside" in html
    assert not DbtProject.objects.for_workspace(workspace).exists()

    response = owner_client.post(url, {"source": source, "path": "shop/target/manifest.json"})
    assert response.status_code == 302
    project = DbtProject.objects.for_workspace(workspace).get()
    assert project.manifest_path == "shop/target/manifest.json"
    # dbt runs again and writes a manifest without "orders": Reload reads it.
    models = [n for n in project_models(dbt_warehouse.catalog) if n["name"] != "orders"]
    (tmp_path / "dbt" / "shop" / "target" / "manifest.json").write_bytes(manifest_bytes(models))
    owner_client.post(reverse("dbt_project_reload", args=[workspace.slug, project.pk]))
    assert dbt_model(workspace, "orders").missing_since is not None

    settings.HOSTING_MODE = "shared"
    page = owner_client.get(reverse("dbt_projects", args=[workspace.slug])).content.decode()
    assert 'name="path"' not in page
    html = owner_client.post(url, {"source": source, "path": "shop/target/manifest.json"}).content.decode()
    assert "Choose the project&#x27;s manifest.json." in html  # the path is not a field in shared hosting


def test_tenant_isolation_and_roles(owner_client, workspace, dbt_warehouse):
    upload(
        owner_client, workspace, dbt_warehouse.source, manifest_bytes(project_models(dbt_warehouse.catalog))
    )
    customers = dbt_model(workspace, "customers")
    other = WorkspaceFactory()
    client = Client()  # owner_client stays the owner's
    client.force_login(member_of(other, Role.OWNER).user)
    assert client.get(reverse("dbt_model_use", args=[other.slug, customers.pk])).status_code == 404
    # Another workspace's warehouse is not a choice.
    other_source = SourceConnectionFactory(
        workspace=other, type="duckdb", config={"path": str(dbt_warehouse.path)}
    )
    html = upload(owner_client, workspace, other_source, manifest_bytes(project_models("x"))).content.decode()
    assert "Select a valid choice" in html
    # A viewer reads the page but loads nothing.
    viewer = member_of(workspace, Role.VIEWER).user
    client.force_login(viewer)
    assert client.get(reverse("dbt_projects", args=[workspace.slug])).status_code == 200
    assert upload(client, workspace, dbt_warehouse.source, b"{}").status_code == 403
    assert use(client, workspace, customers).status_code == 403


def test_the_command_loads_a_manifest_after_a_dbt_run_and_names_what_is_wrong(
    workspace, dbt_warehouse, tmp_path
):
    path = tmp_path / "manifest.json"
    path.write_bytes(manifest_bytes(project_models(dbt_warehouse.catalog)))
    out = io.StringIO()
    call_command("dbt_manifest_load", workspace.slug, dbt_warehouse.source.name, str(path), stdout=out)
    assert "Loaded 3 models of the dbt project “jaffle_shop”" in out.getvalue()
    path.write_text("[]")
    with pytest.raises(CommandError, match="not a dbt manifest"):
        call_command("dbt_manifest_load", workspace.slug, str(dbt_warehouse.source.pk), str(path))
    with pytest.raises(CommandError, match="No warehouse connection 'Nope'"):
        call_command("dbt_manifest_load", workspace.slug, "Nope", str(path))


def test_what_cannot_be_read_or_used_says_why(owner_client, workspace, dbt_warehouse, settings, tmp_path):
    settings.DBT_PROJECTS_DIR = tmp_path
    (tmp_path / "target").mkdir()
    url = reverse("dbt_manifest_load", args=[workspace.slug])
    source = dbt_warehouse.source
    for path in ("target", "nothing-here.json"):
        html = text(owner_client.post(url, {"source": source.pk, "path": path}))
        assert f"There is no file at {tmp_path / path}." in html
    both = {"source": source.pk, "path": "x.json", "manifest": SimpleUploadedFile("m.json", b"{}")}
    assert "Give either a file or a path, not both." in text(owner_client.post(url, both))

    # A manifest without a project name is named by its models' package; an uploaded one cannot be reloaded.
    without_name = json.loads(manifest_bytes(project_models(dbt_warehouse.catalog)))
    del without_name["metadata"]["project_name"]
    upload(owner_client, workspace, source, json.dumps(without_name).encode())
    project = DbtProject.objects.for_workspace(workspace).get()
    assert project.project_name == "jaffle_shop" and project.manifest_path == ""
    response = owner_client.post(
        reverse("dbt_project_reload", args=[workspace.slug, project.pk]), follow=True
    )
    assert "This project&#x27;s manifest was uploaded: upload it again." in response.content.decode()

    # A relation the warehouse does not have: the warehouse's own words, on the form.
    ghost = project_models(dbt_warehouse.catalog)[0] | {
        "relation_name": f'"{dbt_warehouse.catalog}"."analytics"."ghost"'
    }
    upload(owner_client, workspace, source, manifest_bytes([ghost]))
    html = text(use(owner_client, workspace, dbt_model(workspace, CUSTOMERS)))
    assert "The warehouse could not read the relation of customers" in html and "ghost" in html
    # A dbt model no longer in the manifest cannot be used.
    upload(owner_client, workspace, source, manifest_bytes([]))
    html = text(use(owner_client, workspace, dbt_model(workspace, CUSTOMERS)))
    assert "“customers” is no longer in the dbt project's manifest." in html
    assert not SqlModel.objects.for_workspace(workspace).exists()
