"""SQL the check cannot vouch for, through the model editor and a sync run: a MariaDB executable comment
that would write a file (for real, as a user with FILE), and an expression nested 3,000 deep. Each is a
message next to the SQL (or on the run), never a 500 and never a file."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from apps.models.models import SqlModel
from apps.syncs.models import RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.factories import SourceConnectionFactory
from tests.fixtures.mariadb import scratch_mariadb_user
from tests.fixtures.syncs import m, make_sync

HTMX = {"HX-Request": "true"}
DEEP = "SELECT " + "(" * 3000 + "1" + ")" * 3000 + " AS user_id"


def post(client, workspace, source, sql, action, **extra):
    data = {"name": "Users", "description": "", "source": source.pk, "sql": sql, "primary_key": "user_id",
            "action": action}  # fmt: skip
    return client.post(reverse("model_create", args=[workspace.slug]), data, **extra)


@pytest.fixture
def duck(workspace, demo_duckdb):
    return SourceConnectionFactory(workspace=workspace, type="duckdb", config={"path": demo_duckdb})


@pytest.mark.django_db
def test_a_deeply_nested_preview_is_a_message(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, DEEP, "preview", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview failed" in html and "too deeply nested (3000 levels of parentheses)" in html
    assert "WITH … AS (…)" in html


@pytest.mark.django_db
def test_a_deeply_nested_model_is_not_saved_and_the_sql_field_says_why(owner_client, workspace, duck):
    response = post(owner_client, workspace, duck, "SELECT " + "NOT " * 3000 + "TRUE AS user_id", "save")
    assert response.status_code == 422
    assert "too deeply nested" in " ".join(response.context["form"].errors["sql"])
    assert not SqlModel.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_deeply_nested_model_fails_its_run_with_the_message(workspace, warehouse, destination):
    warehouse.table("users", "user_id INTEGER, email VARCHAR", [(1, "ada@example.com")])
    model = warehouse.model(
        DEEP.replace(" AS user_id", " AS user_id, 'a@example.com' AS email"),
        "user_id",
        ["user_id", "email"],
        unique=("email",),
    )
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("name", "string", "email")],
    )
    started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    result = sync_run_execute(run_id=started.pk)
    assert result.status == RunStatus.FAILED
    assert "too deeply nested" in result.first_error


# --- MariaDB, as a user that may write files on the server ------------------------------------------------


@pytest.fixture
def mariadb_with_file(workspace):
    with scratch_mariadb_user("syncline_model", grants=("FILE ON *.*",)) as scratch:
        config = {
            "host": "127.0.0.1",
            "port": 3306,
            "database": scratch["database"],
            "user": scratch["user"],
            "ssl_mode": "disabled",
            "preview_timeout_seconds": 5.0,
            "extract_timeout_seconds": 60.0,
            "connect_timeout_seconds": 5.0,
        }
        yield SourceConnectionFactory(
            workspace=workspace,
            name="Shop",
            type="mysql",
            config=config,
            credentials={"password": scratch["password"]},
        )


@pytest.fixture
def target():
    path = Path(f"/tmp/syncline_model_outfile_{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


@pytest.mark.django_db
def test_an_outfile_in_an_executable_comment_is_refused_in_the_preview(
    owner_client, workspace, mariadb_with_file, target
):
    sql = f"SELECT 1 AS user_id /*!50000 INTO OUTFILE '{target}' */ FROM dual"  # noqa: S608
    html = post(owner_client, workspace, mariadb_with_file, sql, "preview", headers=HTMX).content.decode()
    assert "Preview failed" in html and "executable comment" in html
    assert not target.exists()


@pytest.mark.django_db
def test_an_outfile_in_an_executable_comment_is_refused_on_save(
    owner_client, workspace, mariadb_with_file, target
):
    sql = f"SELECT 1 AS user_id\nFROM dual /*!INTO OUTFILE '{target}'*/"
    response = post(owner_client, workspace, mariadb_with_file, sql, "save")
    assert response.status_code == 422
    message = " ".join(response.context["form"].errors["sql"])
    assert "line 2, column 11 starts a MySQL/MariaDB executable comment" in message
    assert not target.exists()
    assert not SqlModel.objects.for_workspace(workspace).exists()
