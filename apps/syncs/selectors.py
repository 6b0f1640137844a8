"""Reads for the sync pages. Every query starts from the workspace; lists are values() rows so that the
number of queries per page does not grow with the rows shown."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.syncs.models import ACTIVE_STATUSES, RecordOutcome, RecordResult, Sync, SyncRun
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
        .select_related("model", "destination")
        .annotate(
            last_run_id=Subquery(last_run.values("id")[:1]),
            last_run_status=Subquery(last_run.values("status")[:1]),
            last_run_at=Subquery(last_run.values("created_at")[:1]),
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
    rows = _with_duration(runs).values(*RUN_FIELDS, "duration", "sync_id", sync_name=F("sync__name"))
    return _page(rows, page, RUNS_PER_PAGE)


def run_get(*, workspace: Workspace, run_id: int) -> SyncRun:
    queryset = SyncRun.objects.for_workspace(workspace).select_related(
        "sync", "sync__destination", "triggered_by"
    )
    return get_object_or_404(queryset, pk=run_id)


def run_record_results(*, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "") -> QuerySet:
    """The run's invalid and rejected records, optionally narrowed by key (contains) and outcome."""
    results = RecordResult.objects.for_workspace(workspace).filter(run=run)
    if query:
        results = results.filter(key__icontains=query)
    if outcome in RecordOutcome.values:
        results = results.filter(outcome=outcome)
    return results.order_by("id").values("id", "key", "outcome", "code", "message")


def run_record_results_page(*, workspace: Workspace, run: SyncRun, query: str = "", outcome: str = "",
                            page=1) -> Page:  # fmt: skip
    return _page(run_record_results(workspace=workspace, run=run, query=query, outcome=outcome), page,
                 RECORDS_PER_PAGE)  # fmt: skip


SYNCED_OUTCOMES = ("created", "updated", "archived", "deleted", "sent")


def records_synced_per_day(*, workspace: Workspace, days: int = 30) -> list[tuple[date, int]]:
    """Records Intercom accepted per day (UTC), oldest first, the last `days` days including today."""
    today = timezone.now().date()
    first = today - timedelta(days=days - 1)
    totals = dict.fromkeys((first + timedelta(days=n) for n in range(days)), 0)
    runs = SyncRun.objects.for_workspace(workspace).filter(created_at__date__gte=first)
    for created_at, counts in runs.values_list("created_at", "counts"):
        day = created_at.date()
        if day in totals:
            totals[day] += sum(int((counts or {}).get(key, 0)) for key in SYNCED_OUTCOMES)
    return list(totals.items())


def home_overview(*, workspace: Workspace) -> dict:
    """What the home page shows: syncs with their last run, what needs attention, the five steps' state."""
    from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
    from apps.models.models import SqlModel

    syncs = sync_list(workspace=workspace)
    connections = list(
        Connection.objects.for_workspace(workspace).only("id", "name", "kind", "status", "status_message")
    )
    problem_statuses = (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.FAILING)
    per_day = records_synced_per_day(workspace=workspace)
    return {
        "syncs": syncs,
        "failing_syncs": [s for s in syncs if s.last_run_status in ("failed", "partially_failed")],
        "broken_connections": [c for c in connections if c.status in problem_statuses],
        "per_day": per_day,
        "per_day_max": max((n for _, n in per_day), default=0),
        "steps": {
            "intercom": any(c.kind == ConnectionKind.DESTINATION for c in connections),
            "warehouse": any(c.kind == ConnectionKind.SOURCE for c in connections),
            "model": SqlModel.objects.for_workspace(workspace).exists(),
            "sync": bool(syncs),
            "run": any(s.last_run_id for s in syncs),
        },
    }
