"""What the REST API accepts and answers; django-ninja turns these into the OpenAPI description."""

from datetime import datetime
from enum import Enum

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, create_model

from apps.connections.intercom.catalog import OBJECTS, Behavior
from apps.syncs.engine.outcomes import COUNT_KEYS
from apps.syncs.models import RunStatus, RunTrigger

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


class Sync(Schema):
    id: int
    name: str
    object: SyncObject = Field(description="The Intercom object the sync writes.")
    behavior: SyncBehavior
    paused: bool = Field(description="Paused syncs skip their schedule; triggers still run them.")
    last_run: LastRun | None
    trigger_url: str
    dashboard_url: str


class SyncList(Schema):
    syncs: list[Sync]
