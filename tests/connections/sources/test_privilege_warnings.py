"""The connection test names what is too powerful about the warehouse user, with what to grant instead:
real PostgreSQL roles and MariaDB users, each given one privilege too many."""

from __future__ import annotations

import psycopg
import pytest

from apps.connections.sources.mysql import MySqlSource
from apps.connections.sources.postgres import PostgresSource
from apps.connections.sources.privileges import mysql_warnings

from .conftest import PG_ADMIN_DSN, mysql_config, mysql_query, pg_config, scratch_name


@pytest.fixture
def pg_role(pg_database):
    """A login role (trust auth: no password needed) that may connect to the scratch database and read
    the canary table; a test grants it more."""
    role = scratch_name()
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={pg_database}", autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT SELECT ON canary TO "{role}"')

        def grant(statement: str) -> None:
            conn.execute(statement.replace("ROLE", f'"{role}"'))

        yield role, grant
        conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
        conn.execute(f'REVOKE ALL ON SCHEMA public FROM "{role}"')
        conn.execute(f'REVOKE ALL ON DATABASE "{pg_database}" FROM "{role}"')
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP ROLE "{role}"')


def pg_warnings(pg_database, role):
    return PostgresSource(pg_config(pg_database, user=role)).test().warnings


def test_postgres_superuser_is_one_warning_that_says_what_it_can_do(pg_database):
    (warning,) = PostgresSource(pg_config(pg_database)).test().warnings  # user postgres
    assert warning.code == "superuser"
    assert 'The role "postgres" is a superuser' in warning.message
    for power in ("pg_read_file", "pg_terminate_backend", "lo_import"):
        assert power in warning.message
    assert "GRANT pg_read_all_data TO syncline" in warning.advice
    assert f"GRANT CONNECT ON DATABASE {pg_database} TO syncline" in warning.advice


def test_a_role_that_only_reads_gets_no_warning(pg_database, pg_role):
    role, _ = pg_role
    assert pg_warnings(pg_database, role) == []


def test_postgres_server_file_roles(pg_database, pg_role):
    role, grant = pg_role
    grant("GRANT pg_read_server_files, pg_write_server_files TO ROLE")
    try:
        (warning,) = pg_warnings(pg_database, role)
    finally:
        grant("REVOKE pg_read_server_files, pg_write_server_files FROM ROLE")
    assert warning.code == "server_files"
    assert "pg_read_server_files and pg_write_server_files" in warning.message
    assert "read and write files on the database server" in warning.message
    assert warning.advice.startswith("REVOKE pg_read_server_files, pg_write_server_files FROM")


def test_postgres_server_program_role(pg_database, pg_role):
    role, grant = pg_role
    grant("GRANT pg_execute_server_program TO ROLE")
    try:
        assert [w.code for w in pg_warnings(pg_database, role)] == ["server_program"]
    finally:
        grant("REVOKE pg_execute_server_program FROM ROLE")


def test_postgres_role_that_can_write(pg_database, pg_role):
    role, grant = pg_role
    grant("GRANT INSERT, DELETE ON canary TO ROLE")
    grant("GRANT CREATE ON SCHEMA public TO ROLE")
    (warning,) = pg_warnings(pg_database, role)
    assert warning.code == "can_write"
    assert "INSERT, UPDATE or DELETE rows of 1 tables (e.g. public.canary)" in warning.message
    assert "CREATE tables in public" in warning.message
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in warning.advice


# --- MariaDB ----------------------------------------------------------------------------------------------


@pytest.fixture
def mysql_user(mysql_database):
    user, password = scratch_name()[:32], "pw-for-warnings"
    mysql_query(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    mysql_query(f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'%'")

    def grant(privileges: str, on: str = "*.*") -> None:
        mysql_query(f"GRANT {privileges} ON {on} TO '{user}'@'%'")

    try:
        yield (
            (lambda: MySqlSource(mysql_config(mysql_database, user=user, password=password)).test().warnings),
            grant,
        )
    finally:
        mysql_query(f"DROP USER '{user}'@'%'")


def test_a_mysql_user_that_only_reads_gets_no_warning(mysql_user):
    warnings, _ = mysql_user
    assert warnings() == []


def test_mysql_file_super_and_admin(mysql_user):
    warnings, grant = mysql_user
    grant("FILE, SUPER, PROCESS")
    found = {w.code: w for w in warnings()}
    assert set(found) == {"file", "admin"}
    assert "(SUPER, PROCESS)" in found["admin"].message and "read_only" in found["admin"].message


def test_mysql_write_privileges_name_where(mysql_user, mysql_database):
    warnings, grant = mysql_user
    grant("INSERT, UPDATE", on=f"`{mysql_database}`.canary")
    (warning,) = warnings()
    assert warning.code == "can_write"
    assert f"INSERT, UPDATE on {mysql_database}.canary" in warning.message


def test_mysql_privileges_of_an_active_role_count(mysql_database):
    lines = [
        "GRANT `reporting` TO `u`@`%`",
        "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABC'",
        "GRANT DELETE ON `shop`.* TO `reporting`",
        "GRANT SELECT (`a`, `b`), INSERT (`c`) ON `shop`.`t` TO `u`@`%`",
    ]
    (warning,) = mysql_warnings(lines, user="u", database="shop")
    assert "INSERT, DELETE on shop.*, shop.t" in warning.message
    assert "*ABC" not in warning.message
