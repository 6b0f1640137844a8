"""The demo warehouse: deterministic, realistic, fast to make, and the same in PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid

import duckdb
import psycopg
import pymysql
import pytest

from apps.connections.demo_warehouse import (
    DEFAULT_AS_OF,
    TABLES,
    load_into_mysql,
    load_into_postgres,
    main,
    write_demo_warehouse,
)
from apps.connections.sources.registry import open_source


def table_contents(path, table):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo_warehouse(tmp_path_factory.mktemp("demo") / "demo.duckdb", users=500, seed=7)


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_same_seed_same_data_other_seed_other_data(demo, tmp_path):
    again = write_demo_warehouse(tmp_path / "again.duckdb", users=500, seed=7)
    other = write_demo_warehouse(tmp_path / "other.duckdb", users=500, seed=8)
    for table in TABLES:
        assert table_contents(demo, table) == table_contents(again, table)
    assert table_contents(demo, "users") != table_contents(other, "users")


def test_sizes(demo):
    assert query(
        demo,
        "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM users), "
        "(SELECT count(*) FROM events)",
    ) == [(50, 500, 2500)]


def test_users_look_like_a_saas_customer_base(demo):
    as_of = dt.datetime.combine(DEFAULT_AS_OF, dt.time())
    (row,) = query(
        demo,
        """SELECT count(DISTINCT email), count(DISTINCT user_id), min(role), max(role),
                  count(*) FILTER (WHERE last_seen_at < signed_up_at),
                  max(last_seen_at), max(signed_up_at),
                  count(*) FILTER (WHERE trial_ends_at IS NOT NULL AND plan <> 'free'),
                  count(*) FILTER (WHERE trial_ends_at IS NOT NULL),
                  count(*) FILTER (WHERE sessions_7d > sessions_30d OR events_7d > events_30d),
                  count(*) FILTER (WHERE plan = 'free' AND mrr <> 0),
                  count(*) FILTER (WHERE plan <> 'free' AND mrr = 0),
                  count(*) FILTER (WHERE email NOT LIKE '%@%.example'),
                  count(DISTINCT plan),
                  count(*) FILTER (WHERE company_id NOT IN (SELECT company_id FROM companies))
           FROM users""",
    )
    (
        emails,
        ids,
        min_role,
        max_role,
        seen_before_signup,
        last_seen,
        last_signup,
        trial_not_free,
        trials,
        bad_activity,
        free_paying,
        paid_free,
        bad_email,
        plans,
        orphans,
    ) = row
    assert emails == ids == 500
    assert (min_role, max_role) == ("lead", "user")
    assert seen_before_signup == 0
    assert last_seen < as_of and last_signup < as_of
    assert trial_not_free == 0 and trials > 0
    assert bad_activity == free_paying == paid_free == bad_email == orphans == 0
    assert plans == 4


def test_events_are_unique_and_belong_to_users(demo):
    (row,) = query(
        demo,
        """SELECT count(*), count(DISTINCT event_id), count(DISTINCT event_name),
                  count(*) FILTER (WHERE e.created_at < u.signed_up_at OR e.created_at > u.last_seen_at)
           FROM events e JOIN users u USING (user_id)""",
    )
    assert row[0] == row[1] == 2500
    assert row[2] > 3
    assert row[3] == 0


def test_cli_writes_the_file_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "cli.duckdb"
    assert main(["--out", str(out), "--users", "20", "--seed", "3"]) == 0
    assert "20 users" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--users", "20"])
    assert main(["--out", str(out), "--users", "30", "--force"]) == 0


def test_module_entry_point(tmp_path):
    out = tmp_path / "module.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "apps.connections.demo_warehouse", "--out", str(out), "--users", "10"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "10 users" in result.stdout


def test_the_demo_file_is_a_duckdb_source(demo):
    source = open_source("duckdb", {"path": str(demo)})
    preview = source.preview("SELECT email, plan, mrr, trial_ends_at FROM users ORDER BY user_id")
    assert len(preview.rows) == 100
    assert [c.kind for c in preview.columns] == ["string", "string", "decimal", "timestamp"]


def test_same_data_in_postgres(demo):
    name = f"syncline_src_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        load_into_postgres(f"host=127.0.0.1 user=postgres dbname={name}", schema="demo", users=500, seed=7)
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}") as conn:
            conn.execute("SET TimeZone = 'UTC'")
            users = conn.execute(
                "SELECT user_id, email, mrr, signed_up_at FROM demo.users ORDER BY 1"
            ).fetchall()
            events = conn.execute("SELECT count(*) FROM demo.events").fetchone()[0]
        expected = query(demo, "SELECT user_id, email, mrr, signed_up_at FROM users ORDER BY 1")
        assert [(u, e, m, s.replace(tzinfo=None)) for u, e, m, s in users] == expected
        assert events == 2500
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_same_data_in_mariadb(demo):
    name = f"syncline_src_test_{uuid.uuid4().hex[:10]}"
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
        load_into_mysql(database=name, users=500, seed=7)
        with admin.cursor() as cursor:
            cursor.execute(f"SELECT user_id, email, mrr, signed_up_at FROM `{name}`.users ORDER BY 1")  # noqa: S608
            users = [tuple(row) for row in cursor.fetchall()]
        assert users == query(demo, "SELECT user_id, email, mrr, signed_up_at FROM users ORDER BY 1")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
