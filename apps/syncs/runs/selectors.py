"""Reads for the run pages, the run history and record lookup. Every query starts from the workspace; lists are
values() rows so that the number of queries per page does not grow with the rows shown."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.syncs.charts import BarChart, stacked_bars
from apps.syncs.engine.outcomes import LABELS, CountKey, Outcome, RunCounts, Tally
from apps.syncs.models import ACTIVE_STATUSES, LedgerEntry, RecordOutcome, RecordResult, Sync, SyncRun
from apps.syncs.runs.statuses import COMPLETED
from apps.tenancy.models import Workspace

RUNS_PER_PAGE = 50


RECORDS_PER_PAGE = 50


RUN_FIELDS = ("id", "status", "trigger", "full_resync", "created_at", "started_at", "finished_at", "counts",
              "first_error")  # fmt: skip


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


def run_record_results(
    *, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "", code: str = ""
) -> QuerySet:
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


def run_record_results_page(
    *, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "", code: str = "", page=1
) -> Page:
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
    shown = [
        (name, label)
        for name, label, _ in RUN_SERIES
        if name in ALWAYS_SHOWN or any(v[name] for _, v, _ in columns)
    ]
    return stacked_bars(columns, shown)


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
        )
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
        )
    )
    return _page(results, page, RECORD_RUNS_PER_PAGE)
