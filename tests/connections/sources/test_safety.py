"""The parser check on its own: what it accepts, what it refuses, and what it says."""

from __future__ import annotations

import pytest

from apps.connections.sources.errors import QueryError, UnsafeQueryError
from apps.connections.sources.safety import checked_query

DIALECTS = ["postgres", "mysql", "duckdb", "redshift"]

ACCEPTED = [
    "SELECT 1",
    "select id, email from users where plan = 'pro'",
    "WITH active AS (SELECT * FROM users WHERE seen > 3) SELECT * FROM active",
    "(SELECT 1) UNION ALL (SELECT 2) ORDER BY 1",
    "SELECT * FROM (SELECT 1 AS a) AS sub",
    "SELECT ';' AS semicolon_in_a_string",
    "SELECT 1 -- a comment; with a semicolon",
    "/* leading comment */ SELECT 1",
]

REFUSED = {
    "INSERT INTO t VALUES (1)": "INSERT writes rows",
    "UPDATE t SET a = 1": "UPDATE writes rows",
    "DELETE FROM t": "DELETE removes rows",
    "DROP TABLE t": "DROP changes the schema",
    "CREATE TABLE t2 AS SELECT 1": "CREATE changes the schema",
    "TRUNCATE TABLE t": "TRUNCATE removes rows",
    "ALTER TABLE t ADD COLUMN b int": "ALTER changes the schema",
    "COPY t TO PROGRAM 'rm -rf /'": "COPY",
    "SET default_transaction_read_only = off": "SET changes session settings",
    "COMMIT": "COMMIT",
    "CALL p()": "CALL is not a query",
    "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x": "DELETE removes rows",
    "WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x": "UPDATE writes rows",
    "SELECT * INTO t2 FROM t": "SELECT … INTO creates a table",
    "SELECT * FROM t FOR UPDATE": "locks rows",
    "/* a report */ DELETE FROM t": "DELETE removes rows",
    "-- a report\nDELETE FROM t": "DELETE removes rows",
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", ACCEPTED)
def test_accepts_read_only_queries(sql, dialect):
    assert checked_query(sql, dialect).strip()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "reason"), REFUSED.items(), ids=list(REFUSED))
def test_refuses_writes_with_the_reason(sql, reason, dialect):
    with pytest.raises(UnsafeQueryError) as refused:
        checked_query(sql, dialect)
    assert reason in str(refused.value)
    assert "Syncline only runs a single read-only query" in str(refused.value)
    assert refused.value.refused_by == "parser"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE t",
        "COMMIT; DELETE FROM t",
        "SELECT 1;;SELECT 2",
        "SELECT 1 -- x\n; DELETE FROM t",
    ],
)
def test_refuses_more_than_one_statement(sql):
    with pytest.raises(UnsafeQueryError, match="Only one statement can be run; found 2"):
        checked_query(sql, "postgres")


def test_trims_trailing_semicolons_and_comments():
    assert checked_query("SELECT 1;  -- done\n", "postgres") == "SELECT 1"
    assert checked_query("SELECT 1 -- trailing", "mysql") == "SELECT 1"


def test_values_is_a_query():
    assert checked_query("VALUES (1), (2)", "postgres") == "VALUES (1), (2)"


def test_empty_sql_is_an_error():
    with pytest.raises(QueryError, match="the SQL is empty"):
        checked_query("  -- nothing\n ;", "postgres")


def test_unparseable_sql_with_a_write_keyword_is_refused():
    with pytest.raises(UnsafeQueryError, match="could not parse it .* the keyword DELETE"):
        checked_query("DELETE FROM t WHERE a @@@ b", "mysql")


def test_unparseable_plain_query_is_left_to_the_database():
    # sqlglot's MySQL dialect lacks the :: cast; a SELECT without write keywords goes on to the database
    assert checked_query("SELECT a::int FROM t", "mysql") == "SELECT a::int FROM t"
