"""/healthz (liveness) and /readyz (readiness): what each check reports when its part is up or down."""

import socket
import time

import pytest

from apps.common import health
from config.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_seen():
    health.worker_heartbeat_beat()  # what a worker's heartbeat thread writes


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_ready_when_database_migrations_broker_cache_and_a_worker_answer(client, worker_seen):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "cache": "ok", "worker": "ok"},
    }


def test_not_ready_without_a_worker_heartbeat(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["worker"] == "no worker heartbeat seen"
    assert {name for name, result in checks.items() if result != "ok"} == {"worker"}


def test_a_stale_worker_heartbeat_is_not_ready(client, settings, worker_seen):
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 0.01
    time.sleep(0.05)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["worker"].startswith(
        "last worker heartbeat"
    )


def test_not_ready_when_the_broker_is_down_and_the_probe_answers_fast(client, monkeypatch, worker_seen):
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"].startswith("unavailable")
    assert {name for name, result in checks.items() if result != "ok"} == {"broker"}
    assert "127.0.0.1" not in response.content.decode()  # no connection details in a public answer


def test_not_ready_with_migrations_pending(client, monkeypatch, worker_seen):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("a", False), ("b", False)]
    )
    response = client.get("/readyz")
    assert (
        response.status_code == 503 and response.json()["checks"]["migrations"] == "2 migrations not applied"
    )


def test_probes_need_no_login_no_allowed_host_and_no_https(client, settings, worker_seen):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["syncline.example.com"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.0.7:8000")  # a Kubernetes probe: the pod's address
        assert response.status_code == 200, (path, response.status_code)
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400  # the rest of the site still checks


def test_liveness_ignores_the_worker_and_broker(client, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_the_worker_heartbeat_thread_writes_the_key_until_stopped(settings):
    import threading

    from django.core.cache import cache

    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    stop = threading.Event()
    thread = health.worker_heartbeat_start(stop)
    try:
        deadline = time.monotonic() + 5
        while cache.get(health.WORKER_HEARTBEAT_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert health.check_worker() == "ok"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
