"""Reading a dbt manifest.json (plain Python): its models, their relations as SQL in each warehouse's
dialect, and the clear refusal of a file that is not a manifest Syncline reads."""

import json
import re

import pytest

from apps.models.dbt.manifest import ManifestError, parse_manifest
from apps.models.dbt.relations import RelationError, relation_select
from tests.models.dbt_manifests import CLIENTS, ORDERS, manifest, manifest_bytes, model_node, project_models


def test_a_manifest_yields_its_models_with_descriptions_columns_and_relations():
    parsed = parse_manifest(manifest_bytes(project_models("dev")))
    assert (
        parsed.schema_version == 12 and parsed.dbt_version == "1.9.4" and parsed.project_name == "jaffle_shop"
    )
    assert parsed.generated_at is not None and parsed.generated_at.year == 2026
    # Models only (no seed, no test, nothing disabled), sorted by name; the ephemeral one builds no relation.
    assert [m.name for m in parsed.models] == ["clients", "customers", "orders"]
    assert parsed.ephemeral_count == 1
    customers = parsed.models[1]
    assert customers.unique_id == "model.jaffle_shop.customers"
    assert customers.description.endswith("🚀.")
    assert [(c.name, c.data_type) for c in customers.columns] == [
        ("customer_id", "integer"), ("email", "varchar"), ("full_name", "varchar"), ("plan", "varchar"),
    ]  # fmt: skip
    assert customers.columns[0].description == "The customer's id in the app: unique."
    assert parsed.models[2].relation_name == f'"dev"."analytics"."{ORDERS}"'
    assert parsed.models[0].alias == CLIENTS and parsed.models[0].materialized == "view"


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", 'SELECT * FROM "dév"."analytics"."clients ünïcodé ""q"""'),
        ("postgres", 'SELECT * FROM "dév"."analytics"."clients ünïcodé ""q"""'),
        ("snowflake", 'SELECT * FROM "dév"."analytics"."clients ünïcodé ""q"""'),
    ],
)
def test_a_relation_name_is_read_as_one_quoted_table_in_the_warehouses_dialect(dialect, expected):
    node = parse_manifest(manifest_bytes([model_node("dév", "clients", alias=CLIENTS)])).models[0]
    assert relation_select(node, dialect) == expected


def test_a_reserved_word_stays_quoted():
    node = parse_manifest(manifest_bytes([model_node("dev", "orders", alias=ORDERS)])).models[0]
    assert relation_select(node, "duckdb") == 'SELECT * FROM "dev"."analytics"."order"'


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgres", 'SELECT * FROM "dev"."analytics"."order"'),
        ("bigquery", "SELECT * FROM `dev`.`analytics`.`order`"),
        ("mysql", "SELECT * FROM `analytics`.`order`"),  # MySQL names have two parts
        ("snowflake", 'SELECT * FROM "DEV"."ANALYTICS"."ORDER"'),  # dbt-snowflake's unquoted names fold up
    ],
)
def test_without_a_relation_name_database_schema_and_alias_are_quoted(dialect, expected):
    node = model_node("dev", "orders", alias=ORDERS, with_relation_name=False)
    parsed = parse_manifest(manifest_bytes([node])).models[0]
    assert parsed.relation_name == ""
    assert relation_select(parsed, dialect) == expected


@pytest.mark.parametrize(
    "relation_name",
    ['"dev"."analytics"."x"; DROP TABLE users', "(SELECT 1)", "a.b AS c", "a.b.c.d", "x WHERE 1=1"],
)
def test_a_relation_name_that_is_not_one_table_is_refused(relation_name):
    node = model_node("dev", "customers") | {"relation_name": relation_name}
    parsed = parse_manifest(manifest_bytes([node])).models[0]
    with pytest.raises(RelationError, match="is not one table name"):
        relation_select(parsed, "postgres")


def test_a_versioned_model_is_named_with_its_version_and_odd_fields_are_ignored():
    node = model_node("dev", "dim_customers", alias="dim_customers_v2") | {
        "version": 2,
        "description": None,  # hand-edited: null where text goes
        "columns": {"id": {"name": 12}, "broken": "not a dict"},
    }
    parsed = parse_manifest(manifest_bytes([node])).models[0]
    assert parsed.name == "dim_customers_v2" and parsed.description == ""
    assert [c.name for c in parsed.columns] == ["id"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not text"),
        (b"name,email\nada,ada@example.com\n", "not valid JSON (line 1, column 1"),
        (b'{"nodes": {}', "not valid JSON"),
        (b"[1, 2, 3]", "not a dbt manifest: it has no “metadata”"),
        (b'{"metadata": {}, "nodes": {}}', "no dbt_schema_version"),
        (
            json.dumps(
                {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}}
            ),
            "This is dbt's run_results.json, not its manifest",
        ),
        (
            json.dumps(
                {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}
            ),
            "This is dbt's catalog.json",
        ),
        (json.dumps(manifest([], version=3)), "version 3, written by an older dbt (before 1.0)"),
        (json.dumps(manifest([], version=13)), "version 13, written by a newer dbt than Syncline knows"),
        (json.dumps(manifest([]) | {"nodes": []}), "has no “nodes”"),
    ],
)
def test_a_file_that_is_not_a_manifest_syncline_reads_says_why(content, message):
    with pytest.raises(ManifestError, match=re.escape(message)):
        parse_manifest(content)


def test_every_supported_version_reads():
    for version in range(4, 13):
        assert (
            parse_manifest(manifest_bytes(project_models("dev"), version=version)).schema_version == version
        )
