from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.common.csv_export import csv_lines
from apps.syncs import preview_display, selectors, services
from apps.syncs.drift import restorable, restore_creates_first
from apps.syncs.execution import sync_preview as plan_preview
from apps.syncs.models import RecordOutcome, RunTrigger
from apps.syncs.outcomes import BAD, LABELS, Outcome, RunCounts
from apps.tenancy.access import workspace_view

DETAIL = "syncs/sync_detail.html"


@workspace_view()
def sync_list(request, workspace):
    return TemplateResponse(
        request, "syncs/sync_list.html", {"syncs": selectors.sync_list(workspace=workspace)}
    )


@workspace_view()
def sync_detail(request, workspace, sync_id):
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    active = selectors.sync_active_run(workspace=workspace, sync=sync)
    expected = selectors.sync_expected_rows(workspace=workspace, sync=sync)  # also said by Full resync
    context = {
        "sync": sync,
        "runs": selectors.sync_run_history(workspace=workspace, sync=sync, page=request.GET.get("page")),
        "chart": selectors.sync_recent_runs_chart(workspace=workspace, sync=sync),
        "expected_rows": expected,
        "refused": selectors.sync_refused_records(workspace=workspace, sync=sync),
        **_progress(workspace, active, expected=expected),
    }
    return TemplateResponse(request, DETAIL, context)


_NOT_READ = object()


def _progress(workspace, run, *, expected=_NOT_READ) -> dict:
    """The live progress block's context: the run, and the rows its sync's last finished run read (a
    streamed model's size is only known at its end, so the bar measures against the last run)."""
    if run is None or not run.is_active:
        return {"run": run}
    if expected is _NOT_READ:
        expected = selectors.sync_expected_rows(workspace=workspace, sync=run.sync)
    read = RunCounts.from_json(run.counts).source_rows
    percent = min(99, read * 100 // expected) if expected else None
    return {"run": run, "expected_rows": expected, "progress_percent": percent}


@workspace_view()
def run_progress(request, workspace, run_id):
    """The live progress block; it polls itself while the run is active. When the run has ended, an htmx
    poll reloads the page, so that its counts, history and chart show the finished run."""
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    response = TemplateResponse(
        request, f"{DETAIL}#progress", {"sync": run.sync, **_progress(workspace, run)}
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
    """The recap before a run: what it would do now. Sends nothing to Intercom, changes no ledger row."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    full_resync = request.GET.get("full_resync") == "1"
    preview = plan_preview(workspace=workspace, sync=sync, full_resync=full_resync)
    context = {"sync": sync, "preview": preview, "full_resync": full_resync,
               "active_run": selectors.sync_active_run(workspace=workspace, sync=sync)}  # fmt: skip
    return TemplateResponse(request, "syncs/sync_preview.html", context | preview_tables(sync, preview))


def preview_tables(sync, preview) -> dict:
    """The preview's counts (those the behavior can plan, and any other that is not zero), its samples as
    tables (preview_display) and what “skipped” will mean."""
    samples = preview_display.sample_tables(sync, preview)
    skipped = preview_display.skipped_note(services.sync_engine_config(sync))
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
        run = services.sync_run_start(
            workspace=workspace,
            sync=sync,
            trigger=RunTrigger.MANUAL,
            user=request.user,
            full_resync=full_resync,
        )
    except services.SyncAlreadyRunning as running:
        messages.warning(request, f"“{sync.name}” is already running (run {running.run.pk}).")
    else:
        kind = "Full resync" if full_resync else "Run"
        messages.success(request, f"{kind} {run.pk} of “{sync.name}” queued.")
    return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=sync.pk)


@workspace_view(methods=("POST",))
def sync_pause(request, workspace, sync_id):
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    paused = request.POST.get("paused") == "1"
    services.sync_set_paused(workspace=workspace, sync=sync, paused=paused)
    if paused:
        messages.success(request, f"“{sync.name}” is paused: schedules skip it; Run now still works.")
    else:
        messages.success(request, f"“{sync.name}” is resumed.")
    return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=sync.pk)


@workspace_view(methods=("POST",))
def sync_refused_retry(request, workspace, sync_id):
    """ "Retry now": a run now, that retries every record still refused (those stopped included)."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    try:
        run = services.sync_refused_retry_now(workspace=workspace, sync=sync, user=request.user)
    except services.SyncAlreadyRunning as running:
        messages.warning(
            request,
            f"“{sync.name}” is already running (run {running.run.pk}); the next run retries the refused records.",
        )
    else:
        messages.success(request, f"Run {run.pk} of “{sync.name}” queued: it retries the refused records.")
    return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=sync.pk)


@workspace_view(methods=("POST",))
def sync_refused_stop(request, workspace, sync_id):
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    stopped = services.sync_refused_stop_retrying(workspace=workspace, sync=sync)
    messages.success(
        request,
        f"Stopped retrying {stopped:,} refused record{'s' if stopped != 1 else ''}: runs skip each one until "
        "its row changes. “Retry now” retries them.",
    )
    return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=sync.pk)


@workspace_view()
def run_list(request, workspace):
    runs = selectors.run_list(workspace=workspace, page=request.GET.get("page"))
    return TemplateResponse(request, "syncs/run_list.html", {"runs": runs})


@workspace_view()
def run_detail(request, workspace, run_id):
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    counts = RunCounts.from_json(run.counts)
    filters = _record_filters(request)
    results = selectors.run_record_results_page(
        workspace=workspace, run=run, page=request.GET.get("page"), **filters
    )
    elsewhere = None
    if filters["query"] and not results.paginator.count:  # unchanged records are not kept one by one
        elsewhere = selectors.run_record_elsewhere(workspace=workspace, run=run, query=filters["query"])
    context = {"sync": run.sync, "results": results, **filters, "filtered": any(filters.values()),
               "outcomes": RecordOutcome.choices, "elsewhere": elsewhere,
               "error_summary": selectors.run_error_summary(workspace=workspace, run=run),
               "waited": run.started_at - run.created_at if run.started_at else None,
               "counts": counts, "keep_days": settings.SYNC_RECORD_RESULTS_DAYS,
               "restorable": restorable(run.sync), "creates_first": restore_creates_first(counts),
               **_progress(workspace, run)}  # fmt: skip
    return TemplateResponse(request, "syncs/run_detail.html", context)


def _record_filters(request) -> dict[str, str]:
    return {"query": request.GET.get("q", "").strip(), "outcome": request.GET.get("outcome", ""),
            "code": request.GET.get("code", "").strip()}  # fmt: skip


@workspace_view()
def sync_record(request, workspace, sync_id):
    """One record of a sync, by its key: every run that touched it (kept SYNC_RECORD_RESULTS_DAYS days),
    newest first, with the fields sent and Intercom's answer; and what the ledger says Intercom has now."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    key = request.GET.get("key", "")
    context = {"sync": sync, "key": key, "keep_days": settings.SYNC_RECORD_RESULTS_DAYS}
    if key:
        history = selectors.sync_record_history_page(
            workspace=workspace, sync=sync, key=key, page=request.GET.get("page")
        )
        describe = preview_display.payload_describer(sync)
        context |= {
            "history": history,
            "entries": [(r, describe(r["payload"]) if r["payload"] else None) for r in history],
            "ledger": selectors.sync_record_ledger(workspace=workspace, sync_id=sync.pk, key=key),
            "key_label": _key_label(sync),
        }
    return TemplateResponse(request, "syncs/sync_record.html", context)


@workspace_view()
def run_records_csv(request, workspace, run_id):
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    results = selectors.run_record_results(workspace=workspace, run=run, **_record_filters(request))
    # Key, code and message come from the warehouse and Intercom: csv_lines neutralises formulas in them.
    rows = ([r["key"], r["outcome"], r["code"], r["message"]] for r in results.iterator(chunk_size=2000))
    lines = csv_lines(["key", "outcome", "code", "message"], rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-records.csv"'
    return response


@workspace_view(methods=("POST",))
def run_restore(request, workspace, run_id):
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    try:
        restore = services.sync_run_restore(workspace=workspace, run=run, user=request.user)
    except services.NothingToRestore as nothing:
        messages.warning(request, str(nothing))
    except services.SyncAlreadyRunning as running:
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
    run = services.sync_run_cancel(
        workspace=workspace, run=selectors.run_get(workspace=workspace, run_id=run_id), user=request.user
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


def _key_label(sync) -> str:
    """What a sync's key is, in Intercom's words ("External ID", "Email", "Event ID")."""
    config = services.sync_engine_config(sync)
    return config.object.identifier(config.sync_key.identifier).label
