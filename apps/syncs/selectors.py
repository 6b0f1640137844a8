"""Reads for the sync pages. Every query starts from the workspace; lists are values() rows so that the
number of queries per page does not grow with the rows shown."""

from __future__ import annotations

import operator
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.core.cache import cache
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.syncs.charts import BarChart, stacked_bars
from apps.syncs.engine.outcomes import ACCEPTED, CountKey
from apps.syncs.models import Sync, SyncRun
from apps.syncs.runs.ledger import refused_records
from apps.syncs.runs.statuses import FAILED
from apps.tenancy.models import Workspace


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
    columns = [
        (day.strftime("%b %-d"), {"records": n}, None)
        for day, n in records_synced_per_day(workspace=workspace, days=days)
    ]
    return stacked_bars(columns, [("records", "records synced")], height=80)


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


def sync_prerequisites(*, workspace: Workspace) -> dict[str, bool]:
    """What a first sync needs and the workspace has: a model, and an Intercom connection."""
    from apps.connections.models import Connection, ConnectionKind
    from apps.models.models import SqlModel

    return {
        "model": SqlModel.objects.for_workspace(workspace).exists(),
        "intercom": Connection.objects.for_workspace(workspace)
        .filter(kind=ConnectionKind.DESTINATION)
        .exists(),
    }


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
