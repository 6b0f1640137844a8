"""Each way a connection fails gets its own message, in the user's terms, and the right class (so the
sync engine can tell what is worth retrying)."""

from __future__ import annotations

import socket

import pytest

from apps.connections.sources.errors import (
    AuthenticationFailed,
    ConnectionRefused,
    ConnectTimeout,
    DatabaseNotFound,
    HostNotAllowed,
    SourceConnectionError,
    SslRequired,
    UnknownHost,
)
from apps.connections.sources.mysql import MySqlSource
from apps.connections.sources.network_guard import is_public_address, resolve_host
from apps.connections.sources.postgres import PostgresSource
from apps.connections.sources.registry import open_source

from .conftest import free_port, mysql_config, mysql_query, pg_config, scratch_name

UNKNOWN_HOST = "no-such-warehouse.invalid"  # .invalid never resolves (RFC 2606)


@pytest.fixture(params=["postgres", "mysql"])
def server_source(request, pg_database, mysql_database):
    """Build a PostgreSQL or MySQL source for the scratch database with some settings overridden."""
    if request.param == "postgres":
        return lambda **overrides: PostgresSource(
            pg_config(overrides.pop("database", pg_database), **overrides)
        )
    return lambda **overrides: MySqlSource(
        mysql_config(overrides.pop("database", mysql_database), **overrides)
    )


def test_unknown_host(server_source):
    with pytest.raises(UnknownHost) as failed:
        server_source(host=UNKNOWN_HOST).test()
    assert (
        str(failed.value)
        == f'The host name "{UNKNOWN_HOST}" could not be found. Check the spelling of the host.'
    )
    assert not failed.value.transient


def test_connection_refused(server_source):
    port = free_port()  # nothing listens there any more
    with pytest.raises(ConnectionRefused) as failed:
        server_source(port=port).test()
    assert f"127.0.0.1:{port} refused the connection" in str(failed.value)
    assert failed.value.transient


def test_database_does_not_exist(server_source):
    missing = scratch_name()
    with pytest.raises(DatabaseNotFound) as failed:
        server_source(database=missing).test()
    assert str(failed.value) == f'The database "{missing}" does not exist on this server. Check its name.'


def test_server_that_never_answers_times_out(server_source, silent_server):
    port = silent_server.getsockname()[1]
    with pytest.raises(ConnectTimeout) as failed:
        server_source(port=port, connect_timeout_seconds=2).test()
    assert f"127.0.0.1:{port} did not answer within 2 seconds" in str(failed.value)
    assert failed.value.transient


def test_ssl_required_by_the_client_but_the_server_has_none(pg_database, mysql_database):
    with pytest.raises(SslRequired, match='does not accept SSL connections, but .* SSL mode is "require"'):
        PostgresSource(pg_config(pg_database, sslmode="require")).test()
    with pytest.raises(SslRequired, match='does not accept SSL connections, but .* SSL mode is "required"'):
        MySqlSource(mysql_config(mysql_database, ssl_mode="required")).test()


# --- passwords and server-side SSL: a private PostgreSQL cluster that checks both ---------------------------


def secure_source(secure_postgres, **overrides) -> PostgresSource:
    values = {
        "user": secure_postgres.user,
        "password": secure_postgres.password,
        "port": secure_postgres.port,
        "sslmode": "require",
    }
    values.update(overrides)
    return PostgresSource(pg_config("postgres", **values))


def test_postgres_right_password_over_ssl_connects(secure_postgres):
    assert secure_source(secure_postgres).test().server_version.startswith("PostgreSQL")


def test_postgres_wrong_password(secure_postgres):
    with pytest.raises(AuthenticationFailed) as failed:
        secure_source(secure_postgres, password="not-the-password").test()
    assert (
        str(failed.value)
        == f'The server refused the user "{secure_postgres.user}": wrong user name or password.'
    )
    assert "not-the-password" not in repr(failed.value.__dict__)
    assert not failed.value.transient


def test_postgres_server_requires_ssl(secure_postgres):
    with pytest.raises(SslRequired, match="only accepts SSL connections"):
        secure_source(secure_postgres, sslmode="disable").test()


@pytest.fixture
def mysql_user_with_password(mysql_database):
    user, password = scratch_name()[:32], "right-password"
    mysql_query(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    mysql_query(f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'%'")
    try:
        yield user, password
    finally:
        mysql_query(f"DROP USER '{user}'@'%'")


def test_mysql_wrong_password(mysql_database, mysql_user_with_password):
    user, password = mysql_user_with_password
    assert MySqlSource(mysql_config(mysql_database, user=user, password=password)).test().warnings == []
    with pytest.raises(AuthenticationFailed, match=f'refused the user "{user}": wrong user name or password'):
        MySqlSource(mysql_config(mysql_database, user=user, password="wrong-password")).test()


def test_mysql_test_warns_about_a_user_that_can_write(mysql_database):
    warnings = MySqlSource(mysql_config(mysql_database)).test().warnings
    assert [w.code for w in warnings] == ["can_write", "file", "admin"]  # root: ALL PRIVILEGES ON *.*
    assert "can change data (ALL PRIVILEGES on *.*)" in warnings[0].message


def test_duckdb_missing_file(tmp_path):
    with pytest.raises(SourceConnectionError, match="There is no DuckDB database file"):
        open_source("duckdb", {"path": str(tmp_path / "missing.duckdb")}).test()


# --- the multi-tenant network guard -------------------------------------------------------------------


@pytest.mark.parametrize("type_key", ["postgres", "mysql"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "192.168.0.10"])
def test_guard_refuses_internal_hosts_before_connecting(type_key, host, silent_server):
    port = silent_server.getsockname()[1]
    source = open_source(
        type_key,
        {"host": host, "port": port, "database": "db", "user": "u", "connect_timeout_seconds": 2},
        block_private_hosts=True,
    )
    with pytest.raises(HostNotAllowed, match="non-public address"):
        source.test()
    silent_server.settimeout(0.2)
    with pytest.raises(socket.timeout):
        silent_server.accept()  # nobody knocked


def test_guard_is_off_by_default(pg_database):
    assert open_source("postgres", {"host": "localhost", "database": pg_database, "user": "postgres"}).test()


def test_postgres_connects_to_the_address_that_was_checked(pg_database):
    source = PostgresSource(pg_config(pg_database, host="localhost"))
    arguments = source._connect_kwargs()
    assert arguments["host"] == "localhost"  # kept for TLS verification
    assert arguments["hostaddr"] in ("127.0.0.1", "::1")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("::1", False),
        ("10.0.0.5", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.100.100.200", False),  # metadata in the shared 100.64/10 range
        ("fd00:ec2::254", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_public_address_classification(address, public):
    assert is_public_address(address) is public


def test_resolve_host_without_guard_returns_the_address():
    assert resolve_host("127.0.0.1", 5432, block_private=False) == "127.0.0.1"


def test_guard_refuses_duckdb_files(duckdb_path):
    from apps.connections.sources.errors import InvalidSourceConfig

    with pytest.raises(InvalidSourceConfig, match="DuckDB files on the server are not available"):
        open_source("duckdb", {"path": duckdb_path}, block_private_hosts=True)
    assert open_source("duckdb", {"path": duckdb_path}).test()
