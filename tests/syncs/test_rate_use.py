"""A run paced by Intercom's rate limit: every call it may make, none Intercom refuses, and the time the
shared limiter held it back, recorded on the run and shown on its page."""

import pytest
from django.urls import reverse

from apps.connections.intercom import ratelimit
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from tests.syncs.test_recovery import people, people_sync

pytestmark = pytest.mark.django_db

PER_MINUTE, WINDOW = 180, 1.0  # 30 calls per 1-second window


def test_a_paced_run_records_how_long_the_limit_held_it_and_its_page_says_so(
    owner_client,
    workspace,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    settings,
    monkeypatch,
):
    monkeypatch.setattr(ratelimit, "_limiters", {})  # a limiter for these settings
    settings.INTERCOM_RATE_LIMIT_PER_MINUTE, settings.INTERCOM_RATE_LIMIT_WINDOW_SECONDS = PER_MINUTE, WINDOW
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    sync = people_sync(workspace, warehouse, destination, people(75))
    run = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
    run = sync_run_execute(run_id=run.pk)

    assert run.counts["created"] == 75 and run.counts["api_calls"] == 75
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 75
    assert intercom_emulator.request_count("POST /contacts", status=429) == 0  # paced, never refused
    # 75 calls at 30 a window: two windows' worth waited for, about 2 × 1.1 s, most of the run.
    held = run.counts["rate_limit_wait_ms"]
    assert 1500 <= held <= (run.finished_at - run.started_at).total_seconds() * 1000
    html = owner_client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()
    assert f"Intercom's rate limit held them back for {held / 1000:.1f} s of the run" in html


def test_a_run_the_limit_never_held_shows_no_wait(
    owner_client, workspace, warehouse, destination, intercom_emulator, intercom_workspace
):
    sync = people_sync(workspace, warehouse, destination, people(5))
    run = sync_run_execute(
        run_id=run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False).pk
    )
    assert run.counts["api_calls"] == 5 and run.counts["rate_limit_wait_ms"] == 0
    html = owner_client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()
    assert "5 Intercom calls." in html and "held them back" not in html
