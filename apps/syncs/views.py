import csv

from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.connections.intercom import attributes as intercom_attributes
from apps.connections.intercom.catalog import BEHAVIOR_LABELS, OBJECTS
from apps.syncs import selectors, services
from apps.syncs.execution import sync_preview as plan_preview
from apps.syncs.forms import (
    AttributeInlineForm,
    SyncOptionsForm,
    SyncSetupForm,
    carried_mapper_fields,
    mapper_rows,
    options_initial,
)
from apps.syncs.models import RecordOutcome, RunTrigger
from apps.tenancy.access import workspace_view

EDITOR = "syncs/sync_form.html"
DETAIL = "syncs/sync_detail.html"

# Engine problems about the options, by the words that identify them → the option field they concern.
OPTION_PROBLEMS = (
    ("event name", "event_name"),
    ("event time", "created_at_column"),
    ("the contact", "contact_column"),
    ("metadata", "metadata_columns"),
    ("Company ID", "company_id_column"),
    ("Permanent", "permanent_delete"),
)


@workspace_view()
def sync_list(request, workspace):
    return TemplateResponse(
        request, "syncs/sync_list.html", {"syncs": selectors.sync_list(workspace=workspace)}
    )


@workspace_view()
def sync_create(request, workspace):
    return _editor(request, workspace)


@workspace_view()
def sync_edit(request, workspace, sync_id):
    return _editor(request, workspace, selectors.sync_get(workspace=workspace, sync_id=sync_id))


def _step_one(request, setup, sync, *, status=200):
    context = {"step": 1, "setup": setup, "sync": sync, "carried": carried_mapper_fields(request.POST),
               "behavior_notes": BEHAVIOR_NOTES, "objects": OBJECTS}  # fmt: skip
    return TemplateResponse(request, EDITOR, context, status=status)


BEHAVIOR_NOTES = {
    "upsert": "creates records Intercom does not have and updates the ones that changed.",
    "update_only": "a safe start: it updates records Intercom already has and never creates any.",
    "delete": "archives (contacts) or deletes (companies) the records the model lists.",
    "send": "sends each row once as an event.",
}


def _editor(request, workspace, sync=None):
    """Step 1 (what goes where), then step 2 (the mapper and options), then save; see forms.py."""
    if request.method != "POST":
        return _step_one(request, SyncSetupForm(workspace=workspace, sync=sync), sync)
    action = request.POST.get("action", "next")
    if action == "back":  # step 1 again with what was typed, without complaining about it yet
        return _step_one(
            request, SyncSetupForm(initial=request.POST.dict(), workspace=workspace, sync=sync), sync
        )
    setup = SyncSetupForm(request.POST, workspace=workspace, sync=sync)
    if not setup.is_valid():
        return _step_one(request, setup, sync, status=422)

    chosen = setup.cleaned_data
    obj, destination, model = OBJECTS[chosen["object_key"]], chosen["destination"], chosen["model"]
    from_post = request.POST.get("mapper") == "1"
    context = {"step": 2, "setup": setup, "sync": sync, "object": obj, "model": model,
               "behavior_label": BEHAVIOR_LABELS[chosen["behavior"]], "problems": []}  # fmt: skip

    inline = AttributeInlineForm(request.POST if action == "create_attribute" else None)
    if action == "create_attribute" and inline.is_valid():
        name = inline.cleaned_data["new_attribute_name"].strip()
        if not name:
            inline.add_error("new_attribute_name", "Give the new attribute a name.")
        else:
            try:
                created = intercom_attributes.attribute_create(
                    destination, name=name, model=obj.attribute_model,
                    data_type=inline.cleaned_data["new_attribute_type"],
                )  # fmt: skip
            except intercom_attributes.AttributesUnavailable as error:
                inline.add_error("new_attribute_name", str(error))
            else:
                messages.success(
                    request, f"Custom attribute “{created.name}” created in Intercom: map it below."
                )
                inline = AttributeInlineForm()
    try:
        attributes = intercom_attributes.attribute_list(destination, refresh=action == "refresh_attributes")
    except intercom_attributes.AttributesUnavailable as error:
        attributes = intercom_attributes.attribute_list_cached(destination)
        context["attributes_error"] = str(error)

    same_object = sync is not None and sync.object_key == obj.key
    rows = mapper_rows(
        object_key=obj.key,
        key_identifier=chosen["key_identifier"],
        attributes=attributes,
        mappings=sync.mappings if same_object and not from_post else None,
        data=request.POST if from_post else None,
    )
    options = SyncOptionsForm(
        request.POST if from_post else None,
        initial=options_initial(sync.options) if sync is not None else None,
        columns=model.columns,
        sync_name=chosen["name"],
    )
    context |= {"rows": rows, "options": options, "inline": inline}
    behavior = chosen["behavior"]
    if action == "save":
        if options.is_valid() and not any(row.error for row in rows):
            try:
                saved = services.sync_save(
                    workspace=workspace, user=request.user, sync=sync, name=chosen["name"], model=model,
                    destination=destination, object_key=obj.key, behavior=behavior,
                    key_column=chosen["key_column"], key_identifier=chosen["key_identifier"],
                    mappings=[row.as_mapping() for row in rows if row.mapped],
                    options=options.options_for(object_key=obj.key, behavior=behavior),
                )  # fmt: skip
            except services.SyncInvalid as invalid:
                context["problems"] = _place_problems(invalid.problems, rows, options)
            else:
                messages.success(request, f"Sync “{saved.name}” saved. Preview it, then run it.")
                return redirect("sync_detail", workspace_slug=workspace.slug, sync_id=saved.pk)
        return TemplateResponse(request, EDITOR, context, status=422)
    return TemplateResponse(request, EDITOR, context)


def _concerns(problem: str, row) -> bool:
    if problem.startswith(f"constant for {row.target}:"):  # a constant that cannot be coerced
        return bool(row.constant)
    return f"“{row.target}”" in problem and ("custom attribute" in problem) == row.custom


def _place_problems(problems, rows, options) -> list[str]:
    """Each problem next to the row or option it concerns; the rest are shown at the top."""
    unplaced = []
    for problem in problems:
        row = next((r for r in rows if _concerns(problem, r)), None)
        if row is not None:
            row.error = f"{row.error} {problem}".strip()
            continue
        field = next((f for words, f in OPTION_PROBLEMS if words in problem), None)
        if field is not None:
            options.add_error(field, problem)
        else:
            unplaced.append(problem)
    return unplaced


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
    read = int((run.counts or {}).get("source_rows", 0))
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


PREVIEW_OPERATIONS = [("created", "to create"), ("updated", "to update"), ("unchanged", "unchanged"),
                      ("archived", "to archive"), ("deleted", "to delete"), ("sent", "to send"),
                      ("skipped", "to skip"), ("invalid", "invalid")]  # fmt: skip
# The operations a behavior can plan (others are shown only when they are not zero).
BEHAVIOR_OPERATIONS = {
    "upsert": {"created", "updated", "unchanged", "invalid"},
    "update_only": {"updated", "unchanged", "invalid"},
    "delete": {"archived", "deleted", "unchanged", "invalid"},
    "send": {"sent", "skipped", "unchanged", "invalid"},
}
SAMPLED_OPERATIONS = [("created", "Records to create"), ("updated", "Records to update"),
                      ("archived", "Records to archive"), ("deleted", "Records to delete"),
                      ("sent", "Events to send")]  # fmt: skip


@workspace_view()
def sync_preview(request, workspace, sync_id):
    """The recap before a run: what it would do now. Sends nothing to Intercom, changes no ledger row."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    full_resync = request.GET.get("full_resync") == "1"
    preview = plan_preview(workspace=workspace, sync=sync, full_resync=full_resync)
    samples = [
        {"outcome": outcome, "label": label, "records": preview.samples[outcome]}
        for outcome, label in SAMPLED_OPERATIONS
        if preview.samples.get(outcome)
    ]
    shown = BEHAVIOR_OPERATIONS[sync.behavior]
    operations = [
        (key, label) for key, label in PREVIEW_OPERATIONS if key in shown or preview.counts.get(key)
    ]
    context = {"sync": sync, "preview": preview, "full_resync": full_resync, "operations": operations,
               "samples": samples, "active_run": selectors.sync_active_run(workspace=workspace, sync=sync)}  # fmt: skip
    return TemplateResponse(request, "syncs/sync_preview.html", context)


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


@workspace_view()
def run_list(request, workspace):
    runs = selectors.run_list(workspace=workspace, page=request.GET.get("page"))
    return TemplateResponse(request, "syncs/run_list.html", {"runs": runs})


RUN_COUNTS = [("source_rows", "rows read"), ("created", "created"), ("updated", "updated"),
              ("unchanged", "unchanged"), ("archived", "archived"), ("deleted", "deleted"), ("sent", "sent"),
              ("skipped", "skipped"), ("rejected", "rejected"), ("invalid", "invalid")]  # fmt: skip


@workspace_view()
def run_detail(request, workspace, run_id):
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    filters = _record_filters(request)
    results = selectors.run_record_results_page(
        workspace=workspace, run=run, page=request.GET.get("page"), **filters
    )
    context = {"sync": run.sync, "results": results, **filters, "filtered": any(filters.values()),
               "outcomes": [(RecordOutcome.REJECTED, "Rejected"), (RecordOutcome.INVALID, "Invalid")],
               "error_summary": selectors.run_error_summary(workspace=workspace, run=run),
               "waited": run.started_at - run.created_at if run.started_at else None,
               "count_labels": RUN_COUNTS, "keep_days": settings.SYNC_RECORD_RESULTS_DAYS,
               **_progress(workspace, run)}  # fmt: skip
    return TemplateResponse(request, "syncs/run_detail.html", context)


def _record_filters(request) -> dict[str, str]:
    return {"query": request.GET.get("q", "").strip(), "outcome": request.GET.get("outcome", ""),
            "code": request.GET.get("code", "").strip()}  # fmt: skip


class _Echo:
    def write(self, value):
        return value


@workspace_view()
def run_records_csv(request, workspace, run_id):
    run = selectors.run_get(workspace=workspace, run_id=run_id)
    results = selectors.run_record_results(workspace=workspace, run=run, **_record_filters(request))
    writer = csv.writer(_Echo())
    rows = (
        writer.writerow([r["key"], r["outcome"], r["code"], r["message"]])
        for r in results.iterator(chunk_size=2000)
    )
    header = writer.writerow(["key", "outcome", "code", "message"])
    response = StreamingHttpResponse(_chain(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-records.csv"'
    return response


def _chain(first, rest):
    yield first
    yield from rest


@workspace_view(methods=("POST",))
def run_cancel(request, workspace, run_id):
    run = services.sync_run_cancel(
        workspace=workspace, run=selectors.run_get(workspace=workspace, run_id=run_id)
    )
    if run.is_active:
        messages.success(request, "Cancelling: the run stops after the records in flight.")
    else:
        messages.success(request, f"Run {run.pk} is {run.get_status_display().lower()}.")
    return redirect("run_detail", workspace_slug=workspace.slug, run_id=run.pk)
