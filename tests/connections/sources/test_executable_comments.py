"""MySQL and MariaDB run the text of /*! … */ comments as SQL, where every other parser sees a comment:
Syncline's check refuses them (and optimizer hints) for the mysql dialect, and the real MariaDB, with a
user that holds FILE, writes no file. The server's own read-only session is the second wall for DDL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from apps.connections.sources.errors import QueryError, UnsafeQueryError
from apps.connections.sources.mysql import SESSION_SQL_MODE, MySqlSource
from apps.connections.sources.safety import checked_query

from .conftest import CANARY_ROWS, mysql_config, mysql_query, scratch_name


@pytest.fixture
def target():
    """A file MariaDB would write (it runs on this machine); removed afterwards whatever happened."""
    path = Path(f"/tmp/syncline_src_test_outfile_{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


EXECUTED = [
    "SELECT 1 AS id /*!50000 INTO OUTFILE '/tmp/x' */ FROM dual",
    "SELECT id FROM canary /*! UNION SELECT 99 */",
    "SELECT id FROM canary /*!UNION SELECT 99*/",
    "SELECT 1 AS id /*M! , 2 AS b */",
    "SELECT 1 AS id /*M!100000 , 2 AS b */",
    "SELECT 1 AS id /*m!100000 , 2 AS b */",
    "WITH c AS (SELECT id FROM canary /*!80000 WHERE id > 1 */) SELECT * FROM c",
    "SELECT 1 AS id\nFROM dual\n/*! INTO DUMPFILE '/tmp/y' */",
    "SELECT '/*!' AS inside_a_string",  # where a string ends depends on sql_mode: refused all the same
]


@pytest.mark.parametrize("sql", EXECUTED)
def test_the_check_refuses_executable_comments_for_mysql(sql):
    with pytest.raises(UnsafeQueryError) as refused:
        checked_query(sql, "mysql")
    message = str(refused.value)
    assert "executable comment" in message and "runs what is inside it as SQL" in message
    assert "line " in message and "column " in message
    assert refused.value.refused_by == "parser"


def test_the_refusal_says_where():
    with pytest.raises(UnsafeQueryError, match=r"line 3, column 1 starts a MySQL/MariaDB executable comment"):
        checked_query(EXECUTED[7], "mysql")


def test_optimizer_hints_are_refused_for_mysql():
    # MAX_EXECUTION_TIME in a hint overrides the connection's statement time limit
    with pytest.raises(UnsafeQueryError, match=r"optimizer hint .* time limit"):
        checked_query("SELECT /*+ MAX_EXECUTION_TIME(86400000) */ id FROM canary", "mysql")


@pytest.mark.parametrize("dialect", ["postgres", "duckdb", "redshift"])
def test_other_dialects_read_them_as_the_comments_they_are(dialect):
    assert checked_query("SELECT 1 AS a /*! , 2 AS b */ FROM t", dialect)
    assert checked_query("SELECT /*+ a hint */ 1", dialect)


def test_ordinary_mysql_comments_still_pass():
    for sql in (
        "SELECT 1 /* a note */",
        "SELECT 1 -- note\n",
        "SELECT 1 # note",
        "/* ! not executable */ SELECT 1",
    ):
        assert checked_query(sql, "mysql").startswith(("SELECT", "/*"))


# --- the real MariaDB, as a user that may write files ----------------------------------------------------


@pytest.fixture
def file_user(mysql_database):
    """A user with SELECT on the test database and FILE on the server (the privilege INTO OUTFILE needs)."""
    user, password = scratch_name()[:32], f"pw-{uuid.uuid4().hex[:12]}"
    mysql_query(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    mysql_query(f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'%'")
    mysql_query(f"GRANT FILE ON *.* TO '{user}'@'%'")
    try:
        yield user, password
    finally:
        mysql_query(f"DROP USER '{user}'@'%'")


def file_user_source(mysql_database, file_user) -> MySqlSource:
    user, password = file_user
    return MySqlSource(mysql_config(mysql_database, user=user, password=password))


def test_without_the_check_this_user_really_writes_a_file(mysql_database, file_user, target):
    """The control: the unchecked path (the database's walls only) writes the file, so the tests below
    would see one if the check let the comment through."""
    file_user_source(mysql_database, file_user)._preview(
        f"SELECT 1 AS id /*!50000 INTO OUTFILE '{target}' */"
    )
    assert target.exists()


@pytest.mark.parametrize("method", ["preview", "describe"])
def test_an_outfile_in_an_executable_comment_is_refused_and_no_file_is_written(
    mysql_database, file_user, target, method
):
    source = file_user_source(mysql_database, file_user)
    with pytest.raises(UnsafeQueryError, match="executable comment"):
        getattr(source, method)(f"SELECT 1 AS id /*!50000 INTO OUTFILE '{target}' */ FROM dual")  # noqa: S608
    assert not target.exists()


def test_a_union_in_an_executable_comment_returns_nothing(mysql_database, file_user):
    source = file_user_source(mysql_database, file_user)
    with pytest.raises(UnsafeQueryError):
        source.preview("SELECT id FROM canary WHERE id = 1 /*! UNION SELECT id FROM canary */")
    assert [row[0] for row in source.preview("SELECT id FROM canary WHERE id = 1").rows] == [1]


def test_a_stream_refuses_them_too(mysql_database, file_user, target):
    with pytest.raises(UnsafeQueryError):
        list(
            file_user_source(mysql_database, file_user).stream(f"SELECT 1 AS id /*!INTO OUTFILE '{target}'*/")
        )
    assert not target.exists()


def test_the_test_warns_about_the_file_privilege(mysql_database, file_user):
    warnings = file_user_source(mysql_database, file_user).test().warnings
    assert [w.code for w in warnings] == ["file"]
    assert "FILE privilege" in warnings[0].message and "INTO OUTFILE" in warnings[0].message
    assert f"GRANT SELECT ON `{mysql_database}`.*" in warnings[0].advice


# --- the second wall: the session itself is read-only ----------------------------------------------------


@pytest.mark.parametrize("statement", ["CREATE TABLE intruder (id INT)", "DROP TABLE canary"])
def test_the_read_only_session_refuses_ddl_without_the_parser(mysql_backend, statement):
    with pytest.raises(UnsafeQueryError) as refused:
        mysql_backend.make_source()._preview(statement)
    assert refused.value.refused_by == "database"
    assert mysql_backend.read_canary() == CANARY_ROWS
    assert not mysql_backend.table_exists("intruder")


@pytest.mark.parametrize(
    "server_mode", ["NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES", "ANSI_QUOTES", "ANSI", "ORACLE", "MSSQL"]
)
def test_strings_end_where_the_check_reads_them_whatever_the_servers_sql_mode(mysql_backend, server_mode):
    """With NO_BACKSLASH_ESCAPES, 'x\\' ends a string the check reads as going on; with ANSI_QUOTES (also
    part of ANSI and ORACLE) "…" is a name, not a string. The session's mode is fixed whatever it was."""
    source = mysql_backend.make_source()
    conn = source._connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = %s", [server_mode])
        source._start_read_only(conn, 5)
        with conn.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.sql_mode, 'a\\'b', \"c\\\"d\"")
            mode, single, double = cursor.fetchone()
        assert (mode, single, double) == (SESSION_SQL_MODE, "a'b", 'c"d')
    finally:
        conn.close()


def test_a_double_quoted_name_cannot_hide_sql_from_the_check_under_ansi_quotes(mysql_backend, target):
    """The check reads "a\\" INTO OUTFILE … -- " as one string; a server with ANSI_QUOTES would read a
    name followed by INTO OUTFILE. In Syncline's session it is the string the check saw: no file."""
    sql = f'SELECT 1 AS "a\\" INTO OUTFILE \'{target}\' -- "\nFROM dual'
    assert checked_query(sql, "mysql")  # the check sees no INTO: the session must read it the same way
    source = mysql_backend.make_source()
    conn = source._connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
        source._start_read_only(conn, 5)
        with conn.cursor() as cursor:
            cursor.execute(sql)
            assert cursor.fetchall() == ((1,),)
    finally:
        conn.close()
    assert not target.exists()


def test_a_deeply_nested_query_is_a_clear_error_on_mysql(mysql_backend):
    with pytest.raises(QueryError, match="too deeply nested"):
        mysql_backend.make_source().preview("SELECT " + "(" * 3000 + "1" + ")" * 3000 + " AS id")
