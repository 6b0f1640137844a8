from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from apps.common.hosting import shared_hosting
from apps.common.problems import Invalid
from apps.connections.sources.errors import SourceError
from apps.models.dbt import selectors, services
from apps.models.dbt.forms import DbtModelUseForm, ManifestForm
from apps.tenancy.access import workspace_view

PAGE = "models/dbt_projects.html"


def _page(request, workspace, form=None, status=200):
    context = {
        "form": form or ManifestForm(workspace=workspace),
        "warehouses": selectors.dbt_project_list(workspace=workspace),
        "team_hosting": not shared_hosting(),
    }
    template = f"{PAGE}#load" if request.htmx and form is not None else PAGE
    return TemplateResponse(request, template, context, status=status)


@workspace_view()
def dbt_projects(request, workspace):
    return _page(request, workspace)


def _loaded(request, workspace, result: services.LoadResult):
    # Models gone from the project stop their syncs: that is news to act on, not a plain success.
    (messages.warning if result.missing else messages.success)(request, result.summary)
    url = reverse("dbt_projects", args=[workspace.slug])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@workspace_view(methods=("POST",))
def dbt_manifest_load(request, workspace):
    form = ManifestForm(request.POST, request.FILES, workspace=workspace)
    if form.is_valid():
        source, upload = form.cleaned_data["source"], form.cleaned_data["manifest"]
        try:
            if upload:
                result = services.dbt_manifest_upload(
                    workspace=workspace, user=request.user, source=source, content=upload.read()
                )
            else:
                result = services.dbt_manifest_read_path(
                    workspace=workspace, user=request.user, source=source, path=form.cleaned_data["path"]
                )
        except Invalid as invalid:
            for problem in invalid.problems:
                form.add_error(problem.subject if problem.subject in form.fields else None, problem.message)
        else:
            return _loaded(request, workspace, result)
    return _page(request, workspace, form, status=422)


@workspace_view(methods=("POST",))
def dbt_project_reload(request, workspace, dbt_project_id):
    project = selectors.dbt_project_get(workspace=workspace, project_id=dbt_project_id)
    try:
        result = services.dbt_manifest_reload(workspace=workspace, user=request.user, project=project)
    except Invalid as invalid:
        messages.error(request, f"The manifest of “{project}” was not reloaded: {invalid}")
        return redirect("dbt_projects", workspace_slug=workspace.slug)
    return _loaded(request, workspace, result)


@workspace_view()
def dbt_model_use(request, workspace, dbt_model_id):
    dbt_model = selectors.dbt_model_get(workspace=workspace, dbt_model_id=dbt_model_id)
    form = DbtModelUseForm(request.POST or None, workspace=workspace, dbt_model=dbt_model)
    context = {"form": form, "dbt_model": dbt_model, "sql": services.dbt_model_select(dbt_model)}
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.dbt_model_use(
                    workspace=workspace, user=request.user, dbt_model=dbt_model, **form.cleaned_data
                )
            except Invalid as invalid:
                for problem in invalid.problems:
                    form.add_error(
                        problem.subject if problem.subject in form.fields else None, problem.message
                    )
            except SourceError as error:
                form.add_error(
                    None, f"The warehouse could not read the relation of {dbt_model.name}: {error}"
                )
            else:
                messages.success(
                    request,
                    f"Model “{saved.name}” reads the dbt model {dbt_model.name} ({len(saved.columns)} columns).",
                )
                return redirect("model_edit", workspace_slug=workspace.slug, model_id=saved.pk)
        return TemplateResponse(request, "models/dbt_model_use.html", context, status=422)
    return TemplateResponse(request, "models/dbt_model_use.html", context)
