"""The hosting mode through the connection pages: DuckDB files only from the data folder (team) or the
workspace's own uploads (shared), uploads stored per workspace, and shared hosting refusing a warehouse on
this machine. Real DuckDB files and the real PostgreSQL on localhost."""

from pathlib import Path

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.connections.models import Connection
from apps.connections.services import connection_test
from tests.connections.test_source_views import pg_form
from tests.factories import MembershipFactory, SourceConnectionFactory

pytestmark = pytest.mark.django_db
MODES = pytest.mark.parametrize("mode", ["team", "shared"])


def make_duckdb(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE people AS SELECT 1 AS id, 'ada@example.com' AS email")
    return path


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DUCKDB_DATA_DIR = tmp_path / "data"
    return settings.DUCKDB_DATA_DIR


def duckdb_form(**values):
    return {"type": "duckdb", "name": "Warehouse file", "preview_timeout_seconds": "30",
            "extract_timeout_seconds": "3600"} | values  # fmt: skip


def create(client, workspace, data):
    return client.post(reverse("source_create", args=[workspace.slug]), data)


def path_error(response) -> str:
    return " ".join(response.context["form"].errors["path"])


@MODES
def test_a_path_into_another_workspace_or_outside_the_data_folder_is_refused(
    owner_client, workspace, settings, data_dir, tmp_path, mode
):
    settings.HOSTING_MODE = mode
    other = MembershipFactory().workspace
    theirs = make_duckdb(data_dir / "workspaces" / str(other.pk) / "theirs.duckdb")
    outside = make_duckdb(tmp_path / "elsewhere" / "outside.duckdb")
    for existing, missing in [
        (theirs, theirs.with_name("nothing.duckdb")),
        (outside, outside.with_name("nothing.duckdb")),
        (Path("/etc/passwd"), Path("/etc/no-such-file")),
    ]:
        refused = create(owner_client, workspace, duckdb_form(path=str(existing)))
        assert refused.status_code == 422
        message = path_error(refused)
        assert message.startswith("Connection test failed: ")
        # Whether something is there or not, the answer is the same.
        assert path_error(create(owner_client, workspace, duckdb_form(path=str(missing)))) == message
    assert not Connection.objects.for_workspace(workspace).exists()


@MODES
def test_a_stored_connection_to_another_workspaces_file_fails_when_used(workspace, settings, data_dir, mode):
    """Saved before the rules existed (or by another route): it is checked at every open, not only on save."""
    settings.HOSTING_MODE = mode
    theirs = make_duckdb(data_dir / "workspaces" / str(workspace.pk + 1000) / "theirs.duckdb")
    connection = SourceConnectionFactory(workspace=workspace, type="duckdb", config={"path": str(theirs)})
    connection = connection_test(workspace=workspace, connection=connection)
    assert connection.status == "failing"
    assert "theirs" not in connection.status_message


def test_team_hosting_opens_a_file_in_the_data_folder_by_path(owner_client, workspace, data_dir):
    team_file = make_duckdb(data_dir / "analytics.duckdb")
    assert create(owner_client, workspace, duckdb_form(path=str(team_file))).status_code == 302
    assert Connection.objects.for_workspace(workspace).get().status == "connected"


def test_shared_hosting_refuses_a_path_even_in_the_data_folder(owner_client, workspace, settings, data_dir):
    settings.HOSTING_MODE = "shared"
    team_file = make_duckdb(data_dir / "analytics.duckdb")
    response = create(owner_client, workspace, duckdb_form(path=str(team_file)))
    assert response.status_code == 422
    assert "Upload the DuckDB file" in path_error(response)


@MODES
def test_an_uploaded_file_is_stored_in_the_workspaces_folder_and_read_from_there(
    owner_client, workspace, settings, data_dir, tmp_path, mode
):
    settings.HOSTING_MODE = mode
    content = make_duckdb(tmp_path / "upload" / "my warehouse.duckdb").read_bytes()
    upload = SimpleUploadedFile("../../my warehouse.duckdb", content)
    response = create(owner_client, workspace, duckdb_form(upload=upload))
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.for_workspace(workspace).get()
    assert connection.status == "connected"
    name = connection.config["path"]
    assert "/" not in name and name.startswith("my_warehouse-") and name.endswith(".duckdb")
    assert (data_dir / "workspaces" / str(workspace.pk) / name).read_bytes() == content

    page = owner_client.get(reverse("source_edit", args=[workspace.slug, connection.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="upload"' in page


def test_an_upload_that_is_not_a_duckdb_file_is_refused_next_to_the_field(owner_client, workspace, data_dir):
    upload = SimpleUploadedFile("people.csv", b"id,email\n1,ada@example.com\n")
    response = create(owner_client, workspace, duckdb_form(upload=upload))
    assert response.status_code == 422
    assert "This is not a DuckDB database file." in " ".join(response.context["form"].errors["upload"])
    assert not (data_dir / "workspaces").exists()


def test_an_upload_that_fails_its_test_is_not_kept(owner_client, workspace, data_dir):
    broken = SimpleUploadedFile(
        "broken.duckdb", b"\0" * 8 + b"DUCK" + b"\0" * 100
    )  # right magic, no database
    response = create(owner_client, workspace, duckdb_form(upload=broken))
    assert response.status_code == 422
    assert "Could not open the DuckDB file" in path_error(response)
    assert list((data_dir / "workspaces" / str(workspace.pk)).iterdir()) == []


def test_neither_a_path_nor_an_upload_says_what_to_give(owner_client, workspace, data_dir):
    response = create(owner_client, workspace, duckdb_form())
    assert response.status_code == 422
    assert response.context["form"].errors["upload"] == [
        "Upload a DuckDB file, or enter the path of one above."
    ]


def test_shared_hosting_refuses_a_warehouse_on_this_machine(owner_client, workspace, settings):
    settings.HOSTING_MODE = "shared"
    response = create(owner_client, workspace, pg_form(host="127.0.0.1"))
    assert response.status_code == 422
    assert "resolves to 127.0.0.1, a loopback, private" in " ".join(response.context["form"].errors["host"])
    assert not Connection.objects.for_workspace(workspace).exists()

    settings.HOSTING_MODE = "team"  # one organisation: its warehouse on the same machine is normal
    assert create(owner_client, workspace, pg_form(host="127.0.0.1")).status_code == 302
