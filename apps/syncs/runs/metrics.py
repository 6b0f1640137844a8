"""What /metrics says about runs: counters fed by the end of each run (`apps.syncs.lifecycle`), and gauges read from the database at
scrape time (runs queued and running, the age of the oldest queued run)."""

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from apps.common.metrics import RECORDS, RUNS_FINISHED, metrics_response
from apps.syncs.engine.outcomes import Outcome, RunCounts
from apps.syncs.models import ACTIVE_STATUSES, RunStatus, SyncRun


def count_finished_run(*, run) -> None:
    """Listener of a run's end, in the worker that told it (`apps.syncs.lifecycle`)."""
    RUNS_FINISHED.labels(run.status).inc()
    counts = RunCounts.from_json(run.counts)
    for outcome in Outcome:
        if counts[outcome]:
            RECORDS.labels(outcome.value).inc(counts[outcome])


class ActiveRunsCollector:
    """Two small queries over the active runs, in every workspace (the whole installation's queue)."""

    def collect(self):
        runs = SyncRun.objects.across_all_workspaces_unsafe().filter(status__in=ACTIVE_STATUSES)
        active = dict(runs.order_by().values_list("status").annotate(n=Count("pk")))
        by_status = GaugeMetricFamily(
            "syncline_runs_active", "Runs queued or running now.", labels=["status"]
        )
        for status in ACTIVE_STATUSES:
            by_status.add_metric([status.value], active.get(status, 0))
        yield by_status
        queued_since = runs.filter(status=RunStatus.QUEUED).aggregate(oldest=Min("updated_at"))["oldest"]
        age = (timezone.now() - queued_since).total_seconds() if queued_since else 0.0
        yield GaugeMetricFamily(
            "syncline_oldest_queued_run_age_seconds", "How long the oldest queued run has waited.", value=age
        )


def metrics(request):
    return metrics_response(request, ActiveRunsCollector())
