"""Prometheus metrics (the official prometheus-client), counted where things happen.

With PROMETHEUS_MULTIPROC_DIR set in the environment (the run command, docker-compose) every process (web,
gunicorn workers, Celery workers) writes its counters to files in that folder and /metrics adds them up;
without it, /metrics shows the serving process's own counters. The folder must be emptied before the
processes start (the run command does). Files are named after the host and the process id, so that
containers sharing one folder (docker-compose's metrics volume) never write the same file. Label values are Intercom workspace ids and fixed words only, so
the number of series stays small.
"""

import hmac
import os
import socket

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _HOST = socket.gethostname().replace("_", "-")  # the file name's parts are split on "_"
    values.ValueClass = values.MultiProcessValue(lambda: f"{_HOST}-{os.getpid()}")

RUNS_FINISHED = Counter("syncline_runs_finished", "Sync runs that ended, by end status.", ["status"])
RECORDS = Counter("syncline_records", "Records of ended runs, by outcome.", ["outcome"])
RUNS_REAPED = Counter("syncline_runs_reaped", "Running runs ended because their worker stopped answering.")
INTERCOM_CALLS = Counter(
    "syncline_intercom_calls", "HTTP requests sent to Intercom (retries included).", ["intercom_workspace"]
)
INTERCOM_RATE_LIMITED = Counter(
    "syncline_intercom_rate_limited", "Intercom requests answered 429.", ["intercom_workspace"]
)
INTERCOM_CALL_SECONDS = Histogram(
    "syncline_intercom_call_seconds",
    "Time from sending a request to Intercom to its answer.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RATE_LIMITER_WAIT_SECONDS = Counter(
    "syncline_intercom_rate_limiter_wait_seconds",
    "Seconds calls waited for the shared rate limiter before being sent.",
    ["intercom_workspace"],
)


def metrics_response(request, *collectors) -> HttpResponse:
    """The scrape: 404 when METRICS_TOKEN is not set (metrics off), 401 without the bearer token.
    `collectors` read their values at scrape time (e.g. from the database)."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse(
            "A bearer token (METRICS_TOKEN) is required.", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    at_scrape = CollectorRegistry()
    for collector in collectors:
        at_scrape.register(collector)
    return HttpResponse(
        generate_latest(counted) + generate_latest(at_scrape), content_type=CONTENT_TYPE_LATEST
    )
