"""Settings → API keys: list, create (the secret shown once), revoke."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.api import selectors, services
from apps.api.forms import ApiKeyForm
from apps.tenancy.access import workspace_view


def _page(request, workspace, *, form=None, new_key=None, new_secret=None, status=200):
    api_root = request.build_absolute_uri(reverse("api-v1:api-root"))
    context = {
        "tab": "api_keys",
        "api_keys": selectors.api_key_list(workspace=workspace),
        "form": form or ApiKeyForm(),
        "new_key": new_key,
        "new_secret": new_secret,
        "api_root": api_root.rstrip("/"),
        "docs_url": reverse("api-v1:openapi-view"),
        "openapi_url": reverse("api-v1:openapi-json"),
    }
    template = "api/settings_api_keys.html#api-keys" if request.htmx else "api/settings_api_keys.html"
    response = TemplateResponse(request, template, context, status=status)
    if new_secret:
        response["Cache-Control"] = "no-store"  # the one page that shows the secret is never cached
    return response


@workspace_view()
def settings_api_keys(request, workspace):
    """Viewers see the keys (names, prefixes, last use); editors and owners create and revoke them."""
    if request.method != "POST":
        return _page(request, workspace)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            api_key, secret = services.api_key_create(
                workspace=workspace,
                user=request.user,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
        except services.ApiKeyError as error:
            form.add_error("name", str(error))
        else:
            # Rendered, not redirected: the secret must not pass through the session or a message.
            return _page(request, workspace, new_key=api_key, new_secret=secret, status=201)
    return _page(request, workspace, form=form, status=422)


@workspace_view(methods=("POST",))
def settings_api_key_revoke(request, workspace, api_key_id):
    api_key = selectors.api_key_get(workspace=workspace, api_key_id=api_key_id)
    services.api_key_revoke(workspace=workspace, api_key=api_key, user=request.user)
    messages.success(request, f"Key “{api_key.name}” revoked: requests with it are refused from now on.")
    if request.htmx:
        return _page(request, workspace)
    return redirect("settings_api_keys", workspace_slug=workspace.slug)
