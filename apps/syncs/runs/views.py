"""The run pages: a sync's preview and Run now, the run history, a run with its records, its progress block,
cancel and restore."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.common.csv_export import csv_lines
from apps.syncs import selectors
from apps.syncs.engine.outcomes import BAD, LABELS, Outcome, RunCounts
from apps.syncs.models import PreviewStatus, RecordOutcome, RunTrigger, SyncPreviewRun
from apps.syncs.runs import preview_display, preview_runs
from apps.syncs.runs import selectors as run_selectors
from apps.syncs.runs import services as run_services
from apps.syncs.runs.drift import restorable, restore_creates_first
from apps.tenancy.access import workspace_view
from apps.tenancy.models import Role

SYNC_DETAIL = "syncs/sync_detail.html"
_NOT_READ = object()


def progress_context(workspace, run, *, expected=_NOT_READ) -> dict:
    """The live progress block's context: the run, and the rows its sync's last finished run read (a
    streamed model's size is only known at its end, so the bar measures against the last run)."""
    if run is None or not run.is_active:
        return {"run": run}
    if expected is _NOT_READ:
        expected = run_selectors.sync_expected_rows(workspace=workspace, sync=run.sync)
    read = RunCounts.from_json(run.counts).source_rows
    percent = min(99, read * 100 // expected) if expected else None
    return {"run": run, "expected_rows": expected, "progress_percent": percent}


@workspace_view()
def run_progress(request, workspace, run_id):
    """The live progress block; it polls itself while the run is active. When the run has ended, an htmx
    poll reloads the page, so that its counts, history and chart show the finished run."""
    run = run_selectors.run_get(workspace=workspace, run_id=run_id)
    response = TemplateResponse(
        request, f"{SYNC_DETAIL}#progress", {"sync": run.sync, **progress_context(workspace, run)}
    )
    if request.htmx and not run.is_active:
        response["HX-Refresh"] = "true"
    return response


PREVIEW_OPERATIONS = [(Outcome.CREATED, "to create"), (Outcome.UPDATED, "to update"),
                      (Outcome.UNCHANGED, LABELS[Outcome.UNCHANGED]), (Outcome.ARCHIVED, "to archive"),
                      (Outcome.DELETED, "to delete"), (Outcome.SENT, "to send"), (Outcome.SKIPPED, "to skip"),
                      (Outcome.INVALID, LABELS[Outcome.INVALID])]  # fmt: skip


# The operations a behavior can plan (others are shown only when they are not zero).
BEHAVIOR_OPERATIONS = {
    "upsert": {Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.INVALID},
    "update_only": {Outcome.UPDATED, Outcome.UNCHANGED, Outcome.INVALID},
    "delete": {Outcome.ARCHIVED, Outcome.DELETED, Outcome.UNCHANGED, Outcome.INVALID},
    "send": {Outcome.SENT, Outcome.SKIPPED, Outcome.UNCHANGED, Outcome.INVALID},
}


@workspace_view()
def sync_preview(request, workspace, sync_id):
    """The recap before a run: what it would do now. Sends nothing to Intercom, changes no ledger row.

    Planned by a worker (preview_runs): without `?preview=<id>` the page starts a preview and sends the
    browser to its own address, which then shows the preview as it stands (planning, with its progress
    polled by htmx; or its counts and samples), so that a plain reload shows the current state."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    full_resync = request.GET.get("full_resync") == "1"
    preview_run = _requested_preview(request, workspace)
    if preview_run is None or preview_run.sync_id != sync.pk or preview_run.from_wizard:
        preview_run = preview_runs.preview_start(
            workspace=workspace, user=request.user, sync=sync, full_resync=full_resync
        )
        query = f"?preview={preview_run.pk}" + ("&full_resync=1" if full_resync else "")
        return redirect(reverse("sync_preview", args=[workspace.slug, sync.pk]) + query)
    full_resync = preview_run.full_resync
    context = {"sync": sync, "full_resync": full_resync,
               "active_run": run_selectors.sync_active_run(workspace=workspace, sync=sync)}  # fmt: skip
    return TemplateResponse(request, "syncs/sync_preview.html", context | preview_block(request, preview_run))


def _requested_preview(request, workspace):
    preview_id = request.GET.get("preview", "")
    if not preview_id.isdigit():
        return None
    try:
        return preview_runs.preview_get(workspace=workspace, user=request.user, preview_id=int(preview_id))
    except SyncPreviewRun.DoesNotExist:
        return None


def preview_block(request, preview_run, *, sync=None) -> dict:
    """The preview block's context (syncs/includes/preview_block.html): the stored preview, with its
    counts and sample tables once it is done."""
    page = _preview_page(preview_run)
    context = {"preview_run": preview_run, "restart_url": page, "in_form": preview_run.from_wizard}
    if preview_run.status in (PreviewStatus.DONE, PreviewStatus.FAILED):
        sync = sync or preview_runs.preview_sync(preview_run)
        preview = preview_runs.preview_result(preview_run)
        context |= {"preview": preview} | (preview_tables(sync, preview) if not preview.error else {})
    return context


def _preview_page(preview_run, *, shown: bool = False) -> str:
    """The page a preview belongs to: without the preview, opening it starts a new one; `shown`: with it."""
    slug = preview_run.workspace.slug
    if preview_run.from_wizard:
        if preview_run.sync_id is None:
            url = reverse("sync_create_step", args=[slug, "preview"])
        else:
            url = reverse("sync_edit_step", args=[slug, preview_run.sync_id, "preview"])
        return url + (f"?preview={preview_run.pk}" if shown else "")
    url = reverse("sync_preview", args=[slug, preview_run.sync_id])
    query = (["full_resync=1"] if preview_run.full_resync else []) + (
        [f"preview={preview_run.pk}"] if shown else []
    )
    return url + ("?" + "&".join(query) if query else "")


def _preview_of(request, workspace, preview_id):
    try:
        return preview_runs.preview_get(workspace=workspace, user=request.user, preview_id=preview_id)
    except SyncPreviewRun.DoesNotExist:
        raise Http404("No such preview.") from None


@workspace_view()
def preview_progress(request, workspace, preview_id):
    """The preview block alone: htmx polls it every second while the preview is planned."""
    preview_run = _preview_of(request, workspace, preview_id)
    return TemplateResponse(request, "syncs/includes/preview_block.html", preview_block(request, preview_run))


@workspace_view(methods=("POST",), write_role=Role.VIEWER)  # whoever may see a preview may stop it
def preview_cancel(request, workspace, preview_id):
    """Stop a preview: its warehouse query is interrupted. With htmx the block answers in place; without,
    back to the page the preview belongs to."""
    preview_run = preview_runs.preview_cancel(preview=_preview_of(request, workspace, preview_id))
    if request.htmx:
        return TemplateResponse(
            request, "syncs/includes/preview_block.html", preview_block(request, preview_run)
        )
    return redirect(_preview_page(preview_run, shown=True))


def preview_tables(sync, preview) -> dict:
    """The preview's counts (those the behavior can plan, and any other that is not zero), its samples as
    tables (preview_display) and what “skipped” will mean."""
    samples = preview_display.sample_tables(sync, preview)
    skipped = preview_display.skipped_note(sync.config)
    shown = BEHAVIOR_OPERATIONS[sync.behavior]
    operations = [
        (key, label, key in BAD) for key, label in PREVIEW_OPERATIONS if key in shown or preview.counts[key]
    ]
    return {"operations": operations, "samples": samples, "skipped_note": skipped}


@workspace_view(methods=("POST",))
def sync_run_now(request, workspace, sync_id):
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    full_resync = request.POST.get("full_resync") == "1"
    try:
        run = run_services.sync_run_start(
            workspace=workspace,
            sync=sync,
            trigger=RunTrigger.MANUAL,
            user=request.user,
            full_resync=full_resync,
        )
    except run_services.SyncAlreadyRunning as running:
        messages.warning(request, f"“{sync.name}” is already running (run {running.run.pk}).")
    else:
        kind = "Full resync" if full_resync else "Run"
        messages.success(request, f"{kind} {run.pk} of “{sync.name}” queued.")
    return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=sync.pk)


@workspace_view()
def run_list(request, workspace):
    runs = run_selectors.run_list(workspace=workspace, page=request.GET.get("page"))
    return TemplateResponse(request, "syncs/run_list.html", {"runs": runs})


@workspace_view()
def run_detail(request, workspace, run_id):
    run = run_selectors.run_get(workspace=workspace, run_id=run_id)
    counts = RunCounts.from_json(run.counts)
    filters = _record_filters(request)
    results = run_selectors.run_record_results_page(
        workspace=workspace, run=run, page=request.GET.get("page"), **filters
    )
    elsewhere = None
    if filters["query"] and not results.paginator.count:  # unchanged records are not kept one by one
        elsewhere = run_selectors.run_record_elsewhere(workspace=workspace, run=run, query=filters["query"])
    context = {"sync": run.sync, "results": results, **filters, "filtered": any(filters.values()),
               "outcomes": RecordOutcome.choices, "elsewhere": elsewhere,
               "error_summary": run_selectors.run_error_summary(workspace=workspace, run=run),
               "waited": run.started_at - run.created_at if run.started_at else None,
               "counts": counts, "keep_days": settings.SYNC_RECORD_RESULTS_DAYS,
               "restorable": restorable(run.sync), "creates_first": restore_creates_first(counts),
               **progress_context(workspace, run)}  # fmt: skip
    return TemplateResponse(request, "syncs/run_detail.html", context)


def _record_filters(request) -> dict[str, str]:
    return {
        "query": request.GET.get("q", "").strip(),
        "outcome": request.GET.get("outcome", ""),
        "code": request.GET.get("code", "").strip(),
    }


@workspace_view()
def run_records_csv(request, workspace, run_id):
    run = run_selectors.run_get(workspace=workspace, run_id=run_id)
    results = run_selectors.run_record_results(workspace=workspace, run=run, **_record_filters(request))
    # Key, code and message come from the warehouse and Intercom: csv_lines neutralises formulas in them.
    rows = ([r["key"], r["outcome"], r["code"], r["message"]] for r in results.iterator(chunk_size=2000))
    lines = csv_lines(["key", "outcome", "code", "message"], rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-records.csv"'
    return response


@workspace_view(methods=("POST",))
def run_restore(request, workspace, run_id):
    run = run_selectors.run_get(workspace=workspace, run_id=run_id)
    try:
        restore = run_services.sync_run_restore(workspace=workspace, run=run, user=request.user)
    except run_services.NothingToRestore as nothing:
        messages.warning(request, str(nothing))
    except run_services.SyncAlreadyRunning as running:
        messages.warning(
            request, f"“{run.sync.name}” is already running (run {running.run.pk}): restore once it ends."
        )
    else:
        messages.success(
            request,
            f"Run {restore.pk} restores the records missing from Intercom: it sends every record again.",
        )
        return redirect("run_detail", workspace_slug=workspace.slug, run_id=restore.pk)
    return redirect("run_detail", workspace_slug=workspace.slug, run_id=run.pk)


@workspace_view(methods=("POST",))
def run_cancel(request, workspace, run_id):
    run = run_services.sync_run_cancel(
        workspace=workspace, run=run_selectors.run_get(workspace=workspace, run_id=run_id), user=request.user
    )
    if run.is_active:
        messages.success(
            request,
            "Cancelling: the warehouse query is stopped and the run ends within seconds, once the records "
            "already sent to Intercom have their answers. It will not be restarted.",
        )
    else:
        messages.success(request, f"Run {run.pk} is {run.get_status_display().lower()}.")
    return redirect("run_detail", workspace_slug=workspace.slug, run_id=run.pk)
