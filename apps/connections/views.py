from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.common.problems import Invalid
from apps.connections import duckdb_files, selectors, services
from apps.connections.forms import SourceConnectionForm, field_for_error
from apps.connections.models import ConnectionKind
from apps.connections.sources.errors import SourceError
from apps.connections.sources.registry import SOURCE_TYPES
from apps.tenancy.access import workspace_view


@workspace_view()
def connection_list(request, workspace):
    connections = selectors.connection_list(workspace=workspace)
    context = {
        "sources": [c for c in connections if c.kind == ConnectionKind.SOURCE],
        "destinations": [c for c in connections if c.kind == ConnectionKind.DESTINATION],
        "source_types": SOURCE_TYPES.values(),
    }
    return TemplateResponse(request, "connections/connection_list.html", context)


def _save_source(request, workspace, form, connection=None):
    """Test the submitted values, then save; a failed test keeps everything typed and says why, next to
    the field it concerns, unless the user chose to save anyway."""
    try:
        values = services.source_values_with_kept_secrets(connection, form.config_values())
    except Invalid as needed:  # nothing was sent anywhere
        for problem in needed.problems:
            form.add_error(problem.subject, problem.message)
        return None
    upload = form.cleaned_data.get("upload")
    if upload:  # DuckDB: the file goes into the workspace's own folder; the connection reads it by name
        values["path"] = duckdb_files.duckdb_upload_save(workspace_id=workspace.pk, upload=upload)
    tested, test_error = None, ""
    try:
        tested = services.source_check(workspace=workspace, type_key=form.type_key, values=values)
    except SourceError as error:
        test_error = str(error)
        if not form.cleaned_data["save_untested"]:
            if upload:
                duckdb_files.duckdb_upload_discard(workspace_id=workspace.pk, name=values["path"])
            form.add_error(field_for_error(error, form), f"Connection test failed: {error}")
            return None
    return services.source_connection_save(
        workspace=workspace,
        user=request.user,
        name=form.cleaned_data["name"],
        type_key=form.type_key,
        values=values,
        tested=tested,
        test_error=test_error,
        connection=connection,
    )


@workspace_view()
def source_create(request, workspace):
    type_key = request.POST.get("type") or request.GET.get("type")
    if type_key not in SOURCE_TYPES:
        return TemplateResponse(
            request, "connections/source_type_choice.html", {"source_types": SOURCE_TYPES.values()}
        )
    form = SourceConnectionForm(
        request.POST or None, request.FILES or None, workspace=workspace, type_key=type_key
    )
    if request.method == "POST" and form.is_valid():
        connection = _save_source(request, workspace, form)
        if connection:
            _say_saved(request, connection)
            return redirect("connection_list", workspace_slug=workspace.slug)
    context = {"form": form, "source_type": SOURCE_TYPES[type_key], "status": 200 if not form.errors else 422}
    return TemplateResponse(request, "connections/source_form.html", context, status=context["status"])


@workspace_view()
def source_edit(request, workspace, connection_id):
    connection = selectors.connection_get(
        workspace=workspace, connection_id=connection_id, kind=ConnectionKind.SOURCE
    )
    form = SourceConnectionForm(
        request.POST or None,
        request.FILES or None,
        workspace=workspace,
        type_key=connection.type,
        connection=connection,
    )
    if request.method == "POST" and form.is_valid():
        saved = _save_source(request, workspace, form, connection=connection)
        if saved:
            _say_saved(request, saved)
            return redirect("connection_list", workspace_slug=workspace.slug)
    context = {"form": form, "source_type": SOURCE_TYPES[connection.type], "connection": connection}
    return TemplateResponse(
        request, "connections/source_form.html", context, status=422 if form.errors else 200
    )


def _say_saved(request, connection):
    if connection.status == "connected":
        messages.success(request, f"“{connection.name}” saved and connected ({connection.status_message}).")
        _say_warnings(request, connection)
    else:
        messages.warning(
            request, f"“{connection.name}” saved, but its test failed: {connection.status_message}"
        )


@workspace_view(methods=("POST",))
def connection_test(request, workspace, connection_id):
    connection = selectors.connection_get(workspace=workspace, connection_id=connection_id)
    connection = services.connection_test(workspace=workspace, connection=connection)
    if request.htmx:
        return TemplateResponse(
            request, "connections/connection_list.html#status", {"connection": connection}
        )
    if connection.status == "connected":
        messages.success(request, f"“{connection.name}” is connected: {connection.status_message}")
        _say_warnings(request, connection)
    else:
        messages.error(request, f"“{connection.name}” failed its test: {connection.status_message}")
    if connection.kind == ConnectionKind.DESTINATION:
        return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)
    return redirect("connection_list", workspace_slug=workspace.slug)


def _say_warnings(request, connection):
    for warning in connection.warnings:
        messages.warning(
            request, f"“{connection.name}”: {warning.message} What to grant instead is beside it below."
        )


@workspace_view(methods=("POST",))
def connection_delete(request, workspace, connection_id):
    connection = selectors.connection_get(workspace=workspace, connection_id=connection_id)
    try:
        services.connection_delete(workspace=workspace, connection=connection)
    except ProtectedError:
        messages.error(request, f"“{connection.name}” is used by models; delete or move them first.")
    else:
        messages.success(request, f"“{connection.name}” deleted, with its stored credentials.")
    return redirect("connection_list", workspace_slug=workspace.slug)
