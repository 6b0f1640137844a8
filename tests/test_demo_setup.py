import pytest
from django.core.management import call_command

from apps.connections.models import Connection
from apps.models.models import SqlModel
from apps.tenancy.models import User, Workspace


@pytest.mark.django_db
@pytest.mark.parametrize("hosting_mode", ["team", "shared"])
def test_demo_setup_builds_a_working_demo_workspace_and_is_idempotent(
    settings, tmp_path, capsys, hosting_mode
):
    settings.VAR_DIR, settings.DUCKDB_DATA_DIR = tmp_path, tmp_path / "duckdb"
    settings.HOSTING_MODE = hosting_mode  # the demo warehouse opens in either mode: it is in its own folder
    call_command("demo_setup")
    call_command("demo_setup")
    assert "demo@syncline.local / syncline-demo" in capsys.readouterr().out
    user = User.objects.get(email="demo@syncline.local")
    assert user.check_password("syncline-demo")
    workspace = Workspace.objects.get(slug="demo")
    (source,) = Connection.objects.for_workspace(workspace)
    warehouse = tmp_path / "duckdb" / "workspaces" / str(workspace.pk) / "demo.duckdb"
    assert warehouse.exists() and source.config["path"] == str(warehouse)
    models = {m.name: m for m in SqlModel.objects.for_workspace(workspace)}
    assert set(models) == {"Users", "Companies"}
    assert "mrr" in models["Users"].column_names
    assert models["Companies"].primary_key == "company_id"


@pytest.mark.django_db
def test_demo_setup_moves_an_earlier_demo_warehouse_into_the_data_folder(settings, tmp_path):
    """Earlier versions wrote var/demo.duckdb, outside the DuckDB data folder: ./syncline run keeps working."""
    settings.VAR_DIR, settings.DUCKDB_DATA_DIR = tmp_path, tmp_path / "duckdb"
    call_command("demo_setup")
    (source,) = Connection.objects.for_workspace(Workspace.objects.get(slug="demo"))
    moved = source.config["path"]
    source.config = {**source.config, "path": str(tmp_path / "demo.duckdb")}
    source.save()
    call_command("demo_setup")
    source.refresh_from_db()
    assert source.config["path"] == moved
