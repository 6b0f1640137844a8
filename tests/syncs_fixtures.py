"""Building blocks for end-to-end sync tests: a DuckDB model of given rows, an Intercom destination on the
emulator, and a sync between them."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest

from apps.syncs import services
from tests.factories import IntercomConnectionFactory, SourceConnectionFactory, SqlModelFactory

_counter = itertools.count()


class Warehouse:
    """A DuckDB file the test writes tables into; one source connection reads it."""

    def __init__(self, workspace, path: Path):
        self.path = path
        self.workspace = workspace
        self.source = SourceConnectionFactory(workspace=workspace, type="duckdb", config={"path": str(path)})

    def table(self, name: str, columns: str, rows: list[tuple]) -> None:
        with duckdb.connect(str(self.path)) as conn:
            conn.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)  # noqa: S608

    def model(self, sql: str, primary_key: str, columns: list[str]):
        return SqlModelFactory(
            workspace=self.workspace,
            source=self.source,
            sql=sql,
            primary_key=primary_key,
            columns=[{"name": c, "db_type": "", "kind": "string"} for c in columns],
        )


@pytest.fixture
def warehouse(workspace, tmp_path):
    return Warehouse(workspace, tmp_path / f"warehouse-{next(_counter)}.duckdb")


@pytest.fixture
def intercom_workspace(intercom_emulator, settings):
    settings.INTERCOM_API_BASE_URLS = intercom_emulator.base_urls
    return intercom_emulator.seed_workspace(
        name="Acme",
        region="US",
        data_attributes=[
            {"name": "plan", "data_type": "string"},
            {"name": "mrr", "data_type": "float"},
            {"name": "seats", "data_type": "integer"},
            {"name": "tier", "data_type": "string", "model": "company"},
        ],
    )


@pytest.fixture
def destination(workspace, intercom_workspace):
    return IntercomConnectionFactory(
        workspace=workspace,
        config={"region": "US", "workspace_id": intercom_workspace.id_code, "workspace_name": "Acme"},
        credentials={"access_token": intercom_workspace.token},
    )


def make_sync(workspace, model, destination, *, object_key, behavior, key_column, key_identifier,
              mappings=(), options=None, name=None):  # fmt: skip
    return services.sync_save(
        workspace=workspace,
        user=None,
        name=name or f"Sync {next(_counter)}",
        model=model,
        destination=destination,
        object_key=object_key,
        behavior=behavior,
        key_column=key_column,
        key_identifier=key_identifier,
        mappings=list(mappings),
        options=options or {},
    )


def m(target, field_type, column=None, *, custom=False, constant=None):
    mapping = {"target": target, "field_type": field_type, "custom": custom}
    if column is not None:
        mapping["column"] = column
    if constant is not None:
        mapping["constant"] = constant
    return mapping
