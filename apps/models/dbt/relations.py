"""A dbt model's relation as a SELECT in the dialect of the warehouse it is read from. Plain Python.

dbt's ``relation_name`` is the name dbt itself used to build the relation, quoted as the project's quoting
settings say (Snowflake's dbt leaves names unquoted, so they fold to upper case like dbt's own DDL): it is
parsed as one table name in the warehouse's dialect (anything else is refused: a manifest is uploaded by
users) and written back by sqlglot. A manifest without it (rare) gives database, schema and alias, each
quoted.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from apps.models.dbt.manifest import DbtNode

# Source types whose relations dbt builds, and the sqlglot dialect of each (Google Sheets has no dbt).
DIALECTS = {
    "postgres": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}


class RelationError(ValueError):
    """A relation name that is not one table name."""


def relation_table(node: DbtNode, dialect: str) -> exp.Table:
    if node.relation_name:
        try:
            table = sqlglot.parse_one(node.relation_name, into=exp.Table, dialect=dialect)
        except SqlglotError:
            table = None
        parts = {key for key, value in table.args.items() if value} if table is not None else set()
        if table is None or not isinstance(table.this, exp.Identifier) or parts - {"this", "db", "catalog"}:
            raise RelationError(
                f"The relation of “{node.name}”, {node.relation_name[:200]}, is not one table name."
            )
        return table
    database, schema, alias = node.database, node.schema, node.alias
    if dialect == "mysql":  # MySQL's databases are dbt's schemas: names have two parts
        database = ""
    if dialect == "snowflake":  # dbt-snowflake does not quote by default: its names are upper case
        database, schema, alias = database.upper(), schema.upper(), alias.upper()
    return exp.table_(alias, db=schema or None, catalog=database or None, quoted=True)


def relation_label(node: DbtNode, dialect: str) -> str:
    """The relation's name as the warehouse reads it, to show."""
    return relation_table(node, dialect).sql(dialect=dialect, copy=False)  # a new tree each call: no copy


def relation_select(node: DbtNode, dialect: str) -> str:
    """The SQL of the Syncline model that reads this dbt model."""
    # The table's text is sqlglot's, from the one table name checked above; the rest is fixed.
    return f"SELECT * FROM {relation_label(node, dialect)}"  # noqa: S608
