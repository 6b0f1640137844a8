"""Saved SQL models: preview a query safely, and save it with its introspected columns."""

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction

from apps.common.problems import Invalid, Problem
from apps.connections.models import Connection
from apps.connections.services import source_adapter
from apps.connections.sources.base import Column, Preview
from apps.connections.sources.catalog import Catalog, KeyCheck
from apps.connections.sources.errors import SourceError
from apps.models.models import SqlModel
from apps.tenancy.audit import audit_record, diff
from apps.tenancy.models import AuditAction, User, Workspace

# Problem codes of `sql_model_save` (each problem's subject is the form field it concerns).
KEY_NOT_A_COLUMN = "primary_key_not_a_column"
DROPS_USED_COLUMNS = "drops_used_columns"  # the new SQL drops columns that syncs read; the user must confirm
SQL_FOLLOWS_DBT = (
    "sql_follows_dbt"  # a model reading a dbt model: its SQL is the relation's, kept by the manifest
)


@dataclass
class ModelPreview:
    preview: Preview
    primary_key: str = ""
    key_warnings: list[str] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.preview.columns]


def _key_warnings(preview: Preview, primary_key: str) -> list[str]:
    names = [c.name for c in preview.columns]
    if not primary_key:
        return []
    if primary_key not in names:
        return [f"The primary-key column “{primary_key}” is not in the result; choose one of its columns."]
    index = names.index(primary_key)
    keys = [row[index] for row in preview.rows]
    warnings = []
    nulls = sum(1 for key in keys if key is None)
    if nulls:
        warnings.append(
            f"{nulls} of the {len(keys)} sample rows have no {primary_key} (NULL); they would be skipped."
        )
    duplicates = {key: n for key, n in Counter(k for k in keys if k is not None).items() if n > 1}
    if duplicates:
        sample = ", ".join(str(k) for k in list(duplicates)[:3])
        warnings.append(
            f"{len(duplicates)} {primary_key} values appear more than once in the sample (e.g. {sample}); "
            "a primary key must be unique."
        )
    return warnings


def sql_model_preview(
    *, workspace: Workspace, source: Connection, sql: str, primary_key: str = ""
) -> ModelPreview:
    """The first rows (at most 100) and the columns; raises SourceError with the database's message."""
    preview = source_adapter(source).preview(sql)
    return ModelPreview(
        preview=preview, primary_key=primary_key, key_warnings=_key_warnings(preview, primary_key)
    )


def source_catalog(*, workspace: Workspace, source: Connection, search: str = "") -> Catalog:
    """The schema browser's tables and columns of a source of the workspace (raises SourceError)."""
    assert source.workspace_id == workspace.pk  # the view found it through the workspace
    return source_adapter(source).catalog(search)


def sql_model_key_check(*, workspace: Workspace, model: SqlModel) -> str:
    """After a save: what one query over the whole result says about the model's key, as a warning to
    show ("" when every row has a key of its own). A check that cannot run says so, with the source's
    reason; the model stays saved either way."""
    assert model.workspace_id == workspace.pk
    try:
        check = source_adapter(model.source).key_check(model.sql, model.primary_key)
    except SourceError as error:
        return (
            f"The model is saved, but its key check could not run: {error} Syncs skip rows whose "
            f"{model.primary_key} is empty or repeated."
        )
    return key_check_warning(check)


KEY_SHOWN_LENGTH = 60


def _key_shown(value: Any) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else str(value)
    if len(text) > KEY_SHOWN_LENGTH:
        text = text[: KEY_SHOWN_LENGTH - 1] + "…"
    return f"'{text}'" if isinstance(value, str) else text


def _counted(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def key_check_warning(check: KeyCheck) -> str:
    """'3 keys appear more than once: 'a@x.com' (2 rows), …; 12 rows have no key (NULL).' (the keys as
    text: the page escapes them)."""
    if check.clean:
        return ""
    found = []
    if check.duplicate_keys:
        sample = ", ".join(f"{_key_shown(key)} ({n:,} rows)" for key, n in check.duplicates)
        others = check.duplicate_keys - len(check.duplicates)
        more = f" and {_counted(others, 'other', 'others')}" if others else ""
        appear = "appears" if check.duplicate_keys == 1 else "appear"
        found.append(
            f"{_counted(check.duplicate_keys, 'key', 'keys')} {appear} more than once: {sample}{more}"
        )
    if check.null_rows:
        have = "has" if check.null_rows == 1 else "have"
        found.append(f"{_counted(check.null_rows, 'row', 'rows')} {have} no key (NULL)")
    return (
        f"Key check of “{check.key_column}”: {'; '.join(found)}. Syncs skip these rows as invalid records: "
        "make the key unique and never empty, or choose another key column."
    )


def _columns_payload(columns: list[Column]) -> list[dict[str, Any]]:
    return [asdict(c) for c in columns]


@transaction.atomic
def sql_model_save(
    *,
    workspace: Workspace,
    user: User,
    name: str,
    description: str,
    source: Connection,
    sql: str,
    primary_key: str,
    model: SqlModel | None = None,
    allow_dropping_used_columns: bool = False,
    from_dbt: bool = False,
) -> SqlModel:
    """Introspect the SQL's columns (raises SourceError), check the key and the columns syncs use (raises
    Invalid), and save. A model reading a dbt model keeps the SQL its relation gives (raises Invalid),
    unless `from_dbt` (apps.models.dbt giving it that relation's SQL)."""
    if model is not None and model.pk and model.dbt_model_id is not None and not from_dbt:
        _refuse_changing_dbt_sql(model, sql, source)
    columns = source_adapter(source).describe(sql)
    names = [c.name for c in columns]
    if primary_key not in names:
        message = f"“{primary_key}” is not a column of this query. Its columns: {', '.join(names)}."
        raise Invalid([Problem("primary_key", KEY_NOT_A_COLUMN, message)])
    if model is not None and model.pk and not allow_dropping_used_columns:
        _refuse_dropping_used_columns(model, names)
    before = model_audited(model) if model is not None and model.pk else None
    model = model or SqlModel(workspace=workspace, created_by=user)
    model.name = name.strip()
    model.description = description
    model.source = source
    model.sql = sql.strip()
    model.primary_key = primary_key
    model.columns = _columns_payload(columns)
    model.save()
    model_audit(model, before)
    return model


def _refuse_changing_dbt_sql(model: SqlModel, sql: str, source: Connection) -> None:
    """A model reading a dbt model keeps the relation's SQL, on the warehouse of the dbt project."""
    reads = f"“{model.name}” reads the dbt model “{model.dbt_model}”"
    problems = []
    if sql.strip() != model.sql:
        message = (
            f"{reads}: its SQL follows that model's relation and changes when a new manifest is loaded. "
            "Change the dbt model (and load its manifest), or make a new model with your own SQL."
        )
        problems.append(Problem("sql", SQL_FOLLOWS_DBT, message))
    if source.pk != model.source_id:
        message = f"{reads}: it reads the warehouse that dbt builds it in, “{model.source}”."
        problems.append(Problem("source", SQL_FOLLOWS_DBT, message))
    if problems:
        raise Invalid(problems)


def model_audited(model: SqlModel) -> dict[str, Any]:
    """A model as the audit trail compares it (its columns by name)."""
    return {
        "name": model.name,
        "description": model.description,
        "source": model.source.name if model.source_id else None,
        "sql": model.sql,
        "primary_key": model.primary_key,
        "columns": [c.get("name") for c in model.columns or []],
        "unique_columns": list(model.unique_columns or []),
    }


def model_audit(model: SqlModel, before: dict[str, Any] | None) -> None:
    changes = diff(before or {}, model_audited(model))
    if before is None:
        changes = {k: v for k, v in changes.items() if v[1] not in (None, "", [])}
    audit_record(
        workspace=model.workspace,
        kind="model",
        object_id=model.pk,
        name=model.name,
        action=AuditAction.CREATED if before is None else AuditAction.CHANGED,
        changes=changes,
    )


def _columns_read(model: SqlModel) -> dict[str, list[str]]:
    """Column → names of the syncs that read it. Through the reverse relation the syncs app declares (it
    depends on models, not the other way round: no import of it here)."""
    used: dict[str, list[str]] = {}
    for sync in model.syncs.all():
        for column in sync.mapped_columns():
            used.setdefault(column, []).append(sync.name)
    return used


def _refuse_dropping_used_columns(model: SqlModel, names: list[str]) -> None:
    dropped = {column: syncs for column, syncs in _columns_read(model).items() if column not in names}
    if dropped:
        detail = "; ".join(f"“{c}” (used by {', '.join(sorted(set(s)))})" for c, s in sorted(dropped.items()))
        message = (
            f"This SQL no longer returns {detail}. Those syncs would fail until they are changed. "
            "Tick “Save even though syncs use these columns” to save anyway."
        )
        raise Invalid([Problem("sql", DROPS_USED_COLUMNS, message)])


def sql_model_delete(*, workspace: Workspace, model: SqlModel) -> None:
    deleted, _ = SqlModel.objects.for_workspace(workspace).filter(pk=model.pk).delete()
    if deleted:
        audit_record(
            workspace=workspace, kind="model", object_id=model.pk, name=model.name, action=AuditAction.DELETED
        )


class ModelNotRunnable(SourceError):
    """A model that cannot be read at all (its dbt model left the project): runs fail before touching the
    warehouse, with the model's own message."""


def sql_model_check_runnable(model: SqlModel) -> None:
    """Raise ModelNotRunnable when the model is known not to work (see `SqlModel.dbt_missing_message`)."""
    if message := model.dbt_missing_message:
        raise ModelNotRunnable(message)


# Problem code of `sql_model_set_unique_columns`.
UNIQUE_NOT_A_COLUMN = "unique_column_not_a_column"


def sql_model_set_unique_columns(
    *, workspace: Workspace, model: SqlModel, unique_columns: list[str]
) -> SqlModel:
    """Declare the other columns whose values are unique (a sync may be keyed on them); each must be a
    column of the model's result. Raises Invalid."""
    unknown = [column for column in unique_columns if column not in model.column_names]
    if unknown:
        message = (
            f"“{unknown[0]}” is not a column of this model. Its columns: {', '.join(model.column_names)}."
        )
        raise Invalid([Problem("unique_columns", UNIQUE_NOT_A_COLUMN, message)])
    before = model_audited(model)
    model.unique_columns = list(unique_columns)
    model.save(update_fields=["unique_columns", "updated_at"])
    model_audit(model, before)
    return model
