from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.syncs import selectors, services
from apps.syncs.runs import preview_display
from apps.syncs.runs import selectors as run_selectors
from apps.syncs.runs import services as run_services
from apps.syncs.runs.views import progress_context
from apps.tenancy.access import workspace_view

DETAIL = "syncs/sync_detail.html"


@workspace_view()
def workspace_home(request, workspace):
    """The workspace's home page: the dashboard of its syncs."""
    return TemplateResponse(
        request, "syncs/workspace_home.html", selectors.home_overview(workspace=workspace)
    )


@workspace_view()
def sync_list(request, workspace):
    syncs = selectors.sync_list(workspace=workspace)
    # The empty state says what is missing for a first sync, and only what is missing.
    needs = {} if syncs else selectors.sync_prerequisites(workspace=workspace)
    return TemplateResponse(request, "syncs/sync_list.html", {"syncs": syncs, "has": needs})


@workspace_view()
def sync_detail(request, workspace, sync_id):
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    active = run_selectors.sync_active_run(workspace=workspace, sync=sync)
    expected = run_selectors.sync_expected_rows(workspace=workspace, sync=sync)  # also said by Full resync
    context = {
        "sync": sync,
        "runs": run_selectors.sync_run_history(workspace=workspace, sync=sync, page=request.GET.get("page")),
        "chart": run_selectors.sync_recent_runs_chart(workspace=workspace, sync=sync),
        "expected_rows": expected,
        "refused": selectors.sync_refused_records(workspace=workspace, sync=sync),
        **progress_context(workspace, active, expected=expected),
    }
    return TemplateResponse(request, DETAIL, context)


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
    except run_services.SyncAlreadyRunning as running:
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
def sync_record(request, workspace, sync_id):
    """One record of a sync, by its key: every run that touched it (kept SYNC_RECORD_RESULTS_DAYS days),
    newest first, with the fields sent and Intercom's answer; and what the ledger says Intercom has now."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    key = request.GET.get("key", "")
    context = {"sync": sync, "key": key, "keep_days": settings.SYNC_RECORD_RESULTS_DAYS}
    if key:
        history = run_selectors.sync_record_history_page(
            workspace=workspace, sync=sync, key=key, page=request.GET.get("page")
        )
        describe = preview_display.payload_describer(sync)
        context |= {
            "history": history,
            "entries": [(r, describe(r["payload"]) if r["payload"] else None) for r in history],
            "ledger": run_selectors.sync_record_ledger(workspace=workspace, sync_id=sync.pk, key=key),
            "key_label": _key_label(sync),
        }
    return TemplateResponse(request, "syncs/sync_record.html", context)


def _key_label(sync) -> str:
    """What a sync's key is, in Intercom's words ("External ID", "Email", "Event ID")."""
    config = sync.config
    return config.object.identifier(config.sync_key.identifier).label
