"""Real Celery worker processes for the sync tests (tests/syncs/test_workers.py, test_cancel.py)."""

import pytest

from config.celery import app
from tests.fixtures.celery import WorkerProcess

LEASE = 3


@pytest.fixture
def workers(celery_queue, intercom_emulator, intercom_workspace, settings):
    """Start worker processes on this test's queue; run tasks are routed there; short leases."""
    default_queue, app.conf.task_default_queue = app.conf.task_default_queue, celery_queue
    settings.SYNC_RUN_LEASE_SECONDS = LEASE
    started: list[WorkerProcess] = []
    env = {f"INTERCOM_API_BASE_URL_{region}": url for region, url in intercom_emulator.base_urls.items()}
    env |= {
        "SYNC_RUN_HEARTBEAT_SECONDS": "0.5",
        "SYNC_RUN_LEASE_SECONDS": str(LEASE),
        "INTERCOM_RATE_LIMIT_PER_MINUTE": "600000",
    }

    def start() -> WorkerProcess:
        worker = WorkerProcess(celery_queue).start(concurrency=4, pool="threads", env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    app.conf.task_default_queue = default_queue


@pytest.fixture(autouse=True)
def previews_planned_inline(request, monkeypatch):
    """The preview pages queue their plan for a worker (apps.syncs.runs.preview_runs); here it is planned
    at once, in the request, so that the page it redirects to shows the result — except in tests that
    start real workers (`workers`, `celery_workers`), which plan it there."""
    if {"workers", "celery_workers", "celery_worker_process"} & set(request.fixturenames):
        return
    from apps.syncs.runs import preview_runs

    monkeypatch.setattr(
        preview_runs, "_enqueue", lambda preview_id: preview_runs.preview_execute(preview_id=preview_id)
    )
