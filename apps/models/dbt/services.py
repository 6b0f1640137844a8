"""Load a dbt manifest into a warehouse connection's dbt project, and make Syncline models of its models.

A load is one transaction: the manifest is read and every relation checked before anything changes, so a
bad file changes nothing. Models new to the manifest are added; a model whose relation changed (a new
schema or alias) has it updated, and so does the SQL of every Syncline model that reads it; a model no
longer in the manifest is kept and marked missing (`DbtModel.missing_since`), so the Syncline models that
read it say why their syncs stop instead of vanishing; it comes back if a later manifest has it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.common.hosting import shared_hosting
from apps.common.problems import Invalid, Problem
from apps.connections.models import Connection, ConnectionKind
from apps.models.dbt.manifest import DbtColumn, DbtNode, Manifest, ManifestError, parse_manifest
from apps.models.dbt.relations import DIALECTS, RelationError, relation_select
from apps.models.models import DbtModel, DbtProject, SqlModel
from apps.models.services import sql_model_save
from apps.tenancy.models import User, Workspace

# Problem codes (each problem's subject is the form field it concerns: "manifest", "path" or "source").
NOT_A_MANIFEST = "not_a_manifest"
TOO_LARGE = "manifest_too_large"
BAD_RELATION = "bad_relation"
PATH_REFUSED = "path_refused"
NOT_A_WAREHOUSE = "not_a_warehouse"
DBT_MODEL_MISSING = "dbt_model_missing"


@dataclass
class LoadResult:
    project: DbtProject
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    back: list[str] = field(default_factory=list)
    total: int = 0

    @property
    def summary(self) -> str:
        project = self.project
        head = f"Loaded {self.total} model{'s' if self.total != 1 else ''} of the dbt project “{project}”"
        if project.dbt_version:
            head += f" (dbt {project.dbt_version})"
        parts = [
            f"{len(names)} {what}: {_names(names)}"
            for names, what in (
                (self.added, "new"),
                (self.changed, "with a new relation"),
                (self.back, "back in the manifest"),
                (self.missing, "no longer in the manifest (kept, and their syncs stopped)"),
            )
            if names
        ]
        return head + (": " + "; ".join(parts) + "." if parts else ": no model added, moved or dropped.")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def dbt_warehouses(*, workspace: Workspace) -> list[Connection]:
    """The workspace's sources a dbt project can be attached to (warehouses; not Google Sheets)."""
    return list(
        Connection.objects.for_workspace(workspace)
        .filter(kind=ConnectionKind.SOURCE, type__in=list(DIALECTS))
        .order_by("name")
    )


def manifest_size_problem(size: int) -> str | None:
    limit = settings.DBT_MANIFEST_MAX_MB
    if size > limit * 1024 * 1024:
        return (
            f"This file is {size / 1024 / 1024:,.1f} MB; this installation accepts manifests up to {limit:,} "
            "MB (DBT_MANIFEST_MAX_MB)."
        )
    return None


def dbt_manifest_upload(
    *, workspace: Workspace, user: User | None, source: Connection, content: bytes
) -> LoadResult:
    """Load an uploaded manifest.json's text; raises Invalid about the "manifest" field."""
    if problem := manifest_size_problem(len(content)):
        raise Invalid([Problem("manifest", TOO_LARGE, problem)])
    return _load(workspace, user, source, _parse(content, "manifest"), manifest_path="", subject="manifest")


def manifest_path_resolve(path: str) -> Path:
    """A manifest path the hosting mode allows: team hosting only, inside DBT_PROJECTS_DIR (a relative path
    is below it). The same refusal whether or not a file exists there."""
    if shared_hosting():
        raise Invalid(
            [Problem("path", PATH_REFUSED, "This installation is shared: upload the manifest.json instead.")]
        )
    folder = Path(settings.DBT_PROJECTS_DIR).resolve()
    resolved = (folder / path.strip()).resolve()
    if not path.strip() or not resolved.is_relative_to(folder) or resolved == folder:
        raise Invalid(
            [
                Problem(
                    "path",
                    PATH_REFUSED,
                    f"Syncline reads dbt manifests only from inside {folder} (DBT_PROJECTS_DIR); give the "
                    "path of a manifest.json there, like jaffle_shop/target/manifest.json.",
                )
            ]
        )
    return resolved


def dbt_manifest_read_path(
    *, workspace: Workspace, user: User | None, source: Connection, path: str
) -> LoadResult:
    """Load the manifest at a path on this server (team hosting); raises Invalid about the "path" field."""
    resolved = manifest_path_resolve(path)
    try:
        size = resolved.stat().st_size
        if problem := manifest_size_problem(size):
            raise Invalid([Problem("path", TOO_LARGE, problem)])
        content = resolved.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        message = f"There is no file at {resolved}."
        raise Invalid([Problem("path", NOT_A_MANIFEST, message)]) from None
    except PermissionError:
        message = f"Syncline may not read {resolved}: give its user read access to the file."
        raise Invalid([Problem("path", NOT_A_MANIFEST, message)]) from None
    return _load(workspace, user, source, _parse(content, "path"), manifest_path=path.strip(), subject="path")


def dbt_manifest_reload(*, workspace: Workspace, user: User | None, project: DbtProject) -> LoadResult:
    """Read a project's manifest path again (after `dbt run` wrote a new one)."""
    if not project.manifest_path:
        raise Invalid(
            [Problem("path", PATH_REFUSED, "This project's manifest was uploaded: upload it again.")]
        )
    return dbt_manifest_read_path(
        workspace=workspace, user=user, source=project.source, path=project.manifest_path
    )


def _parse(content: bytes, subject: str) -> Manifest:
    try:
        return parse_manifest(content)
    except ManifestError as error:
        raise Invalid([Problem(subject, NOT_A_MANIFEST, str(error))]) from None


def node_of(row: DbtModel) -> DbtNode:
    return DbtNode(
        unique_id=row.unique_id,
        name=row.name,
        package_name=row.package_name,
        description=row.description,
        database=row.database,
        schema=row.schema,
        alias=row.alias,
        relation_name=row.relation_name,
        materialized=row.materialized,
        columns=tuple(DbtColumn(**column) for column in row.columns),
    )


# What a DbtModel row keeps of a manifest's node (besides its columns); the relation is its last four.
_RELATION_FIELDS = ("database", "schema", "alias", "relation_name")
_NODE_FIELDS = ("name", "package_name", "description", "materialized", *_RELATION_FIELDS)
_UPDATED_FIELDS = (*_NODE_FIELDS, "columns", "missing_since", "updated_at")


def _fields(node: DbtNode) -> dict:
    columns = [{"name": c.name, "description": c.description, "data_type": c.data_type} for c in node.columns]
    return {name: getattr(node, name) for name in _NODE_FIELDS} | {"columns": columns}


@transaction.atomic
def _load(
    workspace: Workspace,
    user: User | None,
    source: Connection,
    manifest: Manifest,
    *,
    manifest_path: str,
    subject: str,
) -> LoadResult:
    dialect = DIALECTS.get(source.type) if source.kind == ConnectionKind.SOURCE else None
    if dialect is None or source.workspace_id != workspace.pk:
        raise Invalid([Problem("source", NOT_A_WAREHOUSE, f"dbt does not build models in “{source}”.")])
    selects = {}
    for node in manifest.models:  # every relation checked before anything changes
        try:
            selects[node.unique_id] = relation_select(node, dialect)
        except RelationError as error:
            raise Invalid([Problem(subject, BAD_RELATION, str(error))]) from None
    now = timezone.now()
    project = DbtProject.objects.for_workspace(workspace).select_for_update().filter(
        source=source
    ).first() or DbtProject(workspace=workspace, source=source)
    project.project_name = manifest.project_name
    project.dbt_version = manifest.dbt_version
    project.schema_version = manifest.schema_version
    project.generated_at = manifest.generated_at
    project.loaded_at = now
    project.manifest_path = manifest_path
    project.loaded_by = user
    project.save()
    result = LoadResult(project=project, total=len(manifest.models))
    # In bulk: a large project has thousands of models, and a load runs in the request.
    rows = {row.unique_id: row for row in DbtModel.objects.for_workspace(workspace).filter(project=project)}
    added, updated = [], []
    for node in manifest.models:
        fields = _fields(node)
        row = rows.pop(node.unique_id, None)
        if row is None:
            added.append(DbtModel(workspace=workspace, project=project, unique_id=node.unique_id, **fields))
            result.added.append(node.name)
            continue
        if any(getattr(row, name) != fields[name] for name in _RELATION_FIELDS):
            result.changed.append(node.name)
        if row.missing_since is not None:
            result.back.append(node.name)
        elif all(getattr(row, name) == value for name, value in fields.items()):
            continue  # unchanged
        for name, value in fields.items():
            setattr(row, name, value)
        row.missing_since, row.updated_at = None, now
        updated.append(row)
    DbtModel.objects.bulk_create(added, batch_size=500)
    DbtModel.objects.for_workspace(workspace).bulk_update(updated, _UPDATED_FIELDS, batch_size=500)
    gone = [row for row in rows.values() if row.missing_since is None]
    DbtModel.objects.for_workspace(workspace).filter(pk__in=[row.pk for row in gone]).update(
        missing_since=now, updated_at=now
    )
    result.missing = [row.name for row in gone]
    # The Syncline models that read a dbt model follow its relation (their columns are checked at the next run).
    readers = []
    for model in (
        SqlModel.objects.for_workspace(workspace)
        .filter(dbt_model__project=project)
        .select_related("dbt_model")
    ):
        sql = selects.get(model.dbt_model.unique_id) if model.dbt_model else None
        if sql is not None and model.sql != sql:
            model.sql, model.updated_at = sql, now
            readers.append(model)
    SqlModel.objects.for_workspace(workspace).bulk_update(readers, ["sql", "updated_at"], batch_size=500)
    return result


def dbt_model_select(dbt_model: DbtModel) -> str:
    return relation_select(node_of(dbt_model), DIALECTS[dbt_model.project.source.type])


def dbt_model_use(
    *,
    workspace: Workspace,
    user: User | None,
    dbt_model: DbtModel,
    name: str,
    primary_key: str,
    description: str = "",
    model: SqlModel | None = None,
    allow_dropping_used_columns: bool = False,
) -> SqlModel:
    """A Syncline model reading a dbt model's relation (a new one, or `model` made to read it); its columns
    are read from the warehouse (raises SourceError), the key checked against them (raises Invalid)."""
    if dbt_model.missing_since is not None:
        message = f"“{dbt_model.name}” is no longer in the dbt project's manifest."
        raise Invalid([Problem(None, DBT_MODEL_MISSING, message)])
    sql = dbt_model_select(dbt_model)
    if model is None:
        model = SqlModel(workspace=workspace, created_by=user)
    model.dbt_model = dbt_model  # re-linked: the SQL is the new relation's, on its project's warehouse
    return sql_model_save(
        workspace=workspace,
        user=user,  # type: ignore[arg-type]
        name=name,
        description=description,
        source=dbt_model.project.source,
        sql=sql,
        primary_key=primary_key,
        model=model,
        allow_dropping_used_columns=allow_dropping_used_columns,
        from_dbt=True,
    )
