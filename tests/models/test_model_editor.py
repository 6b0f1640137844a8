"""The SQL model editor against a real DuckDB demo warehouse and the real PostgreSQL."""

import pytest
from django.urls import reverse

from apps.models.models import SqlModel
from tests.factories import SourceConnectionFactory

USERS_SQL = "SELECT user_id, email, name, plan, mrr, signed_up_at FROM users"
HTMX = {"HX-Request": "true"}


def post(client, workspace, source, sql, action, **extra):
    data = {"name": "Users", "description": "", "source": source.pk, "sql": sql, "primary_key": "user_id"}
    return client.post(
        reverse("model_create", args=[workspace.slug]),
        data | {"action": action} | extra.pop("data", {}),
        **extra,
    )


@pytest.mark.django_db
def test_preview_returns_100_rows_and_typed_columns_as_a_partial(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, USERS_SQL, "preview", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="preview"')
    assert "100 rows" in html and "the rest was not read" in html
    assert html.count("<tr>") == 101  # header + 100 rows
    assert "BIGINT" in html and "user_id" in html
    assert not SqlModel.objects.for_workspace(workspace).exists()  # a preview saves nothing


@pytest.mark.django_db
def test_preview_without_javascript_renders_the_whole_page(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, USERS_SQL + " LIMIT 3", "preview")
    html = response.content.decode()
    assert "<aside" in html and "3 rows" in html
    assert "SELECT user_id" in html  # the SQL typed is kept


@pytest.mark.django_db
def test_a_sql_error_shows_the_databases_message_with_its_position(owner_client, workspace, pg_source):
    sql = "SELECT 1 AS user_id,\n  no_such_column\nFROM pg_class"
    html = post(owner_client, workspace, pg_source, sql, "preview", headers=HTMX).content.decode()
    assert "no_such_column" in html and "does not exist" in html
    assert "line 2" in html


@pytest.mark.django_db
def test_a_write_is_refused_in_the_preview(owner_client, workspace, pg_source):
    html = post(
        owner_client, workspace, pg_source, "DELETE FROM tenancy_user", "preview", headers=HTMX
    ).content.decode()
    assert "Preview failed" in html
    assert "read" in html.lower()


@pytest.mark.django_db
def test_a_preview_past_the_time_limit_is_cancelled_and_says_so(owner_client, workspace, pg_source):
    html = post(owner_client, workspace, pg_source, "SELECT pg_sleep(30) AS user_id", "preview", headers=HTMX)
    assert "cancelled after 2 seconds" in html.content.decode()


@pytest.mark.django_db
def test_sample_warns_about_null_and_duplicate_keys(owner_client, workspace, duck):
    sql = "SELECT * FROM (VALUES (1, 'a'), (1, 'b'), (NULL, 'c')) AS t(user_id, v)"
    html = post(owner_client, workspace, duck, sql, "preview", headers=HTMX).content.decode()
    assert "have no user_id (NULL)" in html
    assert "appear more than once" in html


@pytest.mark.django_db
def test_save_stores_the_introspected_columns(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, USERS_SQL, "save")
    assert response.status_code == 302
    model = SqlModel.objects.for_workspace(workspace).get()
    assert model.column_names == ["user_id", "email", "name", "plan", "mrr", "signed_up_at"]
    assert model.columns[0]["kind"] == "integer"
    assert model.columns[-1]["kind"] == "timestamp"


@pytest.mark.django_db
def test_the_primary_key_must_be_a_column(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, USERS_SQL, "save", data={"primary_key": "id"})
    assert response.status_code == 422
    assert "“id” is not a column of this query" in " ".join(response.context["form"].errors["primary_key"])
    assert 'value="Users"' in response.content.decode()  # nothing typed is lost
    assert not SqlModel.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_saving_bad_sql_puts_the_error_on_the_sql_field(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, "SELEC user_id FROM users", "save")
    assert response.status_code == 422
    assert response.context["form"].errors["sql"]


@pytest.mark.django_db
def test_sources_of_another_workspace_cannot_be_chosen(owner_client, workspace, demo_duckdb):
    foreign = SourceConnectionFactory(type="duckdb", config={"path": demo_duckdb})
    response = post(owner_client, workspace, foreign, USERS_SQL, "save")
    assert "Select a valid choice" in " ".join(response.context["form"].errors["source"])


@pytest.mark.django_db
def test_list_shows_source_key_and_columns(owner_client, workspace, duck):
    post(owner_client, workspace, duck, USERS_SQL, "save")
    html = owner_client.get(reverse("model_list", args=[workspace.slug])).content.decode()
    assert "Users" in html and "Demo warehouse" in html and "<code>user_id</code>" in html


@pytest.mark.django_db
def test_dropping_a_column_a_sync_uses_warns_before_save(owner_client, workspace, duck):
    from apps.syncs.models import Sync
    from tests.factories import IntercomConnectionFactory

    post(owner_client, workspace, duck, USERS_SQL, "save")
    model = SqlModel.objects.for_workspace(workspace).get()
    Sync.objects.create(workspace=workspace, name="Users to Intercom", model=model,
                        destination=IntercomConnectionFactory(workspace=workspace), object_key="user",
                        behavior="upsert", key_column="email", key_identifier="email",
                        mappings=[{"target": "plan", "field_type": "string", "column": "plan", "custom": True}])  # fmt: skip
    url = reverse("model_edit", args=[workspace.slug, model.pk])
    data = {"name": "Users", "description": "", "source": duck.pk, "primary_key": "user_id", "action": "save",
            "sql": "SELECT user_id, email FROM users"}  # fmt: skip
    response = owner_client.post(url, data)
    assert response.status_code == 422
    message = " ".join(response.context["form"].errors["sql"])
    assert "“plan” (used by Users to Intercom)" in message
    model.refresh_from_db()
    assert "plan" in model.column_names  # not saved
    html = owner_client.get(reverse("model_list", args=[workspace.slug])).content.decode()
    assert "Users to Intercom" in html  # the list shows the syncs that use each model
    assert owner_client.post(url, data | {"confirm_dropped_columns": "on"}).status_code == 302
    model.refresh_from_db()
    assert "plan" not in model.column_names
