"""/models: list, read, create, change and delete a workspace's SQL models, through the models' own services
(the SQL is introspected on its source, read-only, exactly as the editor's Save does)."""

import re

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest
from ninja import Router, Status

from apps.api import schemas
from apps.api.auth import EDITOR_KEY
from apps.api.common import (
    INVALID,
    NO_KEY,
    TOO_MANY,
    VIEWER_KEY,
    Conflict,
    absolute,
    answers,
    found,
    problem,
    unprocessable,
)
from apps.common.problems import Invalid
from apps.connections.models import Connection, ConnectionKind
from apps.connections.selectors import connection_get
from apps.connections.sources.errors import InvalidSourceConfig, SourceConnectionError, SourceError
from apps.models import selectors, services
from apps.models.models import SqlModel
from apps.tenancy.models import Workspace

router = Router(tags=["Models"])

NOT_FOUND = "No model with this id in the key's workspace."


def present(request: HttpRequest, model: SqlModel) -> dict:
    return {
        "id": model.pk,
        "name": model.name,
        "description": model.description,
        "source_id": model.source_id,
        "sql": model.sql,
        "dbt": _dbt(model),
        "primary_key": model.primary_key,
        "columns": model.columns,
        "unique_columns": model.unique_columns,
        "syncs": [{"id": s.pk, "name": s.name} for s in model.syncs.all()],
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "dashboard_url": absolute(request, "model_edit", request.auth.workspace.slug, model.pk),
    }


def _dbt(model: SqlModel) -> dict | None:
    dbt_model = model.dbt_model
    if dbt_model is None:
        return None
    return {
        "project": dbt_model.project.source.name,
        "project_name": dbt_model.project.project_name,
        "model": dbt_model.name,
        "unique_id": dbt_model.unique_id,
        "relation": dbt_model.relation_name,
        "relation_missing": dbt_model.missing_since is not None,
        "missing_message": model.dbt_missing_message,
    }


def _get(workspace: Workspace, model_id: int) -> SqlModel:
    return found(lambda: selectors.sql_model_get(workspace=workspace, model_id=model_id), "model", model_id)


def _source(workspace: Workspace, source_id: int) -> Connection:
    try:
        return connection_get(workspace=workspace, connection_id=source_id, kind=ConnectionKind.SOURCE)
    except Http404:
        raise problem(
            "source_id", "not_found", f"No source connection with id {source_id} in this workspace."
        ) from None


def _check_name(workspace: Workspace, name: str, model: SqlModel | None = None) -> str:
    """The editor's rule: names are unique in a workspace, whatever their case."""
    name = name.strip()
    if not name:
        raise problem("name", "required", "Give the model a name.")
    others = SqlModel.objects.for_workspace(workspace).filter(name__iexact=name)
    if model is not None:
        others = others.exclude(pk=model.pk)
    if others.exists():
        raise problem("name", "name_taken", f"A model named “{name}” already exists in this workspace.")
    return name


def _code(error: SourceError) -> str:
    """The error's class as a code: query_error, unsafe_query_error, query_timeout, connect_timeout…"""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def _save(
    request: HttpRequest,
    *,
    model: SqlModel | None,
    allow_dropping: bool = False,
    unique_columns: list[str] | None = None,
    **fields,
) -> SqlModel:
    workspace = request.auth.workspace
    fields["name"] = _check_name(workspace, fields["name"], model)
    if not fields["primary_key"].strip():
        raise problem("primary_key", "required", "Name the primary-key column.")
    try:
        with transaction.atomic():
            saved = services.sql_model_save(
                workspace=workspace,
                user=None,
                model=model,
                allow_dropping_used_columns=allow_dropping,
                **fields | {"primary_key": fields["primary_key"].strip()},
            )
            if unique_columns is not None:
                services.sql_model_set_unique_columns(
                    workspace=workspace, model=saved, unique_columns=unique_columns
                )
            return saved
    except Invalid as invalid:
        raise unprocessable(
            invalid, lambda subject: "source_id" if subject == "source" else str(subject)
        ) from None
    except (SourceConnectionError, InvalidSourceConfig) as error:  # the warehouse, not the SQL
        raise problem("source_id", _code(error), str(error)) from None
    except SourceError as error:  # the SQL: refused by Syncline's check, the database, or its time limit
        raise problem("sql", _code(error), str(error)) from None
    except IntegrityError:  # the same name saved at the same moment
        raise problem("name", "name_taken", f"A model named “{fields['name']}” already exists.") from None


@router.get(
    "/models",
    response={200: schemas.ModelList, 401: schemas.Error, 429: schemas.Error},
    url_name="model_list",
    operation_id="list_models",
    summary="List models",
    description="Every model of the key's workspace, by name, with its columns and the syncs that read it.",
    openapi_extra=answers(_200="The models.", _401=NO_KEY, _429=TOO_MANY),
)
def list_models(request: HttpRequest):
    return {
        "models": [present(request, m) for m in selectors.sql_model_list(workspace=request.auth.workspace)]
    }


@router.post(
    "/models",
    auth=EDITOR_KEY,
    response={
        201: schemas.Model,
        400: schemas.Error,
        401: schemas.Error,
        403: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="model_create",
    operation_id="create_model",
    summary="Create a model",
    description="Runs the SQL once on the source, read-only, to learn its columns, checks the primary key "
    "is one of them, and saves the model. A SQL error comes back as a 422 on `sql` with the database's "
    "message.",
    openapi_extra=answers(
        _201="The model, with its columns.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def create_model(request: HttpRequest, body: schemas.ModelIn):
    source = _source(request.auth.workspace, body.source_id)
    fields = body.dict(exclude={"source_id"})
    model = _save(request, model=None, source=source, **fields)
    return Status(201, present(request, model))


@router.get(
    "/models/{model_id}",
    response={
        200: schemas.Model,
        401: schemas.Error,
        404: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="model_get",
    operation_id="get_model",
    summary="Get a model",
    openapi_extra=answers(_200="The model.", _401=NO_KEY, _404=NOT_FOUND, _422=INVALID, _429=TOO_MANY),
)
def get_model(request: HttpRequest, model_id: int):
    return present(request, _get(request.auth.workspace, model_id))


@router.patch(
    "/models/{model_id}",
    auth=EDITOR_KEY,
    response={
        200: schemas.Model,
        400: schemas.Error,
        401: schemas.Error,
        403: schemas.Error,
        404: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="model_update",
    operation_id="update_model",
    summary="Change a model",
    description="Changes the fields given. The SQL is introspected again, as on the editor's Save; a SQL "
    "that drops columns syncs read is refused (422 on `sql`) unless `allow_dropping_used_columns` is true. "
    "The SQL of a model reading a dbt model (`dbt` not null) follows its relation: changing it is refused "
    "(422 on `sql`, code `sql_follows_dbt`).",
    openapi_extra=answers(
        _200="The model as saved.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _404=NOT_FOUND,
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def update_model(request: HttpRequest, model_id: int, body: schemas.ModelPatch):
    workspace = request.auth.workspace
    model = _get(workspace, model_id)
    given = body.dict(exclude_unset=True)
    allow_dropping = given.pop("allow_dropping_used_columns", False)
    source = _source(workspace, given.pop("source_id")) if "source_id" in given else model.source
    fields = {
        "name": model.name,
        "description": model.description,
        "sql": model.sql,
        "primary_key": model.primary_key,
    } | given
    model = _save(request, model=model, allow_dropping=allow_dropping, source=source, **fields)
    return present(request, _get(workspace, model.pk))


@router.delete(
    "/models/{model_id}",
    auth=EDITOR_KEY,
    response={
        200: schemas.Deleted,
        401: schemas.Error,
        403: schemas.Error,
        404: schemas.Error,
        409: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="model_delete",
    operation_id="delete_model",
    summary="Delete a model",
    description="A model that syncs read is not deleted: the answer is 409 naming them; delete those first.",
    openapi_extra=answers(
        _200="Deleted.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _404=NOT_FOUND,
        _409="Syncs read this model (named in `message`); nothing was deleted.",
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def delete_model(request: HttpRequest, model_id: int):
    workspace = request.auth.workspace
    model = _get(workspace, model_id)
    try:
        services.sql_model_delete(workspace=workspace, model=model)
    except ProtectedError as error:
        syncs = ", ".join(sorted(f"“{sync.name}” ({sync.pk})" for sync in error.protected_objects))
        raise Conflict(
            "model_in_use", f"“{model.name}” is read by the syncs {syncs}: delete them first."
        ) from None
    return schemas.Deleted(id=model_id)
