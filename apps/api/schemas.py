"""What the REST API accepts and answers; django-ninja turns these into the OpenAPI description."""

from datetime import datetime, time
from enum import Enum
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr, create_model

from apps.connections.intercom.catalog import OBJECTS, Behavior, FieldType
from apps.connections.intercom.coercion import EpochUnit
from apps.syncs.engine.config import EventContactKey, FirstRunMode, NullPolicy
from apps.syncs.engine.outcomes import COUNT_KEYS
from apps.syncs.models import RunStatus, RunTrigger
from apps.syncs.schedules.compute import ScheduleKind

SyncObject = Enum("SyncObject", {key: key for key in OBJECTS}, type=str)
SyncBehavior = Enum("SyncBehavior", {b.value: b.value for b in Behavior}, type=str)
Status = Enum("RunStatus", {s.value: s.value for s in RunStatus}, type=str)
Trigger = Enum("RunTrigger", {t.value: t.value for t in RunTrigger}, type=str)

RunCounts = create_model(
    "RunCounts",
    __doc__="Records by outcome so far (final once the run has ended), the same counts as the run's page "
    "and webhooks: each record read is one of created, updated, unchanged, skipped, archived, deleted, "
    "sent, invalid (refused by Syncline) or rejected (refused by Intercom). warnings counts records that "
    "went through, not all of it; matched_existing, of the updated, those Intercom already had when asked "
    "to create them; restored, of the created, those the ledger had in Intercom and Intercom had lost; "
    "drift_checked and drift_missing the records looked up in Intercom to check they are still there and "
    "those missing; api_calls and rate_limited the calls to Intercom and those it answered 429 (retried); "
    "rate_limit_wait_ms the milliseconds of the run during which Intercom's rate limit held calls back.",
    **dict.fromkeys(COUNT_KEYS, (int, 0)),
)


class Error(Schema):
    error: str = Field(description="A stable code to branch on, e.g. invalid_api_key, not_found.")
    message: str = Field(description="What went wrong and what to do, for people.")


class TriggerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    full_resync: StrictBool = Field(
        False,
        description="Send every record again, as if the sync had never run, instead of only the changes.",
    )


class Run(Schema):
    id: int
    sync_id: int
    status: Status
    trigger: Trigger
    full_resync: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None = Field(description="From start to end; null until the run has ended.")
    counts: RunCounts
    error: str | None = Field(description="The first error of a failed run.")
    url: str = Field(description="This run in the API.")
    dashboard_url: str = Field(description="This run's page in Syncline (records, errors).")


class AlreadyRunning(Error):
    run: Run = Field(description="The run that is already queued or running.")


class LastRun(Schema):
    id: int
    status: Status
    created_at: datetime
    url: str


class SyncBase(Schema):
    id: int
    name: str
    object: SyncObject = Field(description="The Intercom object the sync writes.")
    behavior: SyncBehavior
    paused: bool = Field(description="Paused syncs skip their schedule; triggers still run them.")
    last_run: LastRun | None
    trigger_url: str
    dashboard_url: str


# --- errors with fields --------------------------------------------------------------------------------


class FieldProblem(Schema):
    field: str = Field(
        description="Where the problem is, as a path into the request: `name`, `mappings.2`, "
        "`options.event.contact_column`, `wait`; empty when it is about the request as a whole."
    )
    code: str = Field(description="A stable code to branch on, e.g. column_not_in_model, missing.")
    message: str = Field(description="What is wrong with it and what to do, for people.")


class Invalid(Error):
    """Every 422 answer: `error` is `invalid_request`, `message` sums up, `problems` names each field."""

    problems: list[FieldProblem] = Field(description="One entry per problem, each naming its field.")


# --- text that a database can store ----------------------------------------------------------------------

NO_NUL = r"^[^\x00]*$"  # PostgreSQL stores no NUL character in text


def text(max_length: int | None = None, *, min_length: int = 0, **kwargs):
    return Field(pattern=NO_NUL, max_length=max_length, min_length=min_length, **kwargs)


DATABASE_ID = {"ge": 1, "le": 2**63 - 1}

# --- models ------------------------------------------------------------------------------------------


class ModelColumn(Schema):
    name: str
    db_type: str = Field("", description="The type the warehouse reports.")
    kind: str = Field("", description="How Syncline reads it: string, integer, float, boolean, date…")


class SyncRef(Schema):
    id: int
    name: str


class DbtRef(Schema):
    """The dbt model a model reads: its SQL is that model's relation, kept by each manifest loaded."""

    project: str = Field(description="The name of the source connection whose dbt project has the model.")
    project_name: str = Field(description="The dbt project's name, as its manifest gives it.")
    model: str = Field(description="The dbt model's name.")
    unique_id: str = Field(description="dbt's id of the model, e.g. model.jaffle_shop.customers.")
    relation: str = Field(description="The relation the model builds, as the manifest names it.")
    relation_missing: bool = Field(
        description="true: the last manifest loaded no longer has this dbt model; the model's syncs do not "
        "run until one that has it is loaded."
    )
    missing_message: str = Field(description="Why the syncs do not run, when `relation_missing`; else empty.")


class Model(Schema):
    id: int
    name: str
    description: str
    source_id: int = Field(description="The source connection (warehouse) the SQL runs on.")
    sql: str = Field(description="For a model reading a dbt model, its relation's SELECT (not changeable).")
    dbt: DbtRef | None = Field(description="The dbt model this model reads; null: its SQL is its own.")
    primary_key: str = Field(description="The column whose value is unique and never empty for each row.")
    columns: list[ModelColumn] = Field(description="The result's columns when the SQL was last saved.")
    unique_columns: list[str] = Field(description="Other columns declared unique, usable as a sync key.")
    syncs: list[SyncRef] = Field(description="The syncs that read this model.")
    created_at: datetime
    updated_at: datetime
    dashboard_url: str


class ModelList(Schema):
    models: list[Model]


class ModelIn(Schema):
    """A new model: its SQL runs once on the source (read-only) to learn its columns."""

    model_config = ConfigDict(extra="forbid")

    name: str = text(100, min_length=1)
    description: str = text(default="")
    source_id: int = Field(description="A source connection of the key's workspace.", **DATABASE_ID)
    sql: str = text(min_length=1, description="One SELECT (or WITH … SELECT).")
    primary_key: str = text(200, min_length=1)
    unique_columns: list[Annotated[str, text(200)]] = Field(
        default_factory=list, description="Other columns whose values are unique, usable as a sync key."
    )


class ModelPatch(Schema):
    """The fields to change; the others keep their values. A changed SQL is introspected again."""

    model_config = ConfigDict(extra="forbid")

    name: str = text(100, min_length=1, default=None)
    description: str = text(default=None)
    source_id: int = Field(None, **DATABASE_ID)
    sql: str = text(min_length=1, default=None)
    primary_key: str = text(200, min_length=1, default=None)
    unique_columns: list[Annotated[str, text(200)]] = None  # type: ignore[assignment]
    allow_dropping_used_columns: StrictBool = Field(
        False,
        description="Save even though the new SQL no longer returns columns that syncs read (those syncs "
        "fail until they are changed). Without it, such a change is refused with the columns and syncs.",
    )


# --- syncs: the configuration as `SyncConfig.to_json` writes it ---------------------------------------------

FieldTypeName = Enum("FieldType", {t.value: t.value for t in FieldType}, type=str)
NullPolicyName = Enum("NullPolicy", {p.value: p.value for p in NullPolicy}, type=str)
EpochUnitName = Enum("EpochUnit", {u.value: u.value for u in EpochUnit}, type=str)
EventContactKeyName = Enum("EventContactKey", {k.value: k.value for k in EventContactKey}, type=str)
FirstRunName = Enum("FirstRunMode", {m.value: m.value for m in FirstRunMode}, type=str)
Constant = StrictStr | StrictInt | StrictBool | Annotated[float, Field(allow_inf_nan=False)] | None


class Mapping(Schema):
    """One Intercom field set by a model column (`column`) or by the same value for every record
    (`constant`)."""

    model_config = ConfigDict(extra="forbid")

    target: str = text(
        255, min_length=1, description="A standard field of the object, or a custom attribute."
    )
    field_type: FieldTypeName = Field(description="The Intercom type the value is sent as.")
    column: str | None = text(200, default=None, description="The model column that feeds it…")
    constant: Constant = Field(None, description="… or a constant value (when `column` is null).")
    custom: StrictBool = Field(False, description="`target` is a custom attribute.")
    on_null: NullPolicyName = Field(
        NullPolicyName("keep"), description="A NULL keeps Intercom's value (keep) or clears it (clear)."
    )
    unit: EpochUnitName = Field(
        EpochUnitName("seconds"), description="Dates given as numbers are epoch seconds or milliseconds."
    )


class EventOptions(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_column: str = text(200, default="", description="The column naming the contact.")
    contact_key: EventContactKeyName = Field(
        EventContactKeyName("user_id"), description="What that column holds."
    )
    created_at_column: str = text(200, default="", description="The column holding the event time.")
    event_name: str | None = text(255, default=None, description="One event name for every row…")
    event_name_column: str | None = text(200, default=None, description="… or the column holding it.")
    metadata_columns: list[Annotated[str, text(200)]] = Field(
        default_factory=list, description="Each becomes a metadata key of the same name (at most 10)."
    )
    first_run: FirstRunName = Field(
        FirstRunName("send_all"),
        description="send_all sends every row on the first run; skip_existing records today's rows as sent.",
    )
    created_at_unit: EpochUnitName = Field(EpochUnitName("seconds"))


class SyncOptions(Schema):
    model_config = ConfigDict(extra="forbid")

    company_id_column: str | None = text(
        200, default=None, description="Contact syncs: attach each contact to the company with this id."
    )
    permanent_delete: StrictBool = Field(
        False, description="Delete syncs on contacts: delete them instead of archiving."
    )
    event: EventOptions | None = Field(None, description="Event syncs only.")


# --- schedules -----------------------------------------------------------------------------------------

ScheduleKindName = Enum("ScheduleKind", {k.value: k.value for k in ScheduleKind}, type=str)


class Schedule(Schema):
    kind: ScheduleKindName
    timezone: str | None = Field(description="The IANA time zone of the times (clock-based kinds).")
    every_minutes: int | None = Field(description="interval: minutes between runs.")
    minute: int | None = Field(description="hourly: the minute past the hour.")
    at: str | None = Field(description="daily and weekly: the time of day, HH:MM.")
    weekday: int | None = Field(description="weekly: 0 = Monday … 6 = Sunday.")
    cron: str | None = Field(description="cron: five fields.")
    after_sync_id: int | None = Field(description="after_sync: the sync whose success starts this one.")
    description: str = Field(description="In words, e.g. “Weekly on Monday at 09:00 (Europe/Paris)”.")
    next_run_at: datetime | None = Field(description="When the schedule runs it next (UTC).")


class ScheduleIn(Schema):
    """A schedule: the kind, and the settings that kind reads (the others are ignored)."""

    model_config = ConfigDict(extra="forbid")

    kind: ScheduleKindName
    timezone: str | None = text(64, default=None, description="Defaults to the workspace's time zone.")
    every_minutes: StrictInt | None = Field(None, ge=-(2**31), le=2**31)
    minute: StrictInt | None = Field(None, ge=-(2**31), le=2**31)
    at: time | None = Field(None, description="HH:MM")
    weekday: StrictInt | None = Field(None, ge=-(2**31), le=2**31)
    cron: str | None = text(100, default=None)
    after_sync_id: int | None = Field(None, **DATABASE_ID)


class SchedulePatch(ScheduleIn):
    """The settings to change; the others keep their values (the kind included)."""

    kind: ScheduleKindName = None  # type: ignore[assignment]


class SyncSchedule(Schema):
    sync_id: int
    sync_name: str
    schedule: Schedule


class ScheduleList(Schema):
    schedules: list[SyncSchedule]


# --- syncs ------------------------------------------------------------------------------------------


class SyncIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = text(100, min_length=1)
    model_id: int = Field(description="The model whose rows are synced.", **DATABASE_ID)
    destination_id: int = Field(description="The Intercom connection written to.", **DATABASE_ID)
    object: SyncObject
    behavior: SyncBehavior
    key_column: str = text(200, min_length=1, description="The model column matched to Intercom.")
    key_identifier: str = text(
        40, min_length=1, description="The Intercom identifier it matches, e.g. email."
    )
    mappings: list[Mapping] = Field(default_factory=list)
    options: SyncOptions = Field(default_factory=SyncOptions)
    paused: StrictBool = False


class SyncPatch(Schema):
    """The fields to change; the others keep their values. `mappings` and `options` are replaced whole."""

    model_config = ConfigDict(extra="forbid")

    name: str = text(100, min_length=1, default=None)
    model_id: int = Field(None, **DATABASE_ID)
    destination_id: int = Field(None, **DATABASE_ID)
    object: SyncObject = None  # type: ignore[assignment]
    behavior: SyncBehavior = None  # type: ignore[assignment]
    key_column: str = text(200, min_length=1, default=None)
    key_identifier: str = text(40, min_length=1, default=None)
    mappings: list[Mapping] = None  # type: ignore[assignment]
    options: SyncOptions = None  # type: ignore[assignment]
    paused: StrictBool = None  # type: ignore[assignment]


class Sync(SyncBase):
    model_id: int
    destination_id: int
    key_column: str
    key_identifier: str
    mappings: list[Mapping]
    options: SyncOptions
    schedule: Schedule
    created_at: datetime
    updated_at: datetime


class Deleted(Schema):
    deleted: bool = True
    id: int


class SyncList(Schema):
    syncs: list[Sync]
