import json

from django.contrib import messages
from django.db.models import ProtectedError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.common.problems import Invalid
from apps.connections.models import ConnectionKind
from apps.connections.selectors import connection_get, connection_list
from apps.connections.sources.errors import QueryError, SourceError
from apps.models import selectors, services
from apps.models.dbt import selectors as dbt_selectors
from apps.models.forms import SqlModelForm
from apps.tenancy.access import workspace_view

EDITOR = "models/model_form.html"


@workspace_view()
def model_list(request, workspace):
    context = {
        "models": selectors.sql_model_list(workspace=workspace),
        "has_sources": bool(connection_list(workspace=workspace, kind=ConnectionKind.SOURCE)),
    }
    return TemplateResponse(request, "models/model_list.html", context)


def _preview(form) -> dict:
    """Run the preview of a valid form; the database's error lands on the SQL field."""
    try:
        result = services.sql_model_preview(
            workspace=form.workspace,
            source=form.cleaned_data["source"],
            sql=form.cleaned_data["sql"],
            primary_key=form.cleaned_data.get("primary_key", ""),
        )
    except SourceError as error:
        return {"preview_error": error, "preview_error_line": getattr(error, "line", None)}
    return {"preview": result}


def _editor(request, workspace, model=None):
    form = SqlModelForm(request.POST or None, workspace=workspace, model=model)
    context = {"form": form, "model": model} | _schema_browser(form)
    if model is not None and model.dbt_model is not None:
        context |= {"dbt_model": model.dbt_model, "sql": model.sql}
    elif model is None and request.method == "GET":
        context["dbt_models"] = dbt_selectors.dbt_models_to_pick(workspace=workspace)
    if request.method == "POST":
        wants_preview = request.POST.get("action") == "preview"
        if wants_preview:
            # A preview needs only the source and the SQL; the other fields may still be empty.
            form.is_valid()
            if "source" in form.cleaned_data and "sql" in form.cleaned_data:
                context |= _preview(form)
            template = f"{EDITOR}#preview" if request.htmx else EDITOR
            return TemplateResponse(request, template, context)
        if form.is_valid():
            try:
                saved = services.sql_model_save(
                    workspace=workspace,
                    user=request.user,
                    model=model,
                    allow_dropping_used_columns=form.cleaned_data["confirm_dropped_columns"],
                    **{
                        k: form.cleaned_data[k]
                        for k in ("name", "description", "source", "sql", "primary_key")
                    },
                )
            except Invalid as invalid:
                for problem in invalid.problems:
                    form.add_error(problem.subject, problem.message)
                context["confirm_drop"] = any(p.code == services.DROPS_USED_COLUMNS for p in invalid.problems)
            except QueryError as error:
                form.add_error("sql", str(error))
            except SourceError as error:
                form.add_error("sql" if "refused" in str(error).lower() else None, str(error))
            else:
                messages.success(request, f"Model “{saved.name}” saved with {len(saved.columns)} columns.")
                if warning := services.sql_model_key_check(workspace=workspace, model=saved):
                    messages.warning(request, warning)
                return redirect("model_edit", workspace_slug=workspace.slug, model_id=saved.pk)
        return TemplateResponse(request, EDITOR, context, status=422)
    return TemplateResponse(request, EDITOR, context)


def _schema_browser(form) -> dict:
    """What the editor's schema browser starts from: the source chosen (the form's, else the first), and
    each source's type, so that the page follows a change of source (model_editor.js)."""
    sources = list(form.fields["source"].queryset)
    chosen = form["source"].value()
    source = next((s for s in sources if str(s.pk) == str(chosen)), sources[0] if sources else None)
    return {
        "browser_source": source,
        "source_types": json.dumps({str(s.pk): s.type for s in sources}),
    }


@workspace_view()
def source_catalog(request, workspace, connection_id):
    """The schema browser: a source's schemas, tables and columns (``?q=`` asks the source for the names
    that contain it). A partial for htmx, a page of its own without JavaScript. A source that cannot
    answer gets its message in the browser, and the editor around it works on."""
    source = connection_get(workspace=workspace, connection_id=connection_id, kind=ConnectionKind.SOURCE)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = {"source": source, "search": request.GET.get("q", "")}
    try:
        context["catalog"] = services.source_catalog(
            workspace=workspace, source=source, search=context["search"]
        )
    except SourceError as error:
        context["catalog_error"] = error
    template = "models/catalog.html#browser" if request.htmx else "models/catalog.html"
    return TemplateResponse(request, template, context)


@workspace_view()
def model_create(request, workspace):
    return _editor(request, workspace)


@workspace_view()
def model_edit(request, workspace, model_id):
    return _editor(request, workspace, selectors.sql_model_get(workspace=workspace, model_id=model_id))


@workspace_view(methods=("POST",))
def model_delete(request, workspace, model_id):
    model = selectors.sql_model_get(workspace=workspace, model_id=model_id)
    try:
        services.sql_model_delete(workspace=workspace, model=model)
    except ProtectedError as error:  # syncs read it
        syncs = ", ".join(sorted(f"“{sync.name}”" for sync in error.protected_objects))
        messages.error(request, f"“{model.name}” is used by the syncs {syncs}: delete them first.")
        return redirect("model_edit", workspace_slug=workspace.slug, model_id=model.pk)
    messages.success(request, f"Model “{model.name}” deleted.")
    return redirect("model_list", workspace_slug=workspace.slug)
