"""/api/v1/models: create (the SQL introspected on a real DuckDB source), read, change, delete; tenancy, the
key's role and bad input."""

import pytest

from apps.models.models import SqlModel
from tests.api.conftest import ApiClient
from tests.factories import MembershipFactory, SourceConnectionFactory, SqlModelFactory, SyncFactory

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models"


def model_url(model_id):
    return f"{MODELS}/{model_id}"


@pytest.fixture
def users_table(warehouse):
    warehouse.table(
        "users",
        "id INTEGER, email VARCHAR, plan VARCHAR",
        [(1, "ada@example.com", "pro"), (2, "zoë@example.com", None)],
    )
    return warehouse


def new_model(warehouse, **overrides):
    return {
        "name": "Active users",
        "description": "Everyone who logged in this month",
        "source_id": warehouse.source.pk,
        "sql": "SELECT id, email, plan FROM users",
        "primary_key": "id",
    } | overrides


def problems(response):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["error"] == "invalid_request"
    return {p["field"]: p for p in body["problems"]}


def test_create_introspects_the_sql_and_the_model_reads_back(api, workspace, users_table):
    response = api.post(MODELS, new_model(users_table))
    assert response.status_code == 201, response.content
    body = response.json()
    model = SqlModel.objects.for_workspace(workspace).get()
    assert body["id"] == model.pk and body["name"] == "Active users" and body["primary_key"] == "id"
    assert [c["name"] for c in body["columns"]] == ["id", "email", "plan"] == model.column_names
    assert body["source_id"] == users_table.source.pk and body["syncs"] == []
    assert body["dashboard_url"] == f"http://testserver/w/{workspace.slug}/models/{model.pk}/"
    assert api.get(model_url(model.pk)).json() == body
    assert api.get(MODELS).json() == {"models": [body]}


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"primary_key": "user_id"}, "primary_key", "primary_key_not_a_column"),
        ({"sql": "SELECT id FROM nowhere"}, "sql", "query_error"),
        ({"sql": "DELETE FROM users"}, "sql", "unsafe_query_error"),
        ({"sql": "SELECT 1 AS id; SELECT 2 AS id"}, "sql", "unsafe_query_error"),
        ({"name": "   "}, "name", "required"),
        ({"name": " EXISTING "}, "name", "name_taken"),  # the editor's rule: case does not matter
        ({"name": "nul\x00byte"}, "name", "string_pattern_mismatch"),
        ({"source_id": "one"}, "source_id", "int_parsing"),
        ({"primary_key": None}, "primary_key", "string_type"),
        ({"colour": "blue"}, "colour", "extra_forbidden"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_saves_nothing(
    api, workspace, users_table, overrides, field, code
):
    SqlModelFactory(workspace=workspace, source=users_table.source, name="Existing")
    found = problems(api.post(MODELS, new_model(users_table, **overrides)))
    assert field in found, found
    assert found[field]["code"] == code and found[field]["message"]
    assert SqlModel.objects.for_workspace(workspace).count() == 1


def test_the_422_lists_every_missing_field(api):
    found = problems(api.post(MODELS, {}))
    assert set(found) == {"name", "source_id", "sql", "primary_key"}
    assert {p["code"] for p in found.values()} == {"missing"}


def test_a_source_of_another_workspace_is_refused_like_a_missing_one(api, workspace, users_table):
    theirs = SourceConnectionFactory(workspace=MembershipFactory().workspace)
    found = problems(api.post(MODELS, new_model(users_table, source_id=theirs.pk)))
    assert found["source_id"]["message"] == f"No source connection with id {theirs.pk} in this workspace."
    assert not SqlModel.objects.for_workspace(workspace).exists()


def test_patch_changes_the_given_fields_and_refuses_dropping_a_used_column(api, workspace, users_table):
    model_id = api.post(MODELS, new_model(users_table)).json()["id"]
    model = SqlModel.objects.for_workspace(workspace).get()
    SyncFactory(workspace=workspace, model=model, name="Plans", key_column="id", mappings=[
        {"target": "plan", "field_type": "string", "column": "plan", "custom": False, "on_null": "keep"}
    ])  # fmt: skip

    renamed = api.patch(model_url(model_id), {"description": "Renamed only"})
    assert renamed.status_code == 200 and renamed.json()["description"] == "Renamed only"
    assert renamed.json()["name"] == "Active users" and renamed.json()["syncs"][0]["name"] == "Plans"

    dropping = problems(api.patch(model_url(model_id), {"sql": "SELECT id, email FROM users"}))
    assert (
        dropping["sql"]["code"] == "drops_used_columns"
        and "“plan” (used by Plans)" in dropping["sql"]["message"]
    )
    assert SqlModel.objects.for_workspace(workspace).get().column_names == ["id", "email", "plan"]

    forced = api.patch(
        model_url(model_id), {"sql": "SELECT id, email FROM users", "allow_dropping_used_columns": True}
    )
    assert forced.status_code == 200 and [c["name"] for c in forced.json()["columns"]] == ["id", "email"]

    assert problems(api.patch(model_url(model_id), {"name": None}))["name"]["code"] == "string_type"


def test_a_model_read_by_syncs_is_not_deleted(api, workspace):
    model = SqlModelFactory(workspace=workspace, name="Users")
    sync = SyncFactory(workspace=workspace, model=model, name="To Intercom")
    response = api.delete(model_url(model.pk))
    assert response.status_code == 409 and response.json()["error"] == "model_in_use"
    assert f"“To Intercom” ({sync.pk})" in response.json()["message"]
    assert SqlModel.objects.for_workspace(workspace).filter(pk=model.pk).exists()

    unused = SqlModelFactory(workspace=workspace)
    assert api.delete(model_url(unused.pk)).json() == {"deleted": True, "id": unused.pk}
    assert not SqlModel.objects.for_workspace(workspace).filter(pk=unused.pk).exists()
    assert api.get(model_url(unused.pk)).status_code == 404


def test_another_workspaces_model_answers_404_and_is_never_changed(api, workspace):
    other = MembershipFactory().workspace
    theirs = SqlModelFactory(workspace=other, name="Theirs")
    missing = theirs.pk + 1000
    for method, data in (("get", None), ("patch", {"name": "Mine now"}), ("delete", None)):
        call = getattr(api, method)
        answer = call(model_url(theirs.pk), data) if data else call(model_url(theirs.pk))
        absent = call(model_url(missing), data) if data else call(model_url(missing))
        assert answer.status_code == absent.status_code == 404, method
        assert answer.json()["message"].replace(str(theirs.pk), "ID") == absent.json()["message"].replace(
            str(missing), "ID"
        )
    assert SqlModel.objects.for_workspace(other).get().name == "Theirs"
    assert api.get(MODELS).json() == {"models": []}


def test_a_viewer_key_reads_but_cannot_write(viewer_api, workspace, users_table):
    model = SqlModelFactory(workspace=workspace, source=users_table.source, name="Users")
    assert viewer_api.get(MODELS).status_code == 200
    assert viewer_api.get(model_url(model.pk)).json()["name"] == "Users"
    for response in (
        viewer_api.post(MODELS, new_model(users_table)),
        viewer_api.post(MODELS, {"colour": "blue"}),  # the role is checked before the body is read
        viewer_api.patch(model_url(model.pk), {"name": "Renamed"}),
        viewer_api.delete(model_url(model.pk)),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden" and "viewer key" in response.json()["message"]
    assert list(SqlModel.objects.for_workspace(workspace).values_list("name", flat=True)) == ["Users"]


def test_writes_count_against_the_keys_limit(api, workspace, users_table, settings):
    settings.API_RATE_LIMIT = "2/min"
    assert api.get(MODELS).status_code == 200
    assert api.post(MODELS, new_model(users_table)).status_code == 201
    refused = api.post(MODELS, new_model(users_table, name="Second"))
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited" and refused["Retry-After"]
    assert SqlModel.objects.for_workspace(workspace).count() == 1


def test_a_key_of_another_workspace_lists_its_own_models(workspace, users_table):
    from apps.api.services import api_key_create

    other = MembershipFactory().workspace
    SqlModelFactory(workspace=other, name="Theirs")
    SqlModelFactory(workspace=workspace, name="Mine")
    theirs = ApiClient(api_key_create(workspace=other, user=None, name="Theirs")[1])
    assert [m["name"] for m in theirs.get(MODELS).json()["models"]] == ["Theirs"]


def test_unique_columns_are_declared_and_checked_against_the_result(api, workspace, users_table):
    created = api.post(MODELS, new_model(users_table, unique_columns=["email"]))
    assert created.status_code == 201 and created.json()["unique_columns"] == ["email"]
    assert SqlModel.objects.for_workspace(workspace).get().unique_keys == ["id", "email"]

    found = problems(api.patch(model_url(created.json()["id"]), {"unique_columns": ["email", "phone"]}))
    assert found["unique_columns"]["code"] == "unique_column_not_a_column"
    assert "“phone” is not a column" in found["unique_columns"]["message"]
    assert SqlModel.objects.for_workspace(workspace).get().unique_columns == ["email"]

    found = problems(api.post(MODELS, new_model(users_table, name="Other", unique_columns=["phone"])))
    assert "unique_columns" in found
    assert SqlModel.objects.for_workspace(workspace).count() == 1  # the model is not saved without them

    cleared = api.patch(model_url(created.json()["id"]), {"unique_columns": []})
    assert cleared.status_code == 200 and cleared.json()["unique_columns"] == []


@pytest.fixture
def dbt_backed(workspace, owner, warehouse):
    """A model reading the dbt model “customers” of a manifest loaded on the warehouse."""
    from apps.models.dbt.services import dbt_manifest_upload, dbt_model_use
    from apps.models.models import DbtModel
    from tests.models.dbt_manifests import CUSTOMERS, build_warehouse, manifest_bytes, project_models

    catalog = build_warehouse(warehouse.path)
    dbt_manifest_upload(
        workspace=workspace,
        user=owner,
        source=warehouse.source,
        content=manifest_bytes(project_models(catalog)),
    )
    dbt_model = DbtModel.objects.for_workspace(workspace).get(name=CUSTOMERS)
    return dbt_model_use(
        workspace=workspace, user=owner, dbt_model=dbt_model, name="Customers", primary_key="customer_id"
    )


def test_a_model_says_whether_it_reads_a_dbt_model(api, workspace, warehouse, dbt_backed, users_table):
    own = api.post(MODELS, new_model(warehouse)).json()
    assert own["dbt"] is None
    answer = api.get(model_url(dbt_backed.pk)).json()
    assert answer["dbt"] == {
        "project": warehouse.source.name,
        "project_name": "jaffle_shop",
        "model": "customers",
        "unique_id": "model.jaffle_shop.customers",
        "relation": dbt_backed.dbt_model.relation_name,
        "relation_missing": False,
        "missing_message": "",
    }
    listed = {m["name"]: m["dbt"] for m in api.get(MODELS).json()["models"]}
    assert listed == {"Active users": None, "Customers": answer["dbt"]}


def test_a_dbt_models_relation_gone_is_said(api, workspace, owner, warehouse, dbt_backed):
    from apps.models.dbt.services import dbt_manifest_upload
    from tests.models.dbt_manifests import manifest_bytes

    dbt_manifest_upload(workspace=workspace, user=owner, source=warehouse.source, content=manifest_bytes([]))
    dbt = api.get(model_url(dbt_backed.pk)).json()["dbt"]
    assert dbt["relation_missing"] is True
    assert "no longer in the dbt project's manifest" in dbt["missing_message"]


def test_the_sql_of_a_dbt_backed_model_cannot_be_patched(api, workspace, dbt_backed, users_table):
    sql = dbt_backed.sql
    answer = api.patch(model_url(dbt_backed.pk), {"sql": "SELECT id AS customer_id FROM users"})
    problem = problems(answer)["sql"]
    assert problem["code"] == "sql_follows_dbt"
    assert "reads the dbt model “customers”" in problem["message"]
    assert SqlModel.objects.for_workspace(workspace).get(pk=dbt_backed.pk).sql == sql
    other = SourceConnectionFactory(workspace=workspace, name="Other warehouse")
    moved = problems(api.patch(model_url(dbt_backed.pk), {"source_id": other.pk}))["source_id"]
    assert (
        moved["code"] == "sql_follows_dbt" and "reads the warehouse that dbt builds it in" in moved["message"]
    )
    assert SqlModel.objects.for_workspace(workspace).get(pk=dbt_backed.pk).source_id == dbt_backed.source_id
    # Its other fields still change; the SQL given unchanged is no change.
    answer = api.patch(model_url(dbt_backed.pk), {"description": "From dbt", "sql": sql})
    assert answer.status_code == 200, answer.content
    assert answer.json()["description"] == "From dbt"
