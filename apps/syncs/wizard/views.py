"""The sync wizard: four questions, then the preview, then "Run sync" or "Save and schedule".

Each step is a URL of its own (`/syncs/new/<step>/`, `/syncs/<id>/edit/<step>/`) that works as a plain
form: GET shows it, POST checks it and either shows it again with each problem next to its field, or
stores it and redirects to the next step. With htmx the form posts in place: a problem swaps only the
step (`sync_wizard.html#step`), a success sends the browser to the next step.

What was entered lives in the session, one draft per workspace and sync ("new" for a sync being created):
the preview needs all four steps at once, and a draft there lets Back and the step links be plain links
that lose nothing (hidden fields would have to carry every step through every page). Nothing is saved to
the database before "Run sync" / "Save and schedule", and then only through `services.sync_save`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from apps.common.problems import Invalid
from apps.connections.intercom import attributes as intercom_attributes
from apps.connections.intercom.catalog import BEHAVIOR_LABELS, OBJECTS
from apps.syncs import selectors, services
from apps.syncs.models import RunTrigger, Sync, SyncPreviewRun
from apps.syncs.runs import preview_runs
from apps.syncs.runs import services as run_services
from apps.syncs.runs.views import preview_block
from apps.syncs.wizard import mapper
from apps.syncs.wizard.forms import (
    IDENTIFIER_LABELS,
    AttributeInlineForm,
    BehaviorStepForm,
    DataStepForm,
    DestinationStepForm,
    FieldsStep,
    fields_data,
)
from apps.tenancy.access import workspace_view
from apps.tenancy.models import Role

TEMPLATE = "syncs/sync_wizard.html"


@dataclass(frozen=True)
class Step:
    key: str
    question: str
    short: str


STEPS = (
    Step("data", "What data do you want to sync?", "Data"),
    Step("destination", "Where do you want to sync data to?", "Destination"),
    Step("behavior", "How should changes to the source be synced?", "Behavior"),
    Step("fields", "Which fields should be updated?", "Fields"),
    Step("preview", "Preview: what the sync will do", "Preview"),
)
STEP_KEYS = [s.key for s in STEPS]


def fields_question(obj, behavior: str) -> str:
    """Step 4's question, as the object and behavior make it."""
    if obj.key == "event":
        return "What should each event say?"
    if behavior == "delete":
        return "How should the records be deleted?"
    return STEPS[3].question


class Draft:
    """The wizard's answers so far, in the session: step → the step's inputs (name → list of values)."""

    def __init__(self, request, workspace, sync: Sync | None):
        self.session = request.session
        self.key = f"sync-wizard:{workspace.pk}:{sync.pk if sync else 'new'}"

    def get(self, step: str) -> QueryDict | None:
        stored = self.session.get(self.key, {}).get(step)
        if stored is None:
            return None
        data = QueryDict(mutable=True)
        for name, values in stored.items():
            data.setlist(name, values)
        return data

    def put(self, step: str, data: QueryDict) -> None:
        inputs = {k: data.getlist(k) for k in data if k not in ("csrfmiddlewaretoken", "action")}
        self.session[self.key] = self.session.get(self.key, {}) | {step: inputs}

    def reset(self, steps: dict[str, dict[str, list[str]]] | None = None) -> None:
        self.session[self.key] = steps or {}


def _url(workspace, sync, step):
    if sync is None:
        return reverse("sync_create_step", args=[workspace.slug, step])
    return reverse("sync_edit_step", args=[workspace.slug, sync.pk, step])


@workspace_view(read_role=Role.EDITOR)
def sync_create(request, workspace):
    """ "New sync" starts an empty draft."""
    Draft(request, workspace, None).reset()
    return redirect(_url(workspace, None, "data"))


@workspace_view(read_role=Role.EDITOR)
def sync_edit(request, workspace, sync_id):
    """Editing starts a draft from the saved sync, at its first step that no longer holds (a column the
    model lost, say), else at the fields."""
    sync = selectors.sync_get(workspace=workspace, sync_id=sync_id)
    Draft(request, workspace, sync).reset({
        "data": {"source": [str(sync.model.source_id)], "model": [str(sync.model_id)]},
        "destination": {"destination": [str(sync.destination_id)], "object_key": [sync.object_key]},
        "behavior": {"behavior": [sync.behavior], "key_identifier": [sync.key_identifier],
                     "key_column": [sync.key_column]},
        "fields": fields_data(sync),
    })  # fmt: skip
    wizard = Wizard(request, workspace, sync, cached_attributes=True)
    return redirect(_url(workspace, sync, wizard.first_open("preview") or "fields"))


@workspace_view(read_role=Role.EDITOR)
def sync_create_step(request, workspace, step):
    return _step(request, workspace, None, step)


@workspace_view(read_role=Role.EDITOR)
def sync_edit_step(request, workspace, sync_id, step):
    return _step(request, workspace, selectors.sync_get(workspace=workspace, sync_id=sync_id), step)


class Wizard:
    """The draft's steps as forms, each built from the answers of the steps before it."""

    def __init__(self, request, workspace, sync, *, cached_attributes=False, refresh_attributes=False):
        self.request, self.workspace, self.sync = request, workspace, sync
        self.draft = Draft(request, workspace, sync)
        self.cached_attributes, self.refresh_attributes = cached_attributes, refresh_attributes
        self.attributes_error = ""
        self.chosen: dict = {}

    def form(self, step: str, data):
        """The step's form, bound to `data` (None: unbound, with the recommended initial values)."""
        ws, chosen = self.workspace, self.chosen
        if step == "data":
            return DataStepForm(data, workspace=ws)
        if step == "destination":
            return DestinationStepForm(data, workspace=ws, model=chosen["model"])
        if step == "behavior":
            obj, model = OBJECTS[chosen["object_key"]], chosen["model"]
            return BehaviorStepForm(
                data, obj=obj, model=model, initial=BehaviorStepForm.initial_for(obj, model)
            )
        return FieldsStep(
            data,
            workspace=ws,
            sync=self.sync,
            model=chosen["model"],
            obj=OBJECTS[chosen["object_key"]],
            behavior=chosen["behavior"],
            key_identifier=chosen["key_identifier"],
            key_column=chosen["key_column"],
            attributes=self.attributes(),
        )

    def attributes(self):
        destination = self.chosen["destination"]
        if self.cached_attributes:
            return intercom_attributes.attribute_list_cached(destination)
        try:
            return intercom_attributes.attribute_list(destination, refresh=self.refresh_attributes)
        except intercom_attributes.AttributesUnavailable as error:
            self.attributes_error = str(error)
            return intercom_attributes.attribute_list_cached(destination)

    def accept(self, step: str, form) -> None:
        """Record what a valid step chose, for the steps after it."""
        if step == "fields":
            self.chosen |= {
                "name": form.name_form.cleaned_data["name"],
                "mappings": form.mappings(),
                "options": form.sync_options(),
            }
        else:
            self.chosen |= form.cleaned_data

    def first_open(self, upto: str) -> str | None:
        """The first stored step before `upto` that is missing or no longer holds (None: all hold); the
        answers of those that hold are kept in `chosen`."""
        for step in STEP_KEYS[: STEP_KEYS.index(upto)]:
            form = self.form(step, self.draft.get(step))
            if not form.is_valid():
                return step
            self.accept(step, form)
        return None


def _step(request, workspace, sync, step):
    if step not in STEP_KEYS:
        raise Http404("No such step.")
    action = request.POST.get("action", "next")
    wizard = Wizard(request, workspace, sync, refresh_attributes=action == "refresh_attributes")
    open_step = wizard.first_open(step)
    if open_step is not None:  # an earlier step is missing or no longer holds: answer it first
        if request.method == "POST" and action == "back":
            wizard.draft.put(step, request.POST)
        return _go(request, _url(workspace, sync, open_step))
    if step == "preview":
        return _preview(request, workspace, sync, wizard)

    index = STEP_KEYS.index(step)
    if request.method == "POST" and action == "back":  # keep what was typed, unchecked, and go back
        wizard.draft.put(step, request.POST)
        return _go(request, _url(workspace, sync, STEP_KEYS[index - 1]))
    context: dict = {}
    if request.method == "POST":
        data = request.POST
        if step == "fields" and action != "next":
            data, context = _mapper_action(wizard, action, data)
        form = wizard.form(step, data)
        for index, message in context.pop("row_errors", {}).items():
            for row in form.rows:
                if row.index == index:
                    row.error = message
        if action == "next":
            valid = form.is_valid()
            if step == "fields" and form.options.is_valid():
                # The engine's checks too, so every problem of the mapper shows at once.
                _check_with_engine(wizard, form)
                valid = valid and not form.has_errors
            if valid:
                wizard.draft.put(step, data)
                return _go(request, _url(workspace, sync, STEP_KEYS[index + 1]))
        # A refused step answers 422, which htmx swaps in too (base.html's htmx-config); other actions
        # (adding a mapping, accepting a suggestion, creating an attribute) redraw the step.
        status = 422 if action == "next" else 200
    else:
        data = wizard.draft.get(step)
        form = wizard.form(step, data)
        if data is not None:
            form.is_valid()  # a stored answer shows its problems at once (an edited sync's lost column)
        status = 200
    context |= {"form": form, "attributes_error": wizard.attributes_error}
    return _render(request, workspace, sync, step, wizard, context, status)


def _check_with_engine(wizard, fields: FieldsStep) -> None:
    """The service's own checks of the whole configuration, each placed next to what it concerns."""
    chosen = wizard.chosen
    config = services.engine_config(
        object_key=chosen["object_key"],
        behavior=chosen["behavior"],
        key_column=chosen["key_column"],
        key_identifier=chosen["key_identifier"],
        mappings=fields.mappings(),
        options=fields.sync_options(),
    )
    problems = services.sync_config_problems(
        model=chosen["model"], destination=chosen["destination"], config=config
    )
    fields.place_problems(problems)


def _mapper_action(wizard, action: str, data) -> tuple[QueryDict, dict]:
    """What one of the mapper's buttons does to the posted data (the rows are rebuilt from the result);
    and what to say about it."""
    verb, _, argument = action.partition(":")
    index = int(argument) if argument.isdigit() else -1
    context: dict = {}
    if verb == "add_mapping":
        data, added = mapper.with_row(data)
        context["focus_row"] = added
    elif verb == "remove":
        data = mapper.without_row(data, index)
    elif verb in ("accept", "accept_all"):
        form = wizard.form("fields", data)
        accepted = form.suggestions if verb == "accept_all" else [form.suggestion(argument)]
        for suggestion in filter(None, accepted):
            if suggestion.target is None:
                data = mapper.with_option(data, "company_id_column", suggestion.column)
            else:
                target = suggestion.target.slug
                data, _ = mapper.with_row(data, column=suggestion.column, target=target, fill_blank=True)
    elif verb == "create_for":
        data, context = _create_for_row(wizard, data, index)
    elif verb == "create_attribute":
        data, context = _create_attribute(wizard, data)
    elif verb == "add_metadata":
        data, added = mapper.with_metadata(data)
        context["focus_meta"] = added
    elif verb == "remove_meta":
        data = mapper.without_metadata(data, index)
    return data, context


def _create_in_intercom(wizard, *, name: str, data_type: str) -> str:
    """Create the custom attribute on the object's attribute model; "" or why Intercom did not."""
    try:
        intercom_attributes.attribute_create(
            wizard.chosen["destination"],
            name=name,
            model=OBJECTS[wizard.chosen["object_key"]].attribute_model,
            data_type=data_type,
        )
    except intercom_attributes.AttributesUnavailable as error:
        return str(error)
    wizard.attributes_error = ""
    return ""


def _create_for_row(wizard, data, index: int) -> tuple[QueryDict, dict]:
    """ "Create a custom attribute for this column": named after the row's column, of the type its kind
    says, and mapped on that row at once (an attribute of that name that exists is mapped instead)."""
    form = wizard.form("fields", data)
    row = next((r for r in form.rows if r.index == index), None)
    if row is None or not row.column or row.column not in form.columns:
        return data, {"row_errors": {index: "Choose the model column first: the attribute takes its name."}}
    existing = next((t for t in form.custom_targets if t.name.lower() == row.column.lower()), None)
    if existing is not None:
        message = f"Custom attribute “{existing.name}” exists already: mapped to “{row.column}”."
        return mapper.with_target(data, index, existing.slug), {"created_attribute": message}
    type_label = mapper.CREATED_TYPE_LABELS[row.created_type]
    if refused := _create_in_intercom(wizard, name=row.column, data_type=row.created_type):
        return data, {"row_errors": {index: refused}}
    message = (
        f"Custom attribute “{row.column}” ({type_label}) created in Intercom and mapped to “{row.column}”."
    )
    target = mapper.slug_of(custom=True, name=row.column)
    return mapper.with_target(data, index, target), {"created_attribute": message}


def _create_attribute(wizard, data) -> tuple[QueryDict, dict]:
    """ "Create a custom attribute" with a name and type of the user's; mapped to the column given, if any."""
    inline = AttributeInlineForm(data, columns=wizard.chosen["model"].columns)
    context = {"inline": inline}
    if not inline.is_valid():
        return data, context
    name = inline.cleaned_data["new_attribute_name"].strip()
    if not name:
        inline.add_error("new_attribute_name", "Give the new attribute a name.")
        return data, context
    if refused := _create_in_intercom(wizard, name=name, data_type=inline.cleaned_data["new_attribute_type"]):
        inline.add_error("new_attribute_name", refused)
        return data, context
    column = inline.cleaned_data["new_attribute_column"]
    if column:
        data, _ = mapper.with_row(
            data, column=column, target=mapper.slug_of(custom=True, name=name), fill_blank=True
        )
        message = f"Custom attribute “{name}” created in Intercom and mapped to “{column}”."
    else:
        message = f"Custom attribute “{name}” created in Intercom: map it below."
    fresh = AttributeInlineForm(columns=wizard.chosen["model"].columns)
    return mapper.without_inline(data), {"inline": fresh, "created_attribute": message}


def _go(request, url):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render(request, workspace, sync, step, wizard, context, status=200):
    chosen = wizard.chosen
    index = STEP_KEYS.index(step)
    context |= {
        "step": STEPS[index],
        "steps": [(s, _url(workspace, sync, s.key), i < index) for i, s in enumerate(STEPS)],
        "back_url": _url(workspace, sync, STEP_KEYS[index - 1]) if index else None,
        "cancel_url": reverse("sync_detail", args=[workspace.slug, sync.pk])
        if sync
        else reverse("sync_list", args=[workspace.slug]),
        "sync": sync,
        "chosen": chosen,
        "object": OBJECTS.get(chosen.get("object_key", "")),
        "behavior_label": BEHAVIOR_LABELS.get(chosen.get("behavior", "")),
        "identifier_label": IDENTIFIER_LABELS.get(chosen.get("key_identifier", "")),
    }
    if step == "fields":
        context.setdefault("inline", AttributeInlineForm(columns=chosen["model"].columns))
        context["step"] = Step(
            step, fields_question(OBJECTS[chosen["object_key"]], chosen["behavior"]), "Fields"
        )
    template = f"{TEMPLATE}#step" if request.htmx else TEMPLATE
    return TemplateResponse(request, template, context, status=status)


def _draft_sync(workspace, sync, chosen) -> Sync:
    """An unsaved Sync of the draft (for an edited sync, with its id, so the preview diffs its ledger)."""
    return Sync(
        pk=sync.pk if sync else None,
        workspace=workspace,
        name=chosen["name"],
        model=chosen["model"],
        destination=chosen["destination"],
        object_key=chosen["object_key"],
        behavior=chosen["behavior"],
        key_column=chosen["key_column"],
        key_identifier=chosen["key_identifier"],
        mappings=chosen["mappings"],
        options=chosen["options"],
    )


def _preview(request, workspace, sync, wizard):
    chosen, action = wizard.chosen, request.POST.get("action")
    if request.method == "POST" and action == "back":
        return _go(request, _url(workspace, sync, "fields"))
    problems: list[str] = []
    if request.method == "POST" and action in ("run", "schedule"):
        try:
            saved = services.sync_save(
                workspace=workspace,
                user=request.user,
                sync=sync,
                name=chosen["name"],
                model=chosen["model"],
                destination=chosen["destination"],
                object_key=chosen["object_key"],
                behavior=chosen["behavior"],
                key_column=chosen["key_column"],
                key_identifier=chosen["key_identifier"],
                mappings=chosen["mappings"],
                options=chosen["options"],
            )
        except Invalid as invalid:
            problems = invalid.messages
        else:
            wizard.draft.reset()
            return _go(request, _saved(request, workspace, saved, run=action == "run"))
    draft = _draft_sync(workspace, sync, chosen)
    preview_run = _draft_preview(request, workspace, draft)
    if preview_run is None:  # planned by a worker; this page's own address then shows it as it stands
        preview_run = preview_runs.preview_start(
            workspace=workspace, user=request.user, sync=draft, from_wizard=True
        )
        if request.method == "GET":
            return redirect(f"{_url(workspace, sync, 'preview')}?preview={preview_run.pk}")
    context = {"draft": draft, "problems": problems} | preview_block(request, preview_run, sync=draft)
    return _render(request, workspace, sync, "preview", wizard, context, status=422 if problems else 200)


def _draft_preview(request, workspace, draft: Sync):
    """The preview `?preview=` names, when it is this user's preview of this very draft (a draft changed
    since needs a new one)."""
    preview_id = request.GET.get("preview", "")
    if not preview_id.isdigit():
        return None
    try:
        preview_run = preview_runs.preview_get(
            workspace=workspace, user=request.user, preview_id=int(preview_id)
        )
    except SyncPreviewRun.DoesNotExist:
        return None
    config = preview_runs.preview_config(draft)
    if not preview_run.from_wizard or preview_run.sync_id != draft.pk or preview_run.config != config:
        return None
    return preview_run


def _saved(request, workspace, sync, *, run: bool) -> str:
    """Start the run when asked; the URL to go to next."""
    detail = reverse("sync_detail", args=[workspace.slug, sync.pk])
    if not run:
        messages.success(request, f"Sync “{sync.name}” saved. Choose when it runs.")
        return reverse("sync_schedule", args=[workspace.slug, sync.pk])
    try:
        started = run_services.sync_run_start(
            workspace=workspace, sync=sync, trigger=RunTrigger.MANUAL, user=request.user
        )
    except run_services.SyncAlreadyRunning as running:
        messages.warning(request, f"Sync “{sync.name}” saved; run {running.run.pk} is still in progress.")
    else:
        messages.success(request, f"Sync “{sync.name}” saved; run {started.pk} queued.")
    return detail
