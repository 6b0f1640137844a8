"""The model editor's schema browser (GET /w/<slug>/models/sources/<id>/catalog/): the demo DuckDB warehouse
and the real PostgreSQL (the app's own test database) list their schemas, tables and typed columns, a search
asks the source, a long catalog is cut short and says how much more there is, a source that fails says why
in the panel, and names are written as SQL reads them, escaped as HTML."""

import duckdb
import pytest
from django.urls import reverse

from apps.tenancy.models import Role
from tests.factories import IntercomConnectionFactory, MembershipFactory, SourceConnectionFactory

HTMX = {"HX-Request": "true"}


def catalog_url(workspace, source, search=None):
    url = reverse("model_source_catalog", args=[workspace.slug, source.pk])
    return f"{url}?q={search}" if search is not None else url


def browse(client, workspace, source, search=None, **headers):
    response = client.get(catalog_url(workspace, source, search), headers=HTMX | headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_demo_warehouse_lists_its_tables_and_typed_columns_as_buttons(owner_client, workspace, duck):
    html = browse(owner_client, workspace, duck)
    assert html.lstrip().startswith('<div id="catalog"')  # the partial, for htmx to swap in
    assert "3 tables, 30 columns." in html
    assert 'data-insert="main.users"' in html and ">users</button>" in html
    assert 'data-insert="user_id" data-column="user_id"' in html
    assert '<small class="muted">BIGINT</small>' in html
    assert '<small class="muted">DECIMAL(10,2)</small>' in html  # mrr
    assert "data-server-search" not in html  # all of it is here: the page filters it itself


@pytest.mark.django_db
def test_postgresql_lists_the_app_databases_tables_and_a_search_asks_the_server(
    owner_client, workspace, pg_source
):
    html = browse(owner_client, workspace, pg_source, search="sql_models_sqlmode")
    assert 'data-insert="public.sql_models_sqlmodel"' in html
    assert 'data-insert="primary_key" data-column="primary_key"' in html
    assert "character varying(200)" in html  # primary_key's type, as PostgreSQL names it
    assert "tenancy_user" not in html  # only what matches
    assert "data-server-search" in html  # a search result: clearing the search asks again
    assert "match “sql_models_sqlmode”" in html

    nothing = browse(owner_client, workspace, pg_source, search="no_such_thing_anywhere")
    assert "No schema, table or column name contains “no_such_thing_anywhere”." in nothing


@pytest.mark.django_db
def test_a_long_catalog_is_cut_short_and_says_how_many_more(owner_client, workspace, duck, monkeypatch):
    monkeypatch.setattr("apps.connections.sources.base.CATALOG_COLUMN_LIMIT", 5)
    html = browse(owner_client, workspace, duck)
    assert html.count('data-column="') == 5
    assert "The first 5 of 30 columns: 25 more not shown. Search to find the others." in html
    assert "data-server-search" in html


@pytest.mark.django_db
def test_names_are_quoted_for_sql_and_escaped_for_html(owner_client, workspace, tmp_path):
    path = str(tmp_path / "odd.duckdb")
    with duckdb.connect(path) as conn:
        conn.execute('CREATE SCHEMA "Sales Team"')
        conn.execute(
            'CREATE TABLE "Sales Team"."order" ("user" INTEGER, "<img src=x onerror=alert(1)>" VARCHAR, ok INTEGER)'
        )
    source = SourceConnectionFactory(workspace=workspace, type="duckdb", config={"path": path})
    html = browse(owner_client, workspace, source)
    assert 'data-insert="&quot;Sales Team&quot;.&quot;order&quot;"' in html  # schema and reserved word quoted
    assert 'data-insert="&quot;user&quot;"' in html
    assert 'data-insert="ok"' in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.django_db
def test_a_source_that_fails_says_why_in_the_panel_and_the_editor_still_works(owner_client, workspace):
    closed = SourceConnectionFactory(
        workspace=workspace,
        name="Gone",
        type="postgres",
        config={"host": "127.0.0.1", "port": 1, "database": "x", "user": "u", "sslmode": "disable"},
    )
    html = browse(owner_client, workspace, closed)
    assert 'role="alert"' in html and "Could not list the tables of “Gone”" in html
    assert "refused the connection" in html
    page = owner_client.get(reverse("model_create", args=[workspace.slug]))
    assert page.status_code == 200
    assert 'name="sql"' in page.content.decode()


@pytest.mark.django_db
def test_without_javascript_the_catalog_is_a_page_with_a_search_form(owner_client, workspace, duck):
    response = owner_client.get(catalog_url(workspace, duck, "mrr"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Tables of Demo warehouse</h1>" in html
    assert 'name="q" value="mrr"' in html
    assert "<code>main.users</code>" in html and "<code>mrr</code>" in html
    assert "catalog-insert" not in html  # nothing to insert into


@pytest.mark.django_db
def test_the_editor_loads_the_browser_of_the_models_source(owner_client, workspace, duck):
    html = owner_client.get(reverse("model_create", args=[workspace.slug])).content.decode()
    assert f'hx-get="{catalog_url(workspace, duck)}"' in html and 'hx-trigger="load"' in html
    assert f'data-source-types="{{&quot;{duck.pk}&quot;: &quot;duckdb&quot;}}"' in html
    assert "vendor/codemirror/codemirror.min.js" in html and "js/model_editor.js" in html


@pytest.mark.django_db
def test_a_viewer_may_browse_but_not_post(client, workspace, duck):
    viewer = MembershipFactory(workspace=workspace, role=Role.VIEWER)
    client.force_login(viewer.user)
    assert "main.users" in browse(client, workspace, duck)
    assert client.post(catalog_url(workspace, duck)).status_code == 403


@pytest.mark.django_db
def test_only_get_is_answered(owner_client, workspace, duck):
    assert owner_client.post(catalog_url(workspace, duck)).status_code == 405


@pytest.mark.django_db
def test_another_workspaces_source_and_a_destination_are_404(owner_client, workspace, demo_duckdb):
    theirs = SourceConnectionFactory(type="duckdb", config={"path": demo_duckdb})  # another workspace's
    assert owner_client.get(catalog_url(workspace, theirs), headers=HTMX).status_code == 404
    destination = IntercomConnectionFactory(workspace=workspace)
    assert owner_client.get(catalog_url(workspace, destination), headers=HTMX).status_code == 404
