import pytest
from django.core.management import call_command

from apps.connections.models import Connection
from apps.models.models import SqlModel
from apps.tenancy.models import User, Workspace


@pytest.mark.django_db
def test_demo_setup_builds_a_working_demo_workspace_and_is_idempotent(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("demo_setup")
    call_command("demo_setup")
    assert "demo@syncline.local / syncline-demo" in capsys.readouterr().out
    user = User.objects.get(email="demo@syncline.local")
    assert user.check_password("syncline-demo")
    workspace = Workspace.objects.get(slug="demo")
    (source,) = Connection.objects.for_workspace(workspace)
    assert (tmp_path / "demo.duckdb").exists() and source.config["path"] == str(tmp_path / "demo.duckdb")
    models = {m.name: m for m in SqlModel.objects.for_workspace(workspace)}
    assert set(models) == {"Users", "Companies"}
    assert "mrr" in models["Users"].column_names
    assert models["Companies"].primary_key == "company_id"
