"""Read a dbt ``manifest.json``: the project's models, each with the relation it builds, its description and
its documented columns. Plain Python, no Django.

Only a few fields of the manifest are read, directly from the JSON, rather than through a library that
models the whole artifact (dbt-artifacts-parser validates every section against one pydantic class per
schema version): a manifest of a large project is tens of megabytes of macros, tests and docs that Syncline
never looks at, and a strict model of all of them refuses a manifest whose unrelated parts changed in a
dbt release. The schema version is checked, and the fields read are checked one by one, so a file that is
not a manifest says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# dbt 1.0 wrote manifest v4, dbt 1.8 and later write v12 (dbt's "Manifest JSON file" reference). Older
# manifests predate dbt 1.0; newer ones are refused until Syncline has been checked against them.
SUPPORTED_SCHEMA_VERSIONS = range(4, 13)
_SCHEMA_URL = re.compile(r"/dbt/(?P<artifact>[a-z_-]+)/v(?P<version>\d+)\.json$")
# What a dbt artifact that is not a manifest is called, to name it when one is uploaded by mistake.
_OTHER_ARTIFACTS = {"catalog": "catalog.json", "run-results": "run_results.json", "sources": "sources.json"}
MAX_TEXT = 10_000  # a description longer than this is cut: it is shown, never parsed


class ManifestError(ValueError):
    """Why a file is not a manifest Syncline can read, in words for the place it was uploaded."""


@dataclass(frozen=True)
class DbtColumn:
    name: str
    description: str = ""
    data_type: str = ""


@dataclass(frozen=True)
class DbtNode:
    """One dbt model that builds a relation (ephemeral models build none and are left out)."""

    unique_id: str
    name: str
    package_name: str = ""
    description: str = ""
    database: str = ""
    schema: str = ""
    alias: str = ""
    relation_name: str = ""
    materialized: str = ""
    columns: tuple[DbtColumn, ...] = ()


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    dbt_version: str
    project_name: str
    generated_at: datetime | None
    models: tuple[DbtNode, ...] = field(default_factory=tuple)
    ephemeral_count: int = 0


def parse_manifest(data: bytes | str) -> Manifest:
    """The models of a manifest.json's text; raises ManifestError with the reason it cannot be read."""
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise ManifestError("This file is not text (JSON): upload dbt's target/manifest.json.") from None
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"This file is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}). "
            "Upload dbt's target/manifest.json as dbt wrote it."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise ManifestError(
            "This JSON is not a dbt manifest: it has no “metadata”. Upload target/manifest.json, which "
            "dbt writes on every run, compile or parse."
        )
    metadata = document["metadata"]
    version = _schema_version(metadata.get("dbt_schema_version"))
    nodes = document.get("nodes")
    if not isinstance(nodes, dict):
        raise ManifestError(
            "This manifest has no “nodes”: it is incomplete or was changed after dbt wrote it."
        )
    models, ephemeral = [], 0
    for key, node in nodes.items():
        if not isinstance(node, dict) or node.get("resource_type") != "model":
            continue
        parsed = _node(str(key), node)
        if parsed is None:
            ephemeral += 1
        else:
            models.append(parsed)
    models.sort(key=lambda n: (n.name.lower(), n.unique_id))
    return Manifest(
        schema_version=version,
        dbt_version=_text(metadata.get("dbt_version"), 50),
        project_name=_text(metadata.get("project_name"), 200) or _main_package(models),
        generated_at=_timestamp(metadata.get("generated_at")),
        models=tuple(models),
        ephemeral_count=ephemeral,
    )


def _schema_version(url: Any) -> int:
    match = _SCHEMA_URL.search(url) if isinstance(url, str) else None
    if match is None:
        raise ManifestError(
            "This JSON is not a dbt manifest: its metadata has no dbt_schema_version. Upload "
            "target/manifest.json, which dbt writes on every run, compile or parse."
        )
    artifact, version = match["artifact"], int(match["version"])
    if artifact != "manifest":
        name = _OTHER_ARTIFACTS.get(artifact, f"{artifact} file")
        raise ManifestError(f"This is dbt's {name}, not its manifest: upload target/manifest.json instead.")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        first, last = SUPPORTED_SCHEMA_VERSIONS[0], SUPPORTED_SCHEMA_VERSIONS[-1]
        when = "an older dbt (before 1.0)" if version < first else "a newer dbt than Syncline knows"
        raise ManifestError(
            f"This manifest is version {version}, written by {when}. Syncline reads manifest versions "
            f"{first} to {last} (dbt 1.0 and later)."
        )
    return version


def _node(unique_id: str, node: dict[str, Any]) -> DbtNode | None:
    materialized = _text(_mapping(node.get("config")).get("materialized"), 50)
    if materialized == "ephemeral":
        return None
    name = _text(node.get("name"), 255)
    if not name:
        raise ManifestError(f"The model “{unique_id[:200]}” in this manifest has no name.")
    version = node.get("version")
    columns = _mapping(node.get("columns"))
    return DbtNode(
        unique_id=unique_id[:400],
        name=f"{name}_v{version}" if isinstance(version, int | str) and str(version) else name,
        package_name=_text(node.get("package_name"), 200),
        description=_text(node.get("description"), MAX_TEXT),
        database=_text(node.get("database"), 255),
        schema=_text(node.get("schema"), 255),
        alias=_text(node.get("alias"), 255) or name,
        relation_name=_text(node.get("relation_name"), 1000),
        materialized=materialized,
        columns=tuple(
            DbtColumn(
                name=_text(column.get("name"), 255) or _text(key, 255),
                description=_text(column.get("description"), MAX_TEXT),
                data_type=_text(column.get("data_type"), 100),
            )
            for key, column in columns.items()
            if isinstance(column, dict)
        ),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str:
    """A string field as text: null and other types are empty (a manifest hand-edited or from another tool
    must not put a number or a list where a name goes)."""
    return value.strip()[:limit] if isinstance(value, str) else ""


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _main_package(models: list[DbtNode]) -> str:
    packages = [model.package_name for model in models if model.package_name]
    return max(set(packages), key=packages.count) if packages else ""
