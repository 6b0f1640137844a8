"""Previews read at most 100 rows and never the rest; extractions stream every row in batches; columns
come with their types; SQL errors carry the database's message and position."""

from __future__ import annotations

import pytest

from apps.connections.sources.errors import QueryError

from .conftest import BIG_ROWS, mysql_query

# A row far into the result that raises when it is computed: a preview that read it would fail. Each
# entry: (the query to preview, the same wire read to the end, which must trip).
TRIPWIRE_ROW = 150_000
_PLAIN = "SELECT id, payload, tripwire(id) AS checked FROM big"
# DuckDB scans in parallel and reads a bounded distance ahead of the consumer (whole row groups of ~120k
# rows), so its wire sits 900 million rows away, and its proof starts near the wire.
_DUCK = "SELECT range + 1 AS id, CASE WHEN range + 1 = 900000000 THEN error('row 900000000 was read') END AS checked"
TRIPWIRE_SQL = {
    "postgres": (_PLAIN, _PLAIN, TRIPWIRE_ROW),
    "mysql": (_PLAIN, _PLAIN, TRIPWIRE_ROW),
    "duckdb": (f"{_DUCK} FROM range(1000000000)", f"{_DUCK} FROM range(899999000, 1000000000)", 900000000),
}


@pytest.fixture(scope="module", autouse=True)
def tripwire_functions(pg_database, mysql_database):
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={pg_database}", autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION tripwire(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
            f"IF i = {TRIPWIRE_ROW} THEN RAISE EXCEPTION 'row {TRIPWIRE_ROW} was read'; END IF; RETURN i; END $$"
        )
    mysql_query("DROP FUNCTION IF EXISTS tripwire", database=mysql_database)
    mysql_query(
        "CREATE FUNCTION tripwire(i INT) RETURNS INT DETERMINISTIC BEGIN "
        f"IF i = {TRIPWIRE_ROW} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'row {TRIPWIRE_ROW} was read'; "
        "END IF; RETURN i; END",
        database=mysql_database,
    )


def test_preview_returns_100_rows_without_reading_the_rest(backend):
    source = backend.make_source()
    preview_sql, proof_sql, wire = TRIPWIRE_SQL[backend.name]
    preview = source.preview(preview_sql)
    assert len(preview.rows) == 100
    assert preview.has_more
    assert [row[0] for row in preview.rows] == list(range(1, 101))
    assert preview.elapsed_seconds < 1
    # read to the end, the wire trips: the preview really stopped early
    with pytest.raises(QueryError, match=f"row {wire} was read"):
        for _ in source.stream(proof_sql, batch_size=10_000):
            pass


def test_preview_never_returns_more_than_100_rows(backend):
    preview = backend.make_source().preview("SELECT id FROM big", limit=5000)
    assert len(preview.rows) == 100


def test_preview_of_a_small_result_is_complete(backend):
    preview = backend.make_source().preview("SELECT id FROM big WHERE id <= 7 ORDER BY id", limit=10)
    assert [row[0] for row in preview.rows] == list(range(1, 8))
    assert not preview.has_more


def test_stream_yields_every_row_in_batches(backend):
    batches = list(backend.make_source().stream("SELECT id, payload FROM big", batch_size=30_000))
    sizes = [len(batch.rows) for batch in batches]
    assert sizes == [30_000] * (BIG_ROWS // 30_000) + [BIG_ROWS % 30_000]
    ids = {row[0] for batch in batches for row in batch.rows}
    assert ids == set(range(1, BIG_ROWS + 1))
    assert [c.name for c in batches[0].columns] == ["id", "payload"]


def test_describe_gives_names_and_types(backend):
    sql = {
        "postgres": "SELECT id, payload, id::numeric(10, 2) AS amount, now() AS seen_at, id > 5 AS flag FROM big",
        "mysql": "SELECT id, payload, CAST(id AS DECIMAL(10, 2)) AS amount, NOW() AS seen_at FROM big",
        "duckdb": "SELECT id, payload, id::DECIMAL(10, 2) AS amount, now() AS seen_at, id > 5 AS flag FROM big",
    }[backend.name]
    columns = backend.make_source().describe(sql)
    kinds = {c.name: c.kind for c in columns}
    assert kinds["id"] == "integer"
    assert kinds["payload"] == "string"
    assert kinds["amount"] == "decimal"
    assert kinds["seen_at"] == "timestamp"
    if "flag" in kinds:
        assert kinds["flag"] == "boolean"
    assert all(c.db_type for c in columns)


def test_postgres_error_gives_line_and_column_in_the_users_sql(pg_backend):
    with pytest.raises(QueryError) as failed:
        pg_backend.make_source().preview("SELECT id,\n       payload\nFROM  no_such_table")
    assert failed.value.line == 3 and failed.value.column == 7
    assert 'relation "no_such_table" does not exist' in str(failed.value)
    assert "(line 3, column 7)" in str(failed.value)


def test_mysql_error_gives_the_line(mysql_backend):
    with pytest.raises(QueryError) as failed:
        mysql_backend.make_source().preview("SELECT id,\n payload\nFROM big WHERE WHERE")
    assert failed.value.line == 3
    assert "SQL syntax" in failed.value.db_message


def test_duckdb_error_gives_the_database_message(duckdb_backend):
    with pytest.raises(QueryError, match="no_such_table"):
        duckdb_backend.make_source().preview("SELECT id FROM no_such_table")


def test_dialect_syntax_the_parser_does_not_know_reaches_the_database(mysql_backend, pg_backend):
    # sqlglot cannot parse these; the tokens show plain queries, so the database decides.
    assert len(mysql_backend.make_source().preview("VALUES (1), (2)").rows) == 2
    assert pg_backend.make_source().preview("SELECT 'a' OPERATOR(pg_catalog.||) 'b'").rows == [("ab",)]
