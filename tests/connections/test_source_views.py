"""Connecting warehouses through the pages: tested for real against PostgreSQL and a DuckDB file."""

import pytest
from django.db import connection as app_db
from django.urls import reverse

from apps.connections.models import Connection
from tests.factories import SourceConnectionFactory

SECRET = "an-unlikely-password-7391"


def pg_form(**overrides):
    data = {
        "type": "postgres",
        "name": "Analytics DB",
        "host": "127.0.0.1",
        "port": "5432",
        "database": app_db.settings_dict["NAME"],
        "user": "postgres",
        "password": SECRET,
        "sslmode": "disable",
        "search_path": "",
        "preview_timeout_seconds": "30",
        "extract_timeout_seconds": "3600",
        "connect_timeout_seconds": "5",
    }
    return data | overrides


def create(client, workspace, data):
    return client.post(reverse("source_create", args=[workspace.slug]), data)


def stored(workspace):
    return list(Connection.objects.for_workspace(workspace))


@pytest.mark.django_db
def test_connect_postgres_tests_then_saves_with_the_secret_encrypted(owner_client, workspace):
    response = create(owner_client, workspace, pg_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    (connection,) = stored(workspace)
    assert connection.status == "connected"
    assert "PostgreSQL" in connection.status_message
    assert connection.credentials == {"password": SECRET}
    assert "password" not in connection.config
    page = owner_client.get(reverse("connection_list", args=[workspace.slug]), follow=True)
    assert "Analytics DB" in page.content.decode()
    assert SECRET not in page.content.decode()


@pytest.mark.django_db
def test_connect_a_duckdb_file(owner_client, workspace, demo_duckdb):
    data = {"type": "duckdb", "name": "Demo", "path": demo_duckdb, "preview_timeout_seconds": "30",
            "extract_timeout_seconds": "3600"}  # fmt: skip
    assert create(owner_client, workspace, data).status_code == 302
    assert stored(workspace)[0].status == "connected"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"host": "no-such-host.invalid"}, "host", "could not be found"),
        ({"port": "1"}, "port", "refused the connection"),
        ({"database": "no_such_database_here"}, "database", "does not exist"),
    ],
)
def test_a_failed_test_keeps_what_was_typed_and_says_why_next_to_the_field(
    owner_client, workspace, overrides, field, words
):
    response = create(owner_client, workspace, pg_form(**overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert words in " ".join(errors[field])
    html = response.content.decode()
    assert 'value="Analytics DB"' in html
    assert SECRET not in html  # a password is never rendered back, even after an error
    assert stored(workspace) == []


@pytest.mark.django_db
def test_save_anyway_stores_a_failing_connection(owner_client, workspace):
    response = create(owner_client, workspace, pg_form(port="1", save_untested="on"))
    assert response.status_code == 302
    (connection,) = stored(workspace)
    assert connection.status == "failing"
    assert "refused" in connection.status_message


@pytest.mark.django_db
def test_duplicate_name_is_refused(owner_client, workspace):
    SourceConnectionFactory(workspace=workspace, name="Analytics DB")
    response = create(owner_client, workspace, pg_form())
    assert "already exists" in " ".join(response.context["form"].errors["name"])


@pytest.mark.django_db
def test_edit_never_renders_the_secret_and_blank_keeps_it(owner_client, workspace):
    create(owner_client, workspace, pg_form())
    (connection,) = stored(workspace)
    url = reverse("source_edit", args=[workspace.slug, connection.pk])
    page = owner_client.get(url).content.decode()
    assert SECRET not in page
    assert "Leave blank to keep it" in page
    response = owner_client.post(url, pg_form(name="Renamed", password=""))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed"
    assert connection.credentials == {"password": SECRET}


@pytest.mark.django_db
def test_test_connection_on_demand_records_the_outcome(owner_client, workspace):
    connection = SourceConnectionFactory(
        workspace=workspace, type="duckdb", config={"path": "/no/such/file.duckdb"}
    )
    response = owner_client.post(
        reverse("connection_test", args=[workspace.slug, connection.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Failing" in response.content.decode()
    connection.refresh_from_db()
    assert connection.status == "failing"


@pytest.mark.django_db
def test_delete_removes_the_credentials(owner_client, workspace):
    connection = SourceConnectionFactory(workspace=workspace, credentials={"password": SECRET})
    owner_client.post(reverse("connection_delete", args=[workspace.slug, connection.pk]))
    assert stored(workspace) == []
