"""The Redshift variant has no Redshift to run against here. What can be shown honestly: its session SQL
(BEGIN READ ONLY, set_config(…, true) for the time limit and the search path) is valid PostgreSQL, and
with it the same guarantees hold on PostgreSQL; its parser check uses the Redshift dialect."""

from __future__ import annotations

import pytest

from apps.connections.sources.errors import QueryTimeout, UnsafeQueryError
from apps.connections.sources.postgres import RedshiftSource
from apps.connections.sources.registry import clean_config

from .conftest import CANARY_ROWS, TEST_TIMEOUT_SECONDS


@pytest.fixture
def redshift_like(pg_database):
    values = {"host": "127.0.0.1", "port": 5432, "database": pg_database, "user": "postgres", "sslmode": "disable",
              "search_path": "public", "preview_timeout_seconds": TEST_TIMEOUT_SECONDS}  # fmt: skip
    return RedshiftSource(clean_config("redshift", values))


def test_reads(redshift_like):
    assert [
        tuple(r) for r in redshift_like.preview("SELECT id, note FROM canary ORDER BY id").rows
    ] == CANARY_ROWS


def test_read_only_transaction_refuses_hidden_writes(redshift_like, pg_backend):
    with pytest.raises(UnsafeQueryError) as refused:
        redshift_like.preview("SELECT writer_fn()")
    assert refused.value.refused_by == "database"
    assert pg_backend.read_canary() == CANARY_ROWS


def test_time_limit_applies(redshift_like):
    with pytest.raises(QueryTimeout, match="2 seconds"):
        redshift_like.preview("SELECT pg_sleep(600)")


def test_parser_refuses_writes_in_the_redshift_dialect(redshift_like):
    with pytest.raises(UnsafeQueryError, match="DELETE removes rows"):
        redshift_like.preview("/* nightly */ DELETE FROM canary")
