"""Reads for the sync pages. Every query starts from the workspace; lists are values() rows so that the
number of queries per page does not grow with the rows shown."""

from __future__ import annotations

import operator
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.syncs.charts import BarChart, stacked_bars
from apps.syncs.ledger import refused_records
from apps.syncs.models import ACTIVE_STATUSES, LedgerEntry, RecordOutcome, RecordResult, Sync, SyncRun
from apps.syncs.outcomes import ACCEPTED, LABELS, CountKey, Outcome, RunCounts, Tally
from apps.syncs.statuses import COMPLETED, FAILED
from apps.tenancy.models import Workspace

RUNS_PER_PAGE = 50
RECORDS_PER_PAGE = 50
RUN_FIELDS = ("id", "status", "trigger", "full_resync", "created_at", "started_at", "finished_at", "counts",
              "first_error")  # fmt: skip


def sync_list(*, workspace: Workspace) -> list[Sync]:
    """Every sync with its model, destination and last run (status, time) in one query."""
    last_run = SyncRun.objects.for_workspace(workspace).filter(sync=OuterRef("pk")).order_by("-created_at")
    return list(
        Sync.objects.for_workspace(workspace)
        .select_related("model", "destination", "schedule_after")
        .annotate(
            last_run_id=Subquery(last_run.values("id")[:1]),
            last_run_status=Subquery(last_run.values("status")[:1]),
            last_run_at=Subquery(last_run.values("created_at")[:1]),
            last_run_counts=Subquery(last_run.values("counts")[:1]),
        )
        .order_by("name")
    )


def sync_get(*, workspace: Workspace, sync_id: int) -> Sync:
    queryset = Sync.objects.for_workspace(workspace).select_related("model", "model__source", "destination")
    return get_object_or_404(queryset, pk=sync_id)


def _with_duration(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    )


def _page(queryset: QuerySet, number, per_page: int) -> Page:
    return Paginator(queryset, per_page).get_page(number)


def sync_run_history(*, workspace: Workspace, sync: Sync, page=1) -> Page:
    runs = SyncRun.objects.for_workspace(workspace).filter(sync=sync).order_by("-created_at", "-id")
    return _page(_with_duration(runs).values(*RUN_FIELDS, "duration"), page, RUNS_PER_PAGE)


def sync_active_run(*, workspace: Workspace, sync: Sync) -> SyncRun | None:
    runs = SyncRun.objects.for_workspace(workspace).filter(sync=sync, status__in=ACTIVE_STATUSES)
    return runs.order_by("-created_at").first()


def run_list(*, workspace: Workspace, page=1) -> Page:
    runs = SyncRun.objects.for_workspace(workspace).order_by("-created_at", "-id")
    rows = _with_duration(runs).values(
        *RUN_FIELDS, "duration", "sync_id", sync_name=F("sync__name"), behavior=F("sync__behavior")
    )
    return _page(rows, page, RUNS_PER_PAGE)


def run_get(*, workspace: Workspace, run_id: int) -> SyncRun:
    queryset = SyncRun.objects.for_workspace(workspace).select_related(
        "sync", "sync__destination", "triggered_by", "api_key"
    )
    return get_object_or_404(queryset, pk=run_id)


def run_record_results(*, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "",
                       code: str = "") -> QuerySet:  # fmt: skip
    """The run's records (every one it made a call or a decision for, and its warnings), optionally
    narrowed by any identifying value (contains: key, email, external_id, Intercom id…), outcome and code."""
    query, code = _typed(query), _typed(code)
    results = RecordResult.objects.for_workspace(workspace).filter(run=run)
    if query:
        results = results.filter(lookup__icontains=query)
    if outcome in RecordOutcome.values:
        results = results.filter(outcome=outcome)
    if code:
        results = results.filter(code=code)
    return results.order_by("id").values(
        "id", "key", "outcome", "code", "message", "destination_id", "already_existed", "first_refused_in"
    )


def _typed(text: str) -> str:
    """Text typed into a search box or a URL: a NUL character, which no stored text can hold (PostgreSQL
    refuses it in a query), matches nothing, so it is dropped rather than sent."""
    return text.replace("\x00", "")


def run_record_results_page(*, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "",
                            code: str = "", page=1) -> Page:  # fmt: skip
    results = run_record_results(workspace=workspace, run=run, query=query, outcome=outcome, code=code)
    return _page(results, page, RECORDS_PER_PAGE)


# The series of the sync page's chart of recent runs, bottom first: (name, label, the counts it adds up).
# A series all zero is left out, but for those always shown.
REMOVED = "removed"
RUN_SERIES: list[tuple[str, str, tuple[CountKey, ...]]] = [
    (Outcome.CREATED, LABELS[Outcome.CREATED], (Outcome.CREATED,)),
    (Outcome.UPDATED, LABELS[Outcome.UPDATED], (Outcome.UPDATED,)),
    (REMOVED, "archived or deleted", (Outcome.ARCHIVED, Outcome.DELETED)),
    (Outcome.SENT, LABELS[Outcome.SENT], (Outcome.SENT,)),
    (Outcome.REJECTED, LABELS[Outcome.REJECTED], (Outcome.REJECTED,)),
]
ALWAYS_SHOWN = (Outcome.CREATED, Outcome.UPDATED, Outcome.REJECTED)
CHART_RUNS = 30


def _count(key: CountKey):
    """A run's count `key` as an integer expression (0 when the run has none)."""
    return Coalesce(Cast(KeyTextTransform(key, "counts"), IntegerField()), 0)


# Past days hardly change (only when a run queued before midnight ends after it), so their totals are
# cached for a while; today's are always read. The home page's cost then follows today's runs, not the month's.
PAST_DAYS_CACHE_SECONDS = 600


def records_synced_per_day(*, workspace: Workspace, days: int = 30) -> list[tuple[date, int]]:
    """Records Intercom accepted per day (by the day the run was queued, in the current time zone: the
    workspace's), oldest first, the last `days` days including today; summed by the database."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    key = f"syncs:records-per-day:{workspace.pk}:{timezone.get_current_timezone_name()}:{first.isoformat()}:{days}"
    past = cache.get(key)
    if past is None:
        past = _records_per_day(workspace, first, until=today)
        cache.set(key, past, PAST_DAYS_CACHE_SECONDS)
    totals = dict.fromkeys((first + timedelta(days=n) for n in range(days)), 0)
    for day, records in (past | _records_per_day(workspace, today)).items():
        if day in totals:
            totals[day] = records
    return list(totals.items())


def _records_per_day(workspace: Workspace, first: date, *, until: date | None = None) -> dict[date, int]:
    """{day: records accepted} for the runs queued from the day `first` to before the day `until`."""

    def start_of(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    runs = SyncRun.objects.for_workspace(workspace).filter(created_at__gte=start_of(first))
    if until is not None:
        runs = runs.filter(created_at__lt=start_of(until))
    accepted = reduce(operator.add, (_count(key) for key in sorted(ACCEPTED)))
    per_day = (
        runs.annotate(day=TruncDate("created_at")).values("day").annotate(records=Sum(accepted)).order_by()
    )
    return {row["day"]: row["records"] or 0 for row in per_day}


def records_per_day_chart(*, workspace: Workspace, days: int = 30) -> BarChart:
    columns = [(day.strftime("%b %-d"), {"records": n}, None)
               for day, n in records_synced_per_day(workspace=workspace, days=days)]  # fmt: skip
    return stacked_bars(columns, [("records", "records synced")], height=80)


def sync_recent_runs_chart(*, workspace: Workspace, sync: Sync, runs: int = CHART_RUNS) -> BarChart:
    """Created / updated / removed / sent / rejected per run for the sync's last `runs` runs, oldest first."""
    recent = (
        SyncRun.objects.for_workspace(workspace)
        .filter(sync=sync)
        .order_by("-created_at", "-id")
        .values("id", "created_at", "counts")[:runs]
    )
    columns = []
    for run in reversed(list(recent)):
        counts = RunCounts.from_json(run["counts"])
        values = {name: sum(counts[key] for key in keys) for name, _, keys in RUN_SERIES}
        label = f"Run {run['id']} ({timezone.localtime(run['created_at']):%b %-d %H:%M})"
        columns.append((label, values, run["id"]))
    shown = [(name, label) for name, label, _ in RUN_SERIES
             if name in ALWAYS_SHOWN or any(v[name] for _, v, _ in columns)]  # fmt: skip
    return stacked_bars(columns, shown)


def sync_refused_records(*, workspace: Workspace, sync: Sync) -> dict[str, int]:
    """How many of the sync's records Intercom refuses now: retried by each run (`retrying`), or left out
    since a user stopped retrying them (`stopped`). One query."""
    return (
        refused_records(sync)
        .filter(workspace=workspace)
        .aggregate(
            retrying=Count("id", filter=Q(retry_stopped=False)),
            stopped=Count("id", filter=Q(retry_stopped=True)),
        )
    )


def sync_expected_rows(*, workspace: Workspace, sync: Sync) -> int | None:
    """How many rows the sync's last finished run read: the yardstick of an active run's progress."""
    finished = SyncRun.objects.for_workspace(workspace).filter(sync=sync, status__in=COMPLETED)
    counts = finished.order_by("-created_at").values_list("counts", flat=True).first()
    return RunCounts.from_json(counts)[Tally.SOURCE_ROWS] or None


def run_error_summary(*, workspace: Workspace, run: SyncRun) -> list[dict]:
    """The run's records that did not go through, were skipped or have a warning, grouped by outcome and
    error code, most frequent first."""
    return list(
        RecordResult.objects.for_workspace(workspace)
        .filter(run=run, outcome__in=NOT_THROUGH)
        .values("outcome", "code")
        .annotate(records=Count("*"))
        .order_by("-records", "outcome", "code")
    )


def home_overview(*, workspace: Workspace) -> dict:
    """What the home page shows: syncs with their last run, what needs attention, the five steps' state."""
    from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
    from apps.models.models import SqlModel

    syncs = sync_list(workspace=workspace)
    connections = list(
        Connection.objects.for_workspace(workspace).only("id", "name", "kind", "status", "status_message")
    )
    problem_statuses = (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.FAILING)
    steps = {
        "intercom": any(c.kind == ConnectionKind.DESTINATION for c in connections),
        "warehouse": any(c.kind == ConnectionKind.SOURCE for c in connections),
        "model": SqlModel.objects.for_workspace(workspace).exists(),
        "sync": bool(syncs),
        "run": any(s.last_run_id for s in syncs),
    }
    return {
        "syncs": syncs,
        "failing_syncs": [s for s in syncs if s.last_run_status in FAILED],
        "broken_connections": [c for c in connections if c.status in problem_statuses],
        "per_day": records_per_day_chart(workspace=workspace),
        "steps": steps,
        "steps_done": sum(steps.values()),
        "first_run_id": next((s.last_run_id for s in syncs if s.last_run_id), None),
    }


# --- record lookup ----------------------------------------------------------------------------------------

# The record outcomes the run page's "Errors by code" groups: not through, skipped, or with a warning.
NOT_THROUGH = (RecordOutcome.REJECTED, RecordOutcome.INVALID, RecordOutcome.SKIPPED, RecordOutcome.WARNING)
RECORD_RUNS_PER_PAGE = 20
ELSEWHERE_SHOWN = 5
ELSEWHERE_MIN_LENGTH = 3


def run_record_elsewhere(*, workspace: Workspace, run: SyncRun, query: str) -> dict:
    """Where a search that found nothing in a run's records finds the record: unchanged records are not
    kept one by one, so the ledger (by the exact key) and the same sync's other runs (their records
    matching the search, newest first) say what Intercom has. Two queries, whatever the number of records."""
    query = _typed(query)
    if not query:
        return {"other_runs": [], "ledger": None}
    ledger = sync_record_ledger(workspace=workspace, sync_id=run.sync_id, key=query)
    if (
        len(query) < ELSEWHERE_MIN_LENGTH
    ):  # too short for the trigram index: it would read every run's records
        return {"other_runs": [], "ledger": ledger}
    others = (
        RecordResult.objects.for_workspace(workspace)
        .filter(run__sync_id=run.sync_id, lookup__icontains=query)
        .exclude(run=run)
        .order_by("-id")
        .values("key", "outcome", "run_id", "created_at")[:ELSEWHERE_SHOWN]
    )
    return {"other_runs": list(others), "ledger": ledger}


def sync_record_ledger(*, workspace: Workspace, sync_id: int, key: str) -> dict | None:
    """What the sync's ledger holds for a key: what Intercom last accepted (its id and when), and the last
    refusal of it, if any."""
    return (
        LedgerEntry.objects.for_workspace(workspace)
        .filter(sync_id=sync_id, key=_typed(key))
        .values(
            "key",
            "destination_id",
            "synced_at",
            "payload",
            "company_id",
            "last_rejection",
            "last_rejected_at",
        )  # fmt: skip
        .first()
    )


def sync_record_history_page(*, workspace: Workspace, sync: Sync, key: str, page=1) -> Page:
    """Every kept result of one record key of a sync, newest first: its run, outcome, the fields sent and
    Intercom's answer (a warning is a result of its own, beside its record's)."""
    results = (
        RecordResult.objects.for_workspace(workspace)
        .filter(run__sync=sync, key=_typed(key))
        .order_by("-run_id", "-id")
        .values(
            "id",
            "run_id",
            "outcome",
            "code",
            "message",
            "payload",
            "destination_id",
            "already_existed",
            "created_at",
            run_status=F("run__status"),
        )  # fmt: skip
    )
    return _page(results, page, RECORD_RUNS_PER_PAGE)
