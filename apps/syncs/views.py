from django.template.response import TemplateResponse

from apps.tenancy.access import workspace_view


@workspace_view()
def sync_list(request, workspace):
    return TemplateResponse(request, "syncs/sync_list.html", {})


@workspace_view()
def run_list(request, workspace):
    return TemplateResponse(request, "syncs/run_list.html", {})
