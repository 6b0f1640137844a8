"""The schedule page of a sync: its own URL, so the sync editor's "Save and schedule" can lead to it."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from apps.syncs import selectors
from apps.syncs.schedules import services as scheduling
from apps.syncs.schedules.compute import KIND_FIELDS, Schedule, ScheduleKind, format_run_time
from apps.syncs.schedules.forms import ScheduleForm
from apps.syncs.templatetags.schedule_tags import next_run_label
from apps.tenancy.access import workspace_view

PAGE = "syncs/sync_schedule.html"
PREVIEW_RUNS = 3
SETTINGS = ("every_minutes", "minute", "weekday", "at", "cron", "after", "timezone")  # in the page's order


@workspace_view()
def sync_schedule(request, workspace, sync_id):
    """GET: the form (viewers: the schedule, read-only). POST: save; `action=preview` (htmx, as the form
    changes) only answers the next run times, or what is wrong."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    form = ScheduleForm(
        request.POST if request.method == "POST" else None,
        workspace=workspace,
        sync=sync,
        default_time_zone=workspace.time_zone,  # Settings → General
    )
    settings = [
        (form[name], " ".join(k for k, used in KIND_FIELDS.items() if name in used)) for name in SETTINGS
    ]
    context = {"sync": sync, "form": form, "settings": settings}
    if request.method != "POST":
        return TemplateResponse(request, PAGE, context | _preview(sync.schedule, sync.schedule_after))

    problems = {}
    if form.is_valid():
        schedule, after = form.schedule(), form.cleaned_data.get("after")
        problems = scheduling.schedule_problems(
            workspace=workspace, sync=sync, schedule=schedule, after=after
        )
    if request.POST.get("action") == "preview":
        if form.is_valid() and not problems:
            preview = _preview(schedule, after)
        else:  # the fields are not marked while typing: say what is wrong here
            found = {name: " ".join(errors) for name, errors in form.errors.items() if name in form.fields}
            found |= problems
            # A setting not typed yet (just chose "Cron expression") is not a mistake: ask for it instead.
            blank = [n for n in found if n in form.fields and not request.POST.get(n, "").strip()]
            if len(blank) == len(found):
                preview = {"preview_waiting": [form.fields[name].label for name in blank]}
            else:
                preview = {
                    "preview_problems": [
                        (form.fields[name].label, message)
                        for name, message in found.items()
                        if name not in blank
                    ]
                }
        return TemplateResponse(request, f"{PAGE}#preview", context | preview)
    if form.is_valid() and not problems:
        sync = scheduling.sync_schedule_set(workspace=workspace, sync=sync, schedule=schedule, after=after)
        messages.success(request, _saved_message(sync))
        url = reverse("sync_detail", args=[workspace.slug, sync.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    for field, message in problems.items():
        form.add_error(field, message)
    template = f"{PAGE}#form" if request.htmx else PAGE
    return TemplateResponse(request, template, context | {"preview_problem": True}, status=422)


def _preview(schedule: Schedule, after) -> dict:
    """What the preview block shows: the next few run times."""
    if schedule.kind in (ScheduleKind.MANUAL, ScheduleKind.AFTER_SYNC):
        return {"preview_kind": schedule.kind, "preview_after": after}
    now = timezone.now()
    runs = [moment for moment, _ in zip(schedule.runs_after(now), range(PREVIEW_RUNS), strict=False)]
    return {
        "preview_kind": schedule.kind,
        "preview_runs": [format_run_time(r, schedule.timezone, now=now) for r in runs],
    }


def _saved_message(sync) -> str:
    if sync.next_run_at is not None:
        return (
            f"Schedule saved: “{sync.name}” runs {sync.schedule.describe()[:1].lower()}"
            f"{sync.schedule.describe()[1:]}. Next run: {next_run_label(sync)}."
            + (" The sync is paused: resume it to run on this schedule." if sync.paused else "")
        )
    if sync.schedule_kind == ScheduleKind.AFTER_SYNC:
        return f"Schedule saved: “{sync.name}” runs each time “{sync.schedule_after.name}” ends succeeded."
    return f"Schedule saved: “{sync.name}” runs only when started by hand."
