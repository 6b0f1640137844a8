"""A small dbt project's manifest.json, written by the tests (never downloaded), and the DuckDB tables its
models build: dirty names (unicode, quotes, a reserved word), one model with documented columns, and the
nodes a real manifest has beside its models (a seed, tests, an ephemeral model, a disabled one, macros).

The layout follows what dbt-duckdb writes for manifest v12 (dbt 1.8+): relation_name quoted as
"<catalog>"."<schema>"."<alias>", where a DuckDB file's catalog is its file name without .duckdb.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

SCHEMA = "analytics"
CUSTOMERS = "customers"
ORDERS = "order"  # a reserved word
CLIENTS = 'clients ünïcodé "q"'  # unicode, a space and double quotes


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation(catalog: str, alias: str, schema: str = SCHEMA) -> str:
    return ".".join(_quote(part) for part in (catalog, schema, alias))


def model_node(
    catalog: str,
    name: str,
    *,
    alias: str | None = None,
    description: str = "",
    columns: dict[str, tuple[str, str]] | None = None,
    materialized: str = "table",
    package: str = "jaffle_shop",
    schema: str = SCHEMA,
    with_relation_name: bool = True,
) -> dict:
    alias = alias or name
    node = {
        "database": catalog,
        "schema": schema,
        "name": name,
        "resource_type": "model",
        "package_name": package,
        "path": f"marts/{name}.sql",
        "original_file_path": f"models/marts/{name}.sql",
        "unique_id": f"model.{package}.{name}",
        "fqn": [package, "marts", name],
        "alias": alias,
        "checksum": {"name": "sha256", "checksum": "0" * 64},
        "config": {"enabled": True, "alias": None, "schema": None, "materialized": materialized, "tags": []},
        "tags": [],
        "description": description,
        "columns": {
            column: {"name": column, "description": text, "data_type": data_type, "meta": {}, "tags": []}
            for column, (data_type, text) in (columns or {}).items()
        },
        "meta": {},
        "group": None,
        "docs": {"show": True, "node_color": None},
        "patch_path": f"{package}://models/marts/schema.yml" if description else None,
        "build_path": None,
        "unrendered_config": {"materialized": materialized},
        "created_at": 1733200000.0,
        "relation_name": relation(catalog, alias, schema) if with_relation_name else None,
        "raw_code": "select 1",
        "language": "sql",
        "refs": [],
        "sources": [],
        "metrics": [],
        "depends_on": {"macros": [], "nodes": []},
        "compiled_path": None,
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
        "access": "protected",
        "constraints": [],
        "version": None,
        "latest_version": None,
        "deprecation_date": None,
    }
    if not with_relation_name:
        del node["relation_name"]
    return node


def project_models(catalog: str) -> list[dict]:
    """The models of the project: customers (documented), the reserved word, the dirty name, an ephemeral
    model (builds no relation) and a view."""
    return [
        model_node(
            catalog,
            CUSTOMERS,
            description="One row per customer, with their plan. Maintained by the data team 🚀.",
            columns={
                "customer_id": ("integer", "The customer's id in the app: unique."),
                "email": ("varchar", "Lower-cased e-mail address."),
                "full_name": ("varchar", "As typed by the customer; may hold <b>HTML</b>-looking text."),
                "plan": ("varchar", ""),
            },
        ),
        model_node(catalog, "orders", alias=ORDERS, description="Orders; the table is named “order”."),
        model_node(catalog, "clients", alias=CLIENTS, materialized="view"),
        model_node(catalog, "stg_payments", materialized="ephemeral"),
    ]


def manifest(
    models: list[dict], *, version: int = 12, project: str = "jaffle_shop", dbt_version: str = "1.9.4"
) -> dict:
    nodes = {node["unique_id"]: node for node in models}
    nodes["seed.jaffle_shop.raw_customers"] = {
        "resource_type": "seed", "name": "raw_customers", "unique_id": "seed.jaffle_shop.raw_customers",
        "database": "x", "schema": "main", "alias": "raw_customers", "relation_name": '"x"."main"."raw_customers"',
    }  # fmt: skip
    nodes["test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1"] = {
        "resource_type": "test", "name": "unique_customers_customer_id", "unique_id": "test.jaffle_shop.u",
        "config": {"materialized": "test"},
    }  # fmt: skip
    return {
        "metadata": {
            "dbt_schema_version": f"https://schemas.getdbt.com/dbt/manifest/v{version}.json",
            "dbt_version": dbt_version,
            "generated_at": "2026-12-01T09:30:00.123456Z",
            "invocation_id": "6f1e5a52-2a3c-4b0f-9f7b-1d2c3e4f5a6b",
            "env": {},
            "project_name": project,
            "project_id": "a1b2c3",
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "duckdb",
        },
        "nodes": nodes,
        "sources": {},
        "macros": {"macro.dbt.run_query": {"name": "run_query", "macro_sql": "{% macro run_query(sql) %}"}},
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": {"model.jaffle_shop.old": [model_node("x", "old") | {"config": {"enabled": False}}]},
        "parent_map": {},
        "child_map": {},
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
    }


def manifest_bytes(models: list[dict], **kwargs) -> bytes:
    return json.dumps(manifest(models, **kwargs), ensure_ascii=False, indent=2).encode()


CUSTOMER_ROWS = [
    (1, "ada@example.com", "Ada Lovelace", "pro"),
    (2, "zoë@example.com", "Zoë «Ünïcode» 李", "free"),
    (3, "html@example.com", "<script>alert(1)</script>", None),
    (4, "formula@example.com", '=HYPERLINK("http://x")', "team"),
]


def build_warehouse(path: Path) -> str:
    """The relations the project's models build, in a DuckDB file; returns its catalog name."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.{CUSTOMERS} "
            "(customer_id INTEGER, email VARCHAR, full_name VARCHAR, plan VARCHAR)"
        )
        conn.executemany(f"INSERT INTO {SCHEMA}.{CUSTOMERS} VALUES (?, ?, ?, ?)", CUSTOMER_ROWS)  # noqa: S608
        conn.execute(f'CREATE OR REPLACE TABLE {SCHEMA}."{ORDERS}" (order_id INTEGER, amount DOUBLE)')
        conn.execute(f'INSERT INTO {SCHEMA}."{ORDERS}" VALUES (10, 99.5), (11, NULL)')  # noqa: S608
        conn.execute(
            f"CREATE OR REPLACE VIEW {SCHEMA}.{_quote(CLIENTS)} AS "  # noqa: S608
            f'SELECT customer_id AS id, full_name AS "nom complet" FROM {SCHEMA}.{CUSTOMERS}'
        )
    return path.stem
