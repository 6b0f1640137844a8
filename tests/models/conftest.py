"""Fixtures shared by the model tests."""

import pytest
from django.db import connection as app_db

from tests.factories import SourceConnectionFactory


@pytest.fixture
def duck(workspace, demo_duckdb):
    """The demo DuckDB warehouse as a source of the workspace."""
    return SourceConnectionFactory(
        workspace=workspace, name="Demo warehouse", type="duckdb", config={"path": demo_duckdb}
    )


@pytest.fixture
def pg_source(workspace):
    """The app's own PostgreSQL test database as a source of the workspace, with a 2-second preview limit
    (the time-limit tests wait for it)."""
    config = {"host": "127.0.0.1", "port": 5432, "database": app_db.settings_dict["NAME"], "user": "postgres",
              "sslmode": "disable", "connect_timeout_seconds": 5, "preview_timeout_seconds": 2}  # fmt: skip
    return SourceConnectionFactory(workspace=workspace, name="App DB", type="postgres", config=config)
