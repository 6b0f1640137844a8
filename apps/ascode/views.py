from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.ascode.schema import document_schema


@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    """The JSON Schema of syncline/v1 files, public like any format's description (it names no data)."""
    response = JsonResponse(document_schema(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # editors fetch it from anywhere
    response["Content-Type"] = "application/schema+json"
    return response
