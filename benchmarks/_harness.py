"""Shared set-up for the sync benchmarks: a scratch app database, the emulator, a workspace with a
warehouse source, an Intercom destination and a sync. Not a benchmark itself."""

from __future__ import annotations

import os
import resource
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def peak_mb() -> float:
    """Peak resident memory of this process, in MB. VmHWM belongs to the address space made at exec,
    whereas ru_maxrss keeps the high-water mark of the parent that forked us (Linux carries it across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_url(database: str) -> str:
    """A scratch PostgreSQL database by name, or an SQLite file (the embedded default) by its path."""
    if database.endswith(".sqlite3"):
        return f"sqlite:///{database}"
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def django_setup(database: str, *, fresh: bool = True, redis_db: int = 13) -> None:
    """Point Django at a scratch database (a fresh one unless told to keep what is there; a path ending
    in .sqlite3 is an SQLite file) and migrate it; ``redis_db`` is the Redis database the run uses."""
    import psycopg

    if fresh and database.endswith(".sqlite3"):
        Path(database).unlink(missing_ok=True)
    elif fresh:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url(database)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    import logging

    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the rate limiter starts empty


def drop_database(database: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    if database.endswith(".sqlite3"):
        Path(database).unlink(missing_ok=True)
        return
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def start_emulator(*args: str):
    from tests.fixtures.emulator import IntercomEmulator, start_emulator

    server = start_emulator(list(args))
    return server, IntercomEmulator(server.root_url)


def workspace_with_sync(
    emulator,
    *,
    source_type: str,
    source_config: dict,
    sql: str,
    primary_key: str,
    columns: list[str],
    object_key: str,
    behavior: str,
    key_column: str,
    key_identifier: str,
    mappings: list[dict],
    data_attributes: list[dict] | None = None,
):
    from django.conf import settings

    from apps.connections.models import Connection
    from apps.models.models import SqlModel
    from apps.syncs import services
    from apps.tenancy.models import Workspace

    settings.INTERCOM_API_BASE_URLS = emulator.base_urls
    intercom = emulator.seed_workspace(name="Bench", region="US", data_attributes=data_attributes or [])
    workspace = Workspace.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:12]}")
    source = Connection.objects.create(
        workspace=workspace,
        name="Warehouse",
        kind="source",
        type=source_type,
        config=source_config,
        credentials={},
        status="connected",
    )
    destination = Connection.objects.create(
        workspace=workspace,
        name="Intercom",
        kind="destination",
        type="intercom",
        config={"region": "US", "workspace_id": intercom.id_code, "workspace_name": "Bench"},
        credentials={"access_token": intercom.token},
        status="connected",
    )
    model = SqlModel.objects.create(
        workspace=workspace,
        name="Model",
        source=source,
        sql=sql,
        primary_key=primary_key,
        columns=[{"name": c, "db_type": "", "kind": "string"} for c in columns],
    )
    sync = services.sync_save(
        workspace=workspace,
        user=None,
        name="Bench sync",
        model=model,
        destination=destination,
        object_key=object_key,
        behavior=behavior,
        key_column=key_column,
        key_identifier=key_identifier,
        mappings=mappings,
        options={},
    )
    return workspace, sync, intercom


def run_now(workspace, sync, **kwargs):
    from apps.syncs.runs import services as run_services
    from apps.syncs.runs.execute import sync_run_execute

    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False, **kwargs)
    return sync_run_execute(run_id=run.pk)


def duckdb_people(path: Path, n: int, *, plan: str = "free") -> None:
    """A DuckDB file with n people: id, email, name, plan."""
    import duckdb

    with duckdb.connect(str(path)) as conn:
        conn.execute("DROP TABLE IF EXISTS people")
        conn.execute(
            "CREATE TABLE people AS SELECT i AS id, 'person' || i || '@bench.example' AS email, "
            "'Person ' || i AS name, ? AS plan FROM range(1, ? + 1) t(i)",
            [plan, n],
        )


PEOPLE_COLUMNS = ["id", "email", "name", "plan"]
PEOPLE_MAPPINGS = [
    {"target": "name", "field_type": "string", "column": "name", "custom": False},
    {"target": "plan", "field_type": "string", "column": "plan", "custom": True},
]
PEOPLE_ATTRIBUTES = [{"name": "plan", "data_type": "string"}]


def people_sync(emulator, path: Path):
    """A User sync (Update or Create, keyed on external_id = id) of the people table in a DuckDB file."""
    workspace, sync, _ = workspace_with_sync(
        emulator,
        source_type="duckdb",
        source_config={"path": str(path)},
        sql="SELECT * FROM people",
        primary_key="id",
        columns=PEOPLE_COLUMNS,
        object_key="user",
        behavior="upsert",
        key_column="id",
        key_identifier="external_id",
        mappings=PEOPLE_MAPPINGS,
        data_attributes=PEOPLE_ATTRIBUTES,
    )
    return workspace, sync
