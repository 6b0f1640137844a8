"""Fixtures shared by the model tests."""

import pytest

from tests.factories import SourceConnectionFactory


@pytest.fixture
def duck(workspace, demo_duckdb):
    """The demo DuckDB warehouse as a source of the workspace."""
    return SourceConnectionFactory(
        workspace=workspace, name="Demo warehouse", type="duckdb", config={"path": demo_duckdb}
    )
