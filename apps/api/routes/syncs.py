"""/syncs: list, read, create, change and delete syncs, through the syncs' own services: a configuration is
checked against its model and destination exactly as the wizard's Save checks it, and its mappings and
options are read and written only by `SyncConfig.from_json`/`to_json`."""

from collections.abc import Hashable

from django.db import IntegrityError, transaction
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
from apps.api.routes.schedules import present as present_schedule
from apps.common.problems import Invalid
from apps.connections.models import Connection, ConnectionKind
from apps.connections.selectors import connection_get
from apps.models import selectors as model_selectors
from apps.models.models import SqlModel
from apps.syncs import selectors as sync_selectors
from apps.syncs import services
from apps.syncs.engine.config import Option, SyncPart, Target
from apps.syncs.models import Sync, SyncRun
from apps.syncs.runs.services import SyncAlreadyRunning
from apps.tenancy.models import Workspace

router = Router(tags=["Syncs"])

NOT_FOUND = "No sync with this id in the key's workspace."
# The event options' own names (`Option` subjects) sit under options.event in the request.
TOP_LEVEL_OPTIONS = {"company_id_column", "permanent_delete", "event"}


def present(request: HttpRequest, sync: Sync, last_run: SyncRun | None = None) -> dict:
    """`last_run` for a sync read alone; a listed sync carries its last run as annotations."""
    if last_run is not None:
        sync.last_run_id, sync.last_run_status, sync.last_run_at = (
            last_run.pk,
            last_run.status,
            last_run.created_at,
        )
    last = None
    if getattr(sync, "last_run_id", None):
        last = {
            "id": sync.last_run_id,
            "status": sync.last_run_status,
            "created_at": sync.last_run_at,
            "url": absolute(request, "api-v1:sync_run", sync.last_run_id),
        }
    return {
        "id": sync.pk,
        **_stored(sync),
        "paused": sync.paused,
        "schedule": present_schedule(sync),
        "last_run": last,
        "created_at": sync.created_at,
        "updated_at": sync.updated_at,
        "trigger_url": absolute(request, "api-v1:sync_trigger", sync.pk),
        "dashboard_url": absolute(request, "sync_detail", request.auth.workspace.slug, sync.pk),
    }


def _get(workspace: Workspace, sync_id: int) -> Sync:
    return found(lambda: sync_selectors.sync_get(workspace=workspace, sync_id=sync_id), "sync", sync_id)


def _present_one(request: HttpRequest, sync: Sync) -> dict:
    last_run = SyncRun.objects.for_workspace(request.auth.workspace).filter(sync=sync).order_by("-created_at")
    return present(request, sync, last_run.first())


def _model(workspace: Workspace, model_id: int) -> SqlModel:
    try:
        return model_selectors.sql_model_get(workspace=workspace, model_id=model_id)
    except Http404:
        raise problem("model_id", "not_found", f"No model with id {model_id} in this workspace.") from None


def _destination(workspace: Workspace, destination_id: int) -> Connection:
    try:
        return connection_get(
            workspace=workspace, connection_id=destination_id, kind=ConnectionKind.DESTINATION
        )
    except Http404:
        message = f"No Intercom connection with id {destination_id} in this workspace."
        raise problem("destination_id", "not_found", message) from None


def _check_name(workspace: Workspace, name: str, sync: Sync | None = None) -> str:
    """The wizard's rule: names are unique in a workspace, whatever their case."""
    name = name.strip()
    if not name:
        raise problem("name", "required", "Give the sync a name.")
    others = Sync.objects.for_workspace(workspace).filter(name__iexact=name)
    if sync is not None:
        others = others.exclude(pk=sync.pk)
    if others.exists():
        raise problem("name", "name_taken", f"A sync named “{name}” already exists in this workspace.")
    return name


def field_of(mappings: list[dict]):
    """A problem's subject as the request's field: `key_column`, `mappings.2`, `options.event.contact_column`."""

    def field(subject: Hashable) -> str:
        if isinstance(subject, Target):
            for index, mapping in enumerate(mappings):
                if mapping["target"] == subject.target and bool(mapping.get("custom")) == subject.custom:
                    return f"mappings.{index}"
            return "mappings"
        if isinstance(subject, Option):
            return (
                f"options.{subject.name}"
                if subject.name in TOP_LEVEL_OPTIONS
                else f"options.event.{subject.name}"
            )
        if subject == SyncPart.OBJECT:
            return "object"
        return str(subject.value if isinstance(subject, SyncPart) else subject)

    return field


def _save(request: HttpRequest, fields: dict, sync: Sync | None = None) -> Sync:
    workspace = request.auth.workspace
    name = _check_name(workspace, fields["name"], sync)
    model = _model(workspace, fields["model_id"])
    destination = _destination(workspace, fields["destination_id"])
    paused = fields.get("paused")
    try:
        with transaction.atomic():
            saved = services.sync_save(
                workspace=workspace,
                user=None,
                sync=sync,
                name=name,
                model=model,
                destination=destination,
                object_key=fields["object"],
                behavior=fields["behavior"],
                key_column=fields["key_column"].strip(),
                key_identifier=fields["key_identifier"].strip(),
                mappings=fields["mappings"],
                options=fields["options"],
            )
            if paused is not None and paused != saved.paused:
                services.sync_set_paused(workspace=workspace, sync=saved, paused=paused)
    except Invalid as invalid:
        raise unprocessable(invalid, field_of(fields["mappings"])) from None
    except IntegrityError:  # the same name saved at the same moment
        raise problem("name", "name_taken", f"A sync named “{name}” already exists.") from None
    return saved


def _stored(sync: Sync) -> dict:
    """The sync's current fields in the request's terms (its configuration through `SyncConfig`)."""
    mappings, options = sync.config.to_json()
    return {
        "name": sync.name,
        "model_id": sync.model_id,
        "destination_id": sync.destination_id,
        "object": sync.object_key,
        "behavior": sync.behavior,
        "key_column": sync.key_column,
        "key_identifier": sync.key_identifier,
        "mappings": mappings,
        "options": options,
    }


@router.get(
    "/syncs",
    response={200: schemas.SyncList, 401: schemas.Error, 429: schemas.Error},
    url_name="sync_list",
    operation_id="list_syncs",
    summary="List syncs",
    description="Every sync of the key's workspace, by name, with its configuration, schedule and last run.",
    openapi_extra=answers(_200="The syncs.", _401=NO_KEY, _429=TOO_MANY),
)
def list_syncs(request: HttpRequest):
    return {
        "syncs": [present(request, s) for s in sync_selectors.sync_list(workspace=request.auth.workspace)]
    }


WRITE = {400: schemas.Error, 401: schemas.Error, 403: schemas.Error, 422: schemas.Invalid, 429: schemas.Error}


@router.post(
    "/syncs",
    auth=EDITOR_KEY,
    response={201: schemas.Sync, **WRITE},
    url_name="sync_create",
    operation_id="create_sync",
    summary="Create a sync",
    description="Checks the configuration against the model's columns and the destination (standard "
    "fields, custom attributes Intercom is known to have, the sync key, the behavior, the options) as the "
    "wizard does, and saves it. The sync runs only when triggered until a schedule is set.",
    openapi_extra=answers(
        _201="The sync.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def create_sync(request: HttpRequest, body: schemas.SyncIn):
    sync = _save(request, body.model_dump(mode="json"))
    return Status(201, _present_one(request, _get(request.auth.workspace, sync.pk)))


@router.get(
    "/syncs/{sync_id}",
    response={
        200: schemas.Sync,
        401: schemas.Error,
        404: schemas.Error,
        422: schemas.Invalid,
        429: schemas.Error,
    },
    url_name="sync_get",
    operation_id="get_sync",
    summary="Get a sync",
    openapi_extra=answers(_200="The sync.", _401=NO_KEY, _404=NOT_FOUND, _422=INVALID, _429=TOO_MANY),
)
def get_sync(request: HttpRequest, sync_id: int):
    return _present_one(request, _get(request.auth.workspace, sync_id))


@router.patch(
    "/syncs/{sync_id}",
    auth=EDITOR_KEY,
    response={200: schemas.Sync, 404: schemas.Error, **WRITE},
    url_name="sync_update",
    operation_id="update_sync",
    summary="Change a sync",
    description="Changes the fields given; `mappings` and `options`, when given, replace the whole list "
    "or object. The result is checked as a whole, as on create. `paused` pauses or resumes its schedule.",
    openapi_extra=answers(
        _200="The sync as saved.",
        _400="The body is not JSON.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _404=NOT_FOUND,
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def update_sync(request: HttpRequest, sync_id: int, body: schemas.SyncPatch):
    workspace = request.auth.workspace
    sync = _get(workspace, sync_id)
    given = body.model_dump(mode="json", exclude_unset=True)
    sync = _save(request, _stored(sync) | given, sync)
    return _present_one(request, _get(workspace, sync.pk))


@router.delete(
    "/syncs/{sync_id}",
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
    url_name="sync_delete",
    operation_id="delete_sync",
    summary="Delete a sync",
    description="Deletes the sync with its run history and ledger; what it sent to Intercom stays there. "
    "Refused (409) while a run is queued or running, or while other syncs are scheduled after it.",
    openapi_extra=answers(
        _200="Deleted.",
        _401=NO_KEY,
        _403=VIEWER_KEY,
        _404=NOT_FOUND,
        _409="A run is active (`sync_running`) or syncs run after this one (`sync_followed`); nothing was deleted.",
        _422=INVALID,
        _429=TOO_MANY,
    ),
)
def delete_sync(request: HttpRequest, sync_id: int):
    workspace = request.auth.workspace
    sync = _get(workspace, sync_id)
    try:
        services.sync_delete_when_idle(workspace=workspace, sync=sync)
    except SyncAlreadyRunning as running:
        message = (
            f"“{sync.name}” has a run {running.run.get_status_display().lower()} (run {running.run.pk}): "
        )
        raise Conflict("sync_running", message + "cancel it or wait for its end, then delete.") from None
    except services.SyncFollowed as followed:
        message = f"The syncs {followed} run after “{sync.name}”: change their schedules first."
        raise Conflict("sync_followed", message) from None
    return schemas.Deleted(id=sync_id)
