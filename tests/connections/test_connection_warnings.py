"""The connection test's privilege warnings reach the user: on the connections page (kept with the last
test, so they are there afterwards too), in the htmx test result and on the edit form, with what to
grant instead. PostgreSQL's `postgres` (a superuser) and a MariaDB user with FILE, for real."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.connections.models import Connection
from tests.connections.test_source_views import create, pg_form
from tests.fixtures.mariadb import scratch_mariadb_user


def list_page(client, workspace) -> str:
    return client.get(reverse("connection_list", args=[workspace.slug])).content.decode()


@pytest.mark.django_db
def test_a_postgres_superuser_is_warned_about_on_the_connections_page(owner_client, workspace):
    response = create(owner_client, workspace, pg_form())
    assert response.status_code == 302
    (connection,) = Connection.objects.for_workspace(workspace)
    assert connection.status == "connected"
    assert [w["code"] for w in connection.test_warnings] == ["superuser"]

    followed = owner_client.get(response.url).content.decode()  # the page the save lands on
    assert "The role &quot;postgres&quot; is a superuser" in followed  # in the flash message and beside it
    page = list_page(owner_client, workspace)  # and afterwards, from what was stored
    assert "1 warning about this user's privileges" in page
    assert 'data-warning="superuser"' in page and "pg_terminate_backend" in page
    assert "What to grant instead:" in page and "GRANT pg_read_all_data TO syncline" in page

    edit = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert "The last connection test warned" in edit and 'data-warning="superuser"' in edit


@pytest.mark.django_db
def test_the_htmx_test_button_shows_the_warnings_in_its_result(owner_client, workspace):
    create(owner_client, workspace, pg_form())
    (connection,) = Connection.objects.for_workspace(workspace)
    Connection.objects.for_workspace(workspace).update(test_warnings=[])  # as if never warned
    response = owner_client.post(
        reverse("connection_test", args=[workspace.slug, connection.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="status-{connection.pk}"')
    assert 'data-warning="superuser"' in html and "GRANT pg_read_all_data" in html


@pytest.mark.django_db
def test_a_failed_test_clears_the_old_warnings(owner_client, workspace):
    create(owner_client, workspace, pg_form())
    (connection,) = Connection.objects.for_workspace(workspace)
    connection.config = {**connection.config, "port": 1}
    connection.save()
    owner_client.post(reverse("connection_test", args=[workspace.slug, connection.pk]))
    connection.refresh_from_db()
    assert connection.status == "failing" and connection.test_warnings == []
    assert "privileges" not in list_page(owner_client, workspace)


@pytest.fixture
def mariadb_file_user():
    """A scratch database and a user that may read it and holds FILE."""
    with scratch_mariadb_user("syncline_warn", grants=("FILE ON *.*",)) as user:
        yield user


@pytest.mark.django_db
def test_a_mariadb_user_with_file_is_warned_about(owner_client, workspace, mariadb_file_user):
    data = {"type": "mysql", "name": "Shop", "host": "127.0.0.1", "port": "3306", "ssl_mode": "disabled",
            "preview_timeout_seconds": "30", "extract_timeout_seconds": "3600", "connect_timeout_seconds": "5",
            **mariadb_file_user}  # fmt: skip
    assert create(owner_client, workspace, data).status_code == 302
    page = list_page(owner_client, workspace)
    assert 'data-warning="file"' in page and "has the FILE privilege" in page and "INTO OUTFILE" in page
    assert f"GRANT SELECT ON `{mariadb_file_user['database']}`.* TO" in page
    assert mariadb_file_user["password"] not in page
