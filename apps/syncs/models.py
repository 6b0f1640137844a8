from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel
from apps.connections.intercom.catalog import BEHAVIOR_LABELS, OBJECTS
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.outcomes import Outcome
from apps.syncs.schedules.compute import Schedule, ScheduleKind
from apps.tenancy.scoping import WorkspaceOwnedModel


class Sync(WorkspaceOwnedModel, TimeStampedModel):
    """A model → an Intercom object, with a behavior, a sync key and field mappings.

    `mappings` and `options` hold the engine's configuration as JSON, read and written only by
    `SyncConfig.from_json`/`to_json` (engine/config.py): everything else reads `sync.config`.
    """

    name = models.CharField(max_length=100)
    model = models.ForeignKey("sql_models.SqlModel", on_delete=models.PROTECT, related_name="syncs")
    destination = models.ForeignKey("connections.Connection", on_delete=models.PROTECT, related_name="syncs")
    object_key = models.CharField(
        "Intercom object", max_length=20, choices=[(k, o.label) for k, o in OBJECTS.items()]
    )
    behavior = models.CharField(max_length=20, choices=list(BEHAVIOR_LABELS.items()))
    key_column = models.CharField(max_length=200)
    key_identifier = models.CharField(max_length=40)
    mappings = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The schedule (apps/syncs/schedules/compute.py; written by apps/syncs/schedules/services.py). The fields a kind does
    # not use stay empty. next_run_at is stored so that the beat's pass is one indexed query.
    schedule_kind = models.CharField(max_length=20, choices=ScheduleKind.choices, default=ScheduleKind.MANUAL)
    schedule_timezone = models.CharField(max_length=64, default="UTC")
    schedule_every_minutes = models.PositiveIntegerField(null=True, blank=True)
    schedule_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    schedule_at = models.TimeField(null=True, blank=True)
    schedule_weekday = models.PositiveSmallIntegerField(null=True, blank=True)  # 0 = Monday
    schedule_cron = models.CharField(max_length=100, blank=True)
    schedule_after = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers"
    )
    next_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="sync_name_unique")]
        indexes = [
            models.Index(
                fields=["next_run_at"], condition=models.Q(next_run_at__isnull=False), name="sync_next_run_at"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def object(self):
        return OBJECTS[self.object_key]

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            kind=ScheduleKind(self.schedule_kind),
            timezone=self.schedule_timezone,
            every_minutes=self.schedule_every_minutes,
            minute=self.schedule_minute,
            at=self.schedule_at,
            weekday=self.schedule_weekday,
            cron=self.schedule_cron,
        )

    @property
    def config(self) -> SyncConfig:
        """The engine's view of this sync (from the stored JSON, with defaults for keys older versions lack)."""
        return SyncConfig.from_json(
            object_key=self.object_key,
            behavior=self.behavior,
            key_column=self.key_column,
            key_identifier=self.key_identifier,
            mappings=self.mappings,
            options=self.options,
        )

    def mapped_columns(self) -> set[str]:
        """Every model column this sync reads (for the "column used by a sync" warning)."""
        return self.config.columns


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    SUCCEEDED_WITH_WARNINGS = "succeeded_with_warnings", "Succeeded with warnings"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    SCHEDULE = "schedule", "Schedule"
    API = "api", "API"
    COMMAND = "command", "Command line"
    RECOVERY = "recovery", "Recovery"  # started by the reaper to continue a run whose worker died


class SyncRun(WorkspaceOwnedModel, TimeStampedModel):
    """One execution of a sync: what was planned, sent and rejected, and why. Its status changes only
    through the run services (queued → running → an end status: see `apps.syncs.runs.statuses`)."""

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=30, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    full_resync = models.BooleanField(default=False)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(  # the key of a run triggered through the REST API
        "api.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    first_error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Written every few seconds by the worker running it; a running run whose heartbeat stopped lost its
    # worker (see services.runs_reap_stale).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # A run whose worker died is ended and continued by a new run (trigger "recovery") pointing at it.
    continues = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="continued_by"
    )
    # A restore of missing records (a full resync) points at the run that found them missing (apps.syncs.runs.drift).
    restores = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="restored_by"
    )
    # A long run is executed in slices, each one task shorter than the broker's visibility timeout: between
    # two slices the run waits in the queue again, with its counts and how many source rows it got through.
    slices = models.PositiveIntegerField(default=0)
    resume_after_rows = models.PositiveBigIntegerField(default=0)
    # Who has heard of the run's start and end ("finished:alerts", …; see `apps.syncs.runs.lifecycle`): each
    # is told once, even when the task telling them is retried or delivered twice.
    announced = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sync", "-created_at"]),
            models.Index(fields=["workspace", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.sync}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class LedgerEntry(WorkspaceOwnedModel):
    """Per sync and record key: what Intercom last accepted. Written only after Intercom accepted it."""

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="ledger")
    key = models.CharField(max_length=512)
    payload_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=32, blank=True)  # the row's fingerprint in decimal (engine.plan)
    payload = models.JSONField(null=True, blank=True)
    destination_id = models.CharField(max_length=64, blank=True)
    company_id = models.CharField(max_length=255, blank=True)  # contacts: the company last attached
    synced_at = models.DateTimeField(null=True, blank=True)
    last_rejection = models.TextField(blank=True)
    last_rejected_at = models.DateTimeField(null=True, blank=True)
    # The last refusal by Intercom, while it stands (an acceptance clears it): the payload hash refused and
    # Intercom's code (empty after a failure that was no refusal: 5xx, timeouts), and the run it was first
    # refused in. The same payload refused again with the same code is "still refused" (ledger.py).
    rejected_hash = models.CharField(max_length=64, blank=True)
    rejection_code = models.CharField(max_length=100, blank=True)
    first_rejected_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "Stop retrying": runs leave the refused payload out (skipped) until the row changes.
    retry_stopped = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "key"], name="ledger_key_unique")]


class RecordOutcome(models.TextChoices):
    """The outcome of a record kept in the run's record results (the run's counts' words, plus a warning)."""

    CREATED = Outcome.CREATED.value, "Created"
    UPDATED = Outcome.UPDATED.value, "Updated"
    ARCHIVED = Outcome.ARCHIVED.value, "Archived"
    DELETED = Outcome.DELETED.value, "Deleted"
    SENT = Outcome.SENT.value, "Sent"
    SKIPPED = Outcome.SKIPPED.value, "Skipped"
    INVALID = Outcome.INVALID.value, "Invalid"
    REJECTED = Outcome.REJECTED.value, "Rejected"
    WARNING = "warning", "Warning"  # went through, but not all of it (a company that could not be attached)


class RecordResult(WorkspaceOwnedModel):
    """What happened to one record in a run, for every record the run made a call or a decision for
    (created, updated, archived, deleted, sent, skipped by the loader, invalid, rejected), plus a row for
    a warning: the fields sent and Intercom's answer. Unchanged records are not kept one by one (a rerun of
    a million unchanged rows writes nothing here): the ledger says what Intercom has. Kept for
    SYNC_RECORD_RESULTS_DAYS days."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="record_results")
    key = models.CharField(max_length=512)
    outcome = models.CharField(max_length=10, choices=RecordOutcome.choices)
    code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    # Rejected records refused before for the same reason ("still refused"): the run they were first
    # refused in (an id, not a key: a run deleted since leaves it as it was).
    first_refused_in = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The request body sent (None: nothing was sent, e.g. an invalid record) and Intercom's answer.
    payload = models.JSONField(null=True, blank=True)
    destination_id = models.CharField(max_length=64, blank=True)
    already_existed = models.BooleanField(default=False)  # a create Intercom answered "already exists"
    # The record's identifying values (sync key, email, external_id, Intercom id…), one a line: what the
    # run page's search reads (a trigram index serves it: migration 0016).
    lookup = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        # (run, outcome, code) + workspace serves the run page's count, its errors by code and the outcome
        # filter from the index alone (PostgreSQL); (key, run) serves a record's page, every run of one key.
        indexes = [
            models.Index(fields=["run", "key"]),
            models.Index(
                fields=["run", "outcome", "code"], include=["workspace"], name="recordresult_run_outcome"
            ),
            models.Index(fields=["key", "run"], name="recordresult_key_run"),
        ]

    def save(self, *args, **kwargs):
        if not self.lookup:  # found by its key at least (the run recorder writes the whole lookup)
            self.lookup = self.key
        super().save(*args, **kwargs)


class EventInFlight(WorkspaceOwnedModel):
    """An event handed to Intercom whose answer is not in the ledger yet. Left behind only when the run
    died mid-call; the next run asks Intercom whether the event arrived before sending it again, so no
    event is sent twice. (The ledger itself is written only once Intercom accepted a record.)"""

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=512)
    payload = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "key"], name="event_in_flight_unique")]


class PreviewStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Planning"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


PREVIEW_ACTIVE_STATUSES = (PreviewStatus.QUEUED, PreviewStatus.RUNNING)


class SyncPreviewRun(WorkspaceOwnedModel, TimeStampedModel):
    """A preview planned by a worker (a dry run: it sends nothing and changes no ledger row), for the sync
    page's Preview and the wizard's last step. `config` is the sync as it was asked about (the wizard's
    draft, never saved, or the saved sync at that moment): name, model_id, destination_id, object_key,
    behavior, key_column, key_identifier, mappings and options, as `Sync` stores them. `sync` is the saved
    sync whose ledger the plan diffs against (None: a new sync's draft). Written by
    `apps.syncs.runs.preview_runs`; purged after SYNC_PREVIEW_KEEP_HOURS."""

    sync = models.ForeignKey(Sync, null=True, blank=True, on_delete=models.CASCADE, related_name="previews")
    from_wizard = models.BooleanField(default=False)
    config = models.JSONField()
    full_resync = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=PreviewStatus.choices, default=PreviewStatus.QUEUED)
    rows_planned = models.PositiveBigIntegerField(default=0)
    # The outcome: the counts (RunCounts JSON); the sampled records, invalid ones and totals as JSON text
    # (preview_runs), not jsonb, which would reorder the payloads' keys (an event's metadata, say).
    counts = models.JSONField(default=dict, blank=True)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="syncpreviewrun_created")]

    def __str__(self) -> str:
        return f"Preview {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in PREVIEW_ACTIVE_STATUSES
