"""BigQuery's own behaviour, beyond the contract suite: the dry run's statement type refuses a write even
when Syncline's parser is bypassed, the preview carries what the query scans, and a service-account key
that is not one is refused in words that say what to upload."""

from __future__ import annotations

import pytest

from apps.connections.sources.bigquery import BigQuerySource, ServiceAccountInvalid
from apps.connections.sources.errors import QueryError, UnsafeQueryError
from apps.connections.sources.safety import READ_ONLY_HINT

from .conftest import bigquery_config


@pytest.fixture
def source(bigquery_tables) -> BigQuerySource:
    return BigQuerySource(bigquery_config(bigquery_tables), endpoint=bigquery_tables.endpoint)


def test_the_dry_run_refuses_a_write_the_parser_never_saw(source, bigquery_tables):
    for attempt in (
        lambda: source._preview("DELETE FROM canary WHERE true"),
        lambda: list(source._stream("DELETE FROM canary WHERE true")),
        lambda: source._describe("DELETE FROM canary WHERE true"),
    ):
        with pytest.raises(UnsafeQueryError) as refused:
            attempt()
        assert refused.value.refused_by == "database"
        assert "BigQuery reads it as a DELETE statement" in str(refused.value)
        assert READ_ONLY_HINT in str(refused.value)
    assert bigquery_tables.run("SELECT count(*) FROM syncline.canary") == [(3,)]


def test_the_preview_says_what_the_query_scans(source):
    preview = source.preview("SELECT id, payload FROM big ORDER BY id")
    assert preview.scanned_bytes is not None  # bqemulator says 0; BigQuery the bytes it bills
    assert source.dry_run("SELECT id FROM big").statement_type == "SELECT"


def test_an_error_in_the_sql_names_its_line_and_column(source):
    with pytest.raises(QueryError) as failed:
        source.preview("SELECT id FROM no_such_table")
    assert str(failed.value).startswith("BigQuery reported an error")


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "Paste or upload the service account's JSON key"),
        ("-----BEGIN PRIVATE KEY-----", "is not JSON"),
        ('{"type": "authorized_user"}', 'its "type" must be "service_account"'),
        ('{"type": "service_account", "project_id": "p-1"}', "has no client_email, private_key"),
    ],
)
def test_a_key_that_is_not_a_service_account_key_is_refused_in_words(bigquery_tables, key, words):
    with pytest.raises(ServiceAccountInvalid, match=words) as refused:
        BigQuerySource(bigquery_config(bigquery_tables, service_account_json=key))
    assert "BEGIN PRIVATE KEY" not in str(refused.value)
