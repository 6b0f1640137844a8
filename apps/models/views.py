from django.template.response import TemplateResponse

from apps.tenancy.access import workspace_view


@workspace_view()
def model_list(request, workspace):
    return TemplateResponse(request, "models/model_list.html", {})
