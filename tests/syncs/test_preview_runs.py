"""The preview as a background dry run (apps.syncs.runs.preview_runs): the page answers before the plan is
done and polls a stored row; the plan's counts are a following run's; Cancel stops the warehouse query;
a failing model says why; previews stay in their workspace (the wizard's with whoever asked); old ones are
purged. The tests marked `workers` plan on a real Celery worker process (threads pool) over the real Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import LedgerEntry, PreviewStatus, SyncPreviewRun
from apps.syncs.runs import preview_runs
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import MembershipFactory
from tests.syncs.mapper_inputs import mapped
from tests.syncs.test_cancel import gone, pg_warehouse, sleeping_backends, sleeping_sync, syncline_backends
from tests.syncs.test_recovery import people, people_sync
from tests.syncs.test_views import run_sync
from tests.syncs.test_workers import wait_for

__all__ = ["pg_warehouse"]  # a fixture, used by name

COUNTED = (
    "source_rows",
    "created",
    "updated",
    "unchanged",
    "invalid",
    "archived",
    "deleted",
    "sent",
    "skipped",
)


def preview_url(workspace, sync, **query):
    url = reverse("sync_preview", args=[workspace.slug, sync.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def the_preview(workspace, **filters) -> SyncPreviewRun:
    return SyncPreviewRun.objects.for_workspace(workspace).filter(**filters).latest("created_at")


def dirty_people(n):
    """NULL keys, a duplicate key, unicode and a long name."""
    rows = people(n, bad_every=7)
    rows[3] = (4, "p5@example.com", "Dup of 5")  # p5@example.com twice: both rows invalid
    rows[8] = (9, "p9@example.com", "Zoë 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " + "x" * 300)
    return rows


# --- on a real worker ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_page_answers_before_the_plan_is_done_and_cancel_stops_the_warehouse_query(
    owner_client, workspace, destination, pg_warehouse, workers
):
    workers()
    sync = sleeping_sync(workspace, destination, pg_warehouse)  # its query takes ten minutes
    started = time.monotonic()
    response = owner_client.get(preview_url(workspace, sync))
    assert time.monotonic() - started < 2  # the web request does not wait for the plan
    preview = the_preview(workspace, sync=sync)
    assert response.status_code == 302 and response.url == preview_url(workspace, sync, preview=preview.pk)
    page = owner_client.get(response.url).content.decode()
    assert 'id="preview-block"' in page and 'hx-trigger="every 1s"' in page and "Cancel the preview" in page
    assert "Planned operations" not in page
    wait_for(lambda: sleeping_backends(pg_warehouse), timeout=30)
    block = owner_client.get(
        reverse("preview_progress", args=[workspace.slug, preview.pk]), HTTP_HX_REQUEST="true"
    )
    assert "Planning the preview" in block.content.decode() and "every 1s" in block.content.decode()

    asked = time.monotonic()
    cancel = reverse("preview_cancel", args=[workspace.slug, preview.pk])
    owner_client.post(cancel, HTTP_HX_REQUEST="true")
    wait_for(
        lambda: SyncPreviewRun.objects.for_workspace(workspace).get(pk=preview.pk).status != "running", 15
    )
    assert time.monotonic() - asked < 10
    preview.refresh_from_db()
    assert preview.status == PreviewStatus.CANCELLED and preview.finished_at is not None
    assert gone(lambda: syncline_backends(pg_warehouse), seconds=5), syncline_backends(pg_warehouse)
    page = owner_client.get(response.url).content.decode()  # a plain reload: the state as it stands
    assert "Preview cancelled" in page and "every 1s" not in page
    assert f'href="{preview_url(workspace, sync)}"' in page  # “Preview again”


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_warm_shutdown_stops_the_previews_query_instead_of_waiting_for_it(
    owner_client, workspace, destination, pg_warehouse, workers
):
    worker = workers()
    sync = sleeping_sync(workspace, destination, pg_warehouse)
    owner_client.get(preview_url(workspace, sync))
    preview = the_preview(workspace, sync=sync)
    wait_for(lambda: sleeping_backends(pg_warehouse), timeout=30)
    asked = time.monotonic()
    worker.process.terminate()  # SIGTERM: a warm shutdown
    worker.process.wait(timeout=20)
    assert time.monotonic() - asked < 15
    preview.refresh_from_db()
    assert preview.status == PreviewStatus.FAILED and "shut down" in preview.error
    assert gone(lambda: syncline_backends(pg_warehouse), seconds=5), syncline_backends(pg_warehouse)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_preview_counts_are_the_following_runs_counts_and_nothing_is_sent(
    owner_client, workspace, warehouse, destination, intercom_emulator, workers
):
    workers()
    sync = people_sync(workspace, warehouse, destination, dirty_people(60))
    run_sync(workspace, sync)
    ledger = list(
        LedgerEntry.objects.for_workspace(workspace).filter(sync=sync).values_list("key", "payload_hash")
    )
    calls = intercom_emulator.request_count()
    changed = dirty_people(60)[:-5] + [(70, "new@example.com", "Nouveau"), (71, None, "no key")]
    changed[1] = (2, "p2@example.com", "Person 2, renamed")
    warehouse.table("people", "id INTEGER, email VARCHAR, name VARCHAR", changed)

    response = owner_client.get(preview_url(workspace, sync), follow=True)
    assert response.status_code == 200
    preview = the_preview(workspace, sync=sync)
    done = wait_for(
        lambda: SyncPreviewRun.objects.for_workspace(workspace).get(pk=preview.pk).status == "done"
    )
    assert done
    preview.refresh_from_db()
    # A dry run: no call to Intercom, the ledger as it was.
    assert intercom_emulator.request_count() == calls
    after = LedgerEntry.objects.for_workspace(workspace).filter(sync=sync).values_list("key", "payload_hash")
    assert sorted(after) == sorted(ledger)

    planned = RunCounts.from_json(preview.counts)
    assert planned.created == 1 and planned.updated == 1 and planned.invalid > 2
    run = run_sync(workspace, sync)
    counts = RunCounts.from_json(run.counts)
    assert {k: planned[k] for k in COUNTED} == {k: counts[k] for k in COUNTED}
    page = owner_client.get(response.request["PATH_INFO"] + f"?preview={preview.pk}").content.decode()
    assert "Planned operations" in page and "Person 2, renamed" in page and "every 1s" not in page


# --- planned in the request (tests/syncs/conftest.py: previews_planned_inline) ---------------------------


@pytest.mark.django_db
def test_a_model_that_fails_says_why_in_words_for_people(owner_client, workspace, warehouse, destination):
    sync = people_sync(workspace, warehouse, destination, people(3))
    sync.model.sql = "SELECT * FROM nowhere_to_be_found"
    sync.model.save()
    page = owner_client.get(preview_url(workspace, sync), follow=True).content.decode()
    preview = the_preview(workspace, sync=sync)
    assert preview.status == PreviewStatus.FAILED and "nowhere_to_be_found" in preview.error
    assert "The model could not be read" in page and "nowhere_to_be_found" in page
    assert "Traceback" not in page and "every 1s" not in page


@pytest.mark.django_db
def test_an_unexpected_error_ends_the_preview_failed_with_a_message(
    owner_client, workspace, warehouse, destination, monkeypatch
):
    sync = people_sync(workspace, warehouse, destination, people(3))

    def broken(**_):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(preview_runs, "sync_preview", broken)
    page = owner_client.get(preview_url(workspace, sync), follow=True).content.decode()
    assert the_preview(workspace, sync=sync).status == PreviewStatus.FAILED
    assert "could not be planned: an unexpected error occurred (ZeroDivisionError)" in page


@pytest.mark.django_db
def test_previews_stay_in_their_workspace_and_the_wizards_with_whoever_asked(
    owner_client, workspace, warehouse, destination
):
    sync = people_sync(workspace, warehouse, destination, people(3))
    owner_client.get(preview_url(workspace, sync))
    preview = the_preview(workspace, sync=sync)
    outsider = MembershipFactory(role=Role.OWNER)  # the owner of another workspace
    stranger = Client()
    stranger.force_login(outsider.user)
    for name in ("preview_progress", "preview_cancel"):
        answer = getattr(stranger, "post" if "cancel" in name else "get")(
            reverse(name, args=[workspace.slug, preview.pk])
        )
        assert answer.status_code == 404
        # Through the stranger's own workspace's address: not found either (the row is not theirs).
        answer = getattr(stranger, "post" if "cancel" in name else "get")(
            reverse(name, args=[outsider.workspace.slug, preview.pk])
        )
        assert answer.status_code == 404
    assert not SyncPreviewRun.objects.for_workspace(workspace).get(pk=preview.pk).cancel_requested
    mine = member_of(workspace, Role.EDITOR).user
    wizard_preview = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace, from_wizard=True, config=preview.config, requested_by=mine
    )
    assert (
        owner_client.get(reverse("preview_progress", args=[workspace.slug, wizard_preview.pk])).status_code
        == 404
    )
    colleague = Client()
    colleague.force_login(mine)
    assert (
        colleague.get(reverse("preview_progress", args=[workspace.slug, wizard_preview.pk])).status_code
        == 200
    )


@pytest.mark.django_db
def test_cancel_needs_the_csrf_token_which_htmx_sends_in_its_header(workspace, owner):
    sync_row = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace, config={}, from_wizard=True, requested_by=owner
    )
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    cancel = reverse("preview_cancel", args=[workspace.slug, sync_row.pk])
    assert browser.post(cancel, HTTP_HX_REQUEST="true").status_code == 403
    page = browser.get(reverse("sync_list", args=[workspace.slug]))
    token = page.cookies["csrftoken"].value
    assert 'hx-headers=\'{"X-CSRFToken": "' in page.content.decode()
    answer = browser.post(cancel, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 200 and "Preview cancelled" in answer.content.decode()
    sync_row.refresh_from_db()
    assert sync_row.status == PreviewStatus.CANCELLED  # a queued preview ends at once
    assert (
        preview_runs.preview_execute(preview_id=sync_row.pk) is None
    )  # its task, delivered later, does nothing


@pytest.mark.django_db
def test_the_wizard_previews_its_unsaved_draft_and_a_changed_draft_gets_a_new_preview(
    owner_client, owner, workspace, warehouse, destination
):
    sync = people_sync(workspace, warehouse, destination, people(4))
    run_sync(workspace, sync)
    edit = owner_client.get(reverse("sync_edit", args=[workspace.slug, sync.pk]))
    assert edit.status_code == 302
    step = reverse("sync_edit_step", args=[workspace.slug, sync.pk, "preview"])
    response = owner_client.get(step)
    preview = the_preview(workspace, from_wizard=True)
    assert response.url == f"{step}?preview={preview.pk}"
    assert preview.sync_id == sync.pk and preview.requested_by == owner  # diffed against the sync's ledger
    assert preview.config == preview_runs.preview_config(sync) and preview.config["model_id"] == sync.model_id
    page = owner_client.get(response.url)
    assert page.context["preview"].counts.unchanged == 4 and "Planned operations" in page.content.decode()
    # The same address, once the draft changed (another name), plans the new draft.
    owner_client.post(
        reverse("sync_edit_step", args=[workspace.slug, sync.pk, "fields"]),
        mapped(("std:name", "name"), name="Renamed", action="next"),
    )
    again = owner_client.get(response.url)
    assert again.status_code == 302 and again.url != response.url
    assert the_preview(workspace, from_wizard=True).config["name"] == "Renamed"
    assert not SyncPreviewRun.objects.for_workspace(workspace).filter(sync=None).exists()


@pytest.mark.django_db
def test_a_new_syncs_draft_is_previewed_without_a_saved_sync(owner_client, workspace, warehouse, destination):
    draft = people_sync(workspace, warehouse, destination, people(3))
    preview = preview_runs.preview_start(
        workspace=workspace, user=None, sync=make_draft(draft), from_wizard=True
    )
    preview.refresh_from_db()
    assert preview.sync_id is None and preview.status == PreviewStatus.DONE
    assert RunCounts.from_json(preview.counts).created == 3  # a first run: every row created


def make_draft(sync):
    return sync.__class__(
        workspace=sync.workspace,
        name="Draft",
        model=sync.model,
        destination=sync.destination,
        object_key=sync.object_key,
        behavior=sync.behavior,
        key_column=sync.key_column,
        key_identifier=sync.key_identifier,
        mappings=sync.mappings,
        options=sync.options,
    )


@pytest.mark.django_db
def test_old_previews_are_purged_and_recent_ones_kept(workspace, settings):
    settings.SYNC_PREVIEW_KEEP_HOURS = 24
    old = SyncPreviewRun.objects.for_workspace(workspace).create(workspace=workspace, config={})
    young = SyncPreviewRun.objects.for_workspace(workspace).create(workspace=workspace, config={})
    SyncPreviewRun.objects.for_workspace(workspace).filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert preview_runs.previews_purge() == 1
    assert list(SyncPreviewRun.objects.for_workspace(workspace).values_list("pk", flat=True)) == [young.pk]


@pytest.mark.django_db
def test_a_preview_whose_worker_died_ends_failed_when_read(
    owner_client, workspace, warehouse, destination, settings
):
    sync = people_sync(workspace, warehouse, destination, people(3))
    stuck = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace, sync=sync, config=preview_runs.preview_config(sync), status=PreviewStatus.RUNNING
    )
    SyncPreviewRun.objects.for_workspace(workspace).filter(pk=stuck.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SYNC_RUN_LEASE_SECONDS + 1)
    )
    alive = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace, sync=sync, config=stuck.config, status=PreviewStatus.RUNNING
    )  # its heartbeat is fresh
    page = owner_client.get(preview_url(workspace, sync, preview=stuck.pk)).content.decode()
    assert "the worker planning it was shut down or is gone" in page and "every 1s" not in page
    assert "every 1s" in owner_client.get(preview_url(workspace, sync, preview=alive.pk)).content.decode()


@pytest.mark.django_db
def test_without_javascript_cancel_goes_back_to_the_page_that_shows_the_preview(
    owner_client, owner, workspace
):
    """The wizard's Cancel button posts the wizard's form to the cancel address (formaction): back to the
    wizard's preview step, at the preview's own address."""
    preview = SyncPreviewRun.objects.for_workspace(workspace).create(
        workspace=workspace, config={}, from_wizard=True, requested_by=owner
    )
    cancel = reverse("preview_cancel", args=[workspace.slug, preview.pk])
    response = owner_client.post(cancel, {"action": "next", "name": "whatever the wizard's form holds"})
    assert response.status_code == 302
    assert (
        response.url
        == reverse("sync_create_step", args=[workspace.slug, "preview"]) + f"?preview={preview.pk}"
    )
    preview.refresh_from_db()
    assert preview.status == PreviewStatus.CANCELLED
