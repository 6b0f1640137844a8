"""The registry: every source type describes its form fields and builds its adapter from clean values."""

from __future__ import annotations

import pytest

from apps.connections.sources.bigquery import BigQuerySource
from apps.connections.sources.duckdb import DuckDbSource
from apps.connections.sources.errors import InvalidSourceConfig
from apps.connections.sources.google_sheets import GoogleSheetsSource
from apps.connections.sources.mysql import MySqlSource
from apps.connections.sources.postgres import PostgresSource, RedshiftSource
from apps.connections.sources.registry import SOURCE_TYPES, clean_config, open_source
from apps.connections.sources.snowflake import SnowflakeSource


def test_every_type_is_registered_with_its_adapter():
    assert {key: t.adapter for key, t in SOURCE_TYPES.items()} == {
        "postgres": PostgresSource,
        "redshift": RedshiftSource,
        "mysql": MySqlSource,
        "duckdb": DuckDbSource,
        "snowflake": SnowflakeSource,
        "bigquery": BigQuerySource,
        "google_sheets": GoogleSheetsSource,
    }
    for key, source_type in SOURCE_TYPES.items():
        assert source_type.adapter.type_key == key
        names = [f.name for f in source_type.fields]
        assert len(names) == len(set(names))
        assert {"preview_timeout_seconds", "extract_timeout_seconds"} <= set(names)


def test_only_passwords_are_secret():
    for key in ("postgres", "redshift", "mysql"):
        assert SOURCE_TYPES[key].secret_field_names == {"password"}
    assert SOURCE_TYPES["duckdb"].secret_field_names == frozenset()


def test_defaults_are_applied():
    cleaned = clean_config("postgres", {"host": "db.example.com", "database": "analytics", "user": "reader"})
    assert cleaned["port"] == 5432
    assert cleaned["sslmode"] == "prefer"
    assert cleaned["preview_timeout_seconds"] == 30.0
    assert cleaned["extract_timeout_seconds"] == 3600.0
    redshift = clean_config("redshift", {"host": "x.redshift.amazonaws.com", "database": "dev", "user": "r"})
    assert (redshift["port"], redshift["sslmode"]) == (5439, "require")
    assert clean_config("mysql", {"host": "h", "database": "d", "user": "u"})["port"] == 3306


def test_timeouts_are_configurable_per_connection():
    source = open_source(
        "postgres",
        {
            "host": "h",
            "database": "d",
            "user": "u",
            "preview_timeout_seconds": "5",
            "extract_timeout_seconds": 60,
        },
    )
    assert (source.timeouts.preview_seconds, source.timeouts.extract_seconds) == (5.0, 60.0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"database": "d", "user": "u"}, "Host is required"),
        ({"host": "h", "database": "d", "user": "u", "port": "abc"}, "Port must be a number"),
        (
            {"host": "h", "database": "d", "user": "u", "preview_timeout_seconds": 0},
            "between 1 second and 24 hours",
        ),
        ({"host": "h", "database": "d", "user": "u", "sslmode": "sometimes"}, "not one of the choices"),
    ],
)
def test_invalid_values_are_refused(values, message):
    with pytest.raises(InvalidSourceConfig, match=message):
        clean_config("postgres", values)


def test_unknown_type():
    with pytest.raises(InvalidSourceConfig, match="Unknown source type"):
        open_source("oracle", {})


def test_repr_never_shows_the_password():
    source = open_source("postgres", {"host": "h", "database": "d", "user": "u", "password": "s3cret-value"})
    assert "s3cret-value" not in repr(source)
    assert "s3cret-value" not in repr(
        open_source("mysql", {"host": "h", "database": "d", "user": "u", "password": "s3cret-value"})
    )
