"""Structured logs: every line a run or a request writes names its workspace, sync, run and request, and no
secret the run or the request used appears anywhere in the logs."""

import json
import logging

import pytest
from django.db import DatabaseError
from django.urls import reverse

from apps.common import logs
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.factories import TEST_PASSWORD
from tests.syncs.test_recovery import people, people_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Every record of every logger, at DEBUG, through the production handler's filter and formatter."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonLines())
    # Earlier tests may have left levels on these loggers: DEBUG for all of them, then back as they were.
    loggers = [
        logging.getLogger(name)
        for name in (
            "",
            "apps",
            "apps.connections.intercom.client",
            "urllib3",
            "urllib3.connectionpool",
            "django",
            "django.request",
        )
    ]
    levels = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)
    for logger, level, disabled in levels:
        logger.setLevel(level)
        logger.disabled = disabled


def test_a_full_run_and_requests_log_json_with_their_context_and_no_secret(
    client,
    owner,
    workspace,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    settings,
    json_lines,
):
    settings.INTERCOM_CLIENT_BACKOFF_SECONDS = 0.01
    settings.SYNC_CONCURRENCY = 4
    intercom_emulator.set_faults(error_rate=0.2, error_statuses=[500])  # warnings from the record threads
    sync = people_sync(workspace, warehouse, destination, people(30, bad_every=10))

    login = client.post(reverse("account_login"), {"login": owner.email, "password": TEST_PASSWORD})
    assert login.status_code == 302
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    started = len(json_lines)
    run = sync_run_execute(run_id=run.pk)
    run_lines = [json.loads(line) for line in json_lines[started:]]
    logs.clear()
    assert run.counts["created"] == 27 and run.counts["invalid"] == 3

    requested = len(json_lines)
    missing = client.get(reverse("sync_detail", args=[workspace.slug, 999_999]))
    assert missing.status_code == 404
    request_lines = [json.loads(line) for line in json_lines[requested:]]

    # The run: its lines (record threads' included) name it; some came from the Intercom client's threads.
    assert intercom_emulator.request_count(status=500) > 0
    assert any(
        line["logger"] == "apps.connections.intercom.client" and line["level"] == "WARNING"
        for line in run_lines
    )
    for line in run_lines:
        assert (line["workspace"], line["sync_id"], line["run_id"]) == (workspace.pk, sync.pk, run.pk), line
        assert {"time", "level", "logger", "message"} <= line.keys()

    # The request: its id (also in the response) and its workspace on every line it wrote.
    assert request_lines, "a 404 is logged by django.request"
    for line in request_lines:
        assert line["request_id"] == missing["X-Request-ID"] and line["workspace"] == workspace.pk, line
        assert line["run_id"] is None

    everything = "\n".join(json_lines)
    secrets = {
        "Intercom access token": intercom_workspace.token,
        "user's password": TEST_PASSWORD,
        "Django secret key": settings.SECRET_KEY,
        **{f"encryption key {i}": key for i, key in enumerate(settings.FIELD_ENCRYPTION_KEYS)},
    }
    assert len(json_lines) > 50
    assert [name for name, secret in secrets.items() if secret in everything] == []


def test_a_request_id_given_by_a_proxy_is_kept_and_a_strange_one_replaced(client, db):
    assert client.get("/", HTTP_X_REQUEST_ID="abc123-proxy-id")["X-Request-ID"] == "abc123-proxy-id"
    replaced = client.get("/", HTTP_X_REQUEST_ID='<script>"x"</script>')["X-Request-ID"]
    assert len(replaced) == 32 and "<" not in replaced


def test_tokens_are_scrubbed_from_messages_that_carry_them(json_lines):
    logging.getLogger("somewhere").warning("sent Authorization: Bearer %s", "tok_live_123")
    logging.getLogger("somewhere").warning("callback ?code=1&access_token=tok_live_456&x=1")
    assert "tok_live" not in "\n".join(json_lines)
    assert "Bearer [redacted]" in json_lines[0] and "access_token=[redacted]" in json_lines[1]


def test_text_format_reads_as_a_line_with_the_context(capsys, settings):
    import logging.config

    from config.settings.base import LOGGING

    text = {**LOGGING, "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": "text"}}}
    logging.config.dictConfig(text)
    try:
        with logs.bound(run_id=7, workspace=3):
            logging.getLogger("apps.syncs").warning("run went on")
        assert (
            capsys.readouterr().err.strip().endswith("WARNING apps.syncs: run went on [workspace=3 run_id=7]")
        )
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_the_watch_threads_lines_name_the_run_too(
    workspace, warehouse, destination, intercom_emulator, settings, monkeypatch, json_lines
):
    settings.SYNC_RUN_HEARTBEAT_SECONDS = 0.05
    intercom_emulator.set_faults(latency_ms=300)  # the run lasts long enough for the watch to beat

    def database_down(*, run):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(run_services, "run_heartbeat", database_down)
    sync = people_sync(workspace, warehouse, destination, people(3))
    run = sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
    )
    lines = [json.loads(line) for line in json_lines if "could not reach the database" in line]
    assert lines, "the watch logged nothing"
    assert {(line["workspace"], line["sync_id"], line["run_id"]) for line in lines} == {
        (workspace.pk, sync.pk, run.pk)
    }
