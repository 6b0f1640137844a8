"""Liveness (/healthz) and readiness (/readyz) for load balancers, orchestrators and the run command.

Both are answered by :class:`HealthCheckMiddleware`, first in the stack, so that a probe needs no session,
no allowed Host header (Kubernetes probes use the pod's address) and no HTTPS redirect. Each readiness
check is cheap: one query, one broker connection, one cache round trip, a migration plan computed once per
process, and a key that workers refresh (see :func:`worker_heartbeat_start`).
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "syncline:worker-heartbeat"
OK = "ok"

_migrations_applied = False  # once true, stays true for this process (new migrations come with new code)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK


def check_migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return f"{len(pending)} migrations not applied"
        _migrations_applied = True
    return OK


def check_broker() -> str:
    from config.celery import app

    with app.connection_for_write(connect_timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    return OK


def check_cache() -> str:
    cache.set("syncline:readyz", "1", timeout=30)
    return OK if cache.get("syncline:readyz") == "1" else "cache does not keep what it is given"


def check_worker() -> str:
    seen = cache.get(WORKER_HEARTBEAT_KEY)
    if seen is None:
        return "no worker heartbeat seen"
    age = time.time() - float(seen)
    if age > settings.WORKER_HEARTBEAT_STALE_SECONDS:
        return f"last worker heartbeat {age:.0f} s ago"
    return OK


READINESS_CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "broker": check_broker,
    "cache": check_cache,
    "worker": check_worker,
}


def _run(check) -> str:
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the kind is enough to act on
        logger.warning("readiness check %s failed: %s", check.__name__, type(exc).__name__)
        return f"unavailable ({type(exc).__name__})"


def liveness() -> JsonResponse:
    """The process answers and its database does (a restart helps with neither otherwise)."""
    database = _run(check_database)
    database = OK if database == OK else "unavailable"
    healthy = database == OK
    return JsonResponse(
        {"status": OK if healthy else "degraded", "database": database}, status=200 if healthy else 503
    )


def readiness() -> JsonResponse:
    checks = {name: _run(check) for name, check in READINESS_CHECKS.items()}
    ready = all(result == OK for result in checks.values())
    return JsonResponse(
        {"status": OK if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


PROBES = {"/healthz": liveness, "/readyz": readiness}


class HealthCheckMiddleware:
    """Answers the probes before Host validation, HTTPS redirects, sessions and authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe()
        return self.get_response(request)


# -- the worker's side ----------------------------------------------------------------------------------
def worker_heartbeat_beat() -> None:
    cache.set(WORKER_HEARTBEAT_KEY, time.time(), timeout=settings.WORKER_HEARTBEAT_STALE_SECONDS * 2)


def worker_heartbeat_start(stop: threading.Event | None = None) -> threading.Thread:
    """Refresh the worker heartbeat every WORKER_HEARTBEAT_SECONDS in a daemon thread (dies with the
    process: a killed worker stops beating)."""
    stop = stop or threading.Event()

    def beat() -> None:
        while True:
            try:
                worker_heartbeat_beat()
            except Exception:  # noqa: BLE001 - a cache outage must not kill the thread; readyz shows it
                logger.warning("could not write the worker heartbeat", exc_info=True)
            if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=beat, name="syncline-worker-heartbeat", daemon=True)
    thread.start()
    return thread
