from django.template.response import TemplateResponse

from apps.tenancy.access import workspace_view


@workspace_view()
def connection_list(request, workspace):
    return TemplateResponse(request, "connections/connection_list.html", {})
