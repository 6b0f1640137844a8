from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.connections import selectors
from apps.connections.intercom import attributes, oauth
from apps.connections.intercom.forms import AttributeCreateForm, RegionForm, TokenForm
from apps.connections.intercom.permissions import NOT_USED, PERMISSIONS
from apps.connections.models import ConnectionKind
from apps.connections.services import RegionNotChanged, connection_disconnect, connection_set_region
from apps.tenancy.access import workspace_view
from apps.tenancy.models import Role


def _connected(request, connection, notes):
    for note in notes:
        messages.warning(request, note)
    messages.success(
        request, f"Connected to {connection.config['workspace_name']} ({connection.config['region']})."
    )
    return redirect("intercom_detail", workspace_slug=connection.workspace.slug, destination_id=connection.pk)


CONSENT_CONTEXT = {"permissions": PERMISSIONS, "not_used": NOT_USED}


@workspace_view()
def intercom_new(request, workspace):
    """The permissions Syncline asks for and why, the workspace and the region, then Intercom's consent
    page; or paste an access token."""
    region_form, token_form = RegionForm(prefix="oauth"), TokenForm(prefix="token")
    if request.method == "POST" and request.POST.get("method") == "token":
        token_form = TokenForm(request.POST, prefix="token")
        if token_form.is_valid():
            try:
                connection, notes = oauth.token_connect(
                    workspace=workspace, user=request.user, **token_form.cleaned_data
                )
                return _connected(request, connection, notes)
            except oauth.ConnectError as error:
                token_form.add_error("token", str(error))
    elif request.method == "POST":
        region_form = RegionForm(request.POST, prefix="oauth")
        if region_form.is_valid():
            try:
                return redirect(
                    oauth.oauth_start(workspace=workspace, user=request.user, **region_form.cleaned_data)
                )
            except oauth.ConnectError as error:
                region_form.add_error(None, str(error))
    context = {"region_form": region_form, "token_form": token_form, "oauth_enabled": oauth.oauth_enabled()}
    context |= CONSENT_CONTEXT
    status = 422 if region_form.errors or token_form.errors else 200
    return TemplateResponse(request, "connections/intercom_new.html", context, status=status)


@login_required
def intercom_callback(request):
    """Intercom sends the user back here after the consent page; the state says which workspace."""
    try:
        connection, notes = oauth.oauth_complete(user=request.user, params=request.GET.dict())
    except oauth.ConnectError as error:
        return TemplateResponse(
            request, "connections/intercom_failed.html", {"message": str(error)}, status=400
        )
    return _connected(request, connection, notes)


def _intercom(workspace, destination_id):
    return selectors.connection_get(
        workspace=workspace, connection_id=destination_id, kind=ConnectionKind.DESTINATION
    )


@workspace_view()
def intercom_detail(request, workspace, destination_id):
    connection = _intercom(workspace, destination_id)
    region_form = RegionForm(request.POST or None, initial={"region": connection.config.get("region")})
    if request.method == "POST" and region_form.is_valid():
        try:
            connection = connection_set_region(
                workspace=workspace, connection=connection, **region_form.cleaned_data
            )
        except RegionNotChanged as refused:
            region_form.add_error("region", str(refused))  # shown at the field, with the region tried
        else:
            messages.success(
                request, f"Region set to {connection.config['region']}; the connection works there."
            )
            return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)
    token_form = TokenForm(prefix="token", initial={"region": connection.config.get("region")})
    context = {"connection": connection, "region_form": region_form, "token_form": token_form,
               "oauth_enabled": oauth.oauth_enabled()} | _attributes_context(connection)  # fmt: skip
    status = 422 if region_form.errors else 200
    return TemplateResponse(request, "connections/intercom_detail.html", context, status=status)


def _attributes_context(connection, *, form=None, error="") -> dict:
    """The "Custom attributes" card reads the cache; Refresh (or the mapper) reads Intercom."""
    cache = connection.attributes_cache or {}
    return {
        "attribute_models": [(model, cache.get(model, [])) for model in attributes.ATTRIBUTE_MODELS],
        "attribute_form": form or AttributeCreateForm(),
        "attribute_error": error,
    }


def _attributes_card(request, workspace, connection, *, form=None, error="", status=200):
    if request.htmx:
        context = {"connection": connection} | _attributes_context(connection, form=form, error=error)
        return TemplateResponse(
            request, "connections/intercom_detail.html#attributes", context, status=status
        )
    if error:
        messages.error(request, error)
    return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)


@workspace_view(methods=("POST",))
def intercom_attributes_refresh(request, workspace, destination_id):
    connection = _intercom(workspace, destination_id)
    try:
        attributes.attributes_refresh(connection)
    except attributes.AttributesUnavailable as error:
        return _attributes_card(request, workspace, connection, error=str(error), status=502)
    if not request.htmx:
        messages.success(request, "Custom attributes read from Intercom.")
    return _attributes_card(request, workspace, connection)


@workspace_view(methods=("POST",))
def intercom_attribute_create(request, workspace, destination_id):
    connection = _intercom(workspace, destination_id)
    form = AttributeCreateForm(request.POST)
    if not form.is_valid():
        return _attributes_card(
            request,
            workspace,
            connection,
            form=form,
            status=422,
            error="" if request.htmx else "Give the attribute a name, a model and a type.",
        )
    try:
        created = attributes.attribute_create(connection, **form.cleaned_data)
    except attributes.AttributesUnavailable as error:
        form.add_error("name", str(error))
        return _attributes_card(request, workspace, connection, form=form, error=str(error), status=422)
    messages.success(request, f"Custom attribute “{created.name}” created on {created.model}s.")
    if request.htmx:
        return _attributes_card(request, workspace, connection)
    return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)


@workspace_view(read_role=Role.EDITOR)
def intercom_reconnect(request, workspace, destination_id):
    """GET: the permissions screen for this connection (its Intercom workspace, its region). POST: go to the
    consent page (the region as picked, else the connection's), or check a pasted token."""
    connection = _intercom(workspace, destination_id)
    current = {"region": connection.config.get("region", "US")}
    if request.method == "POST" and request.POST.get("method") == "token":
        form = TokenForm(request.POST, prefix="token")
        if form.is_valid():
            try:
                connection, notes = oauth.token_connect(
                    workspace=workspace, user=request.user, connection=connection, **form.cleaned_data
                )
                return _connected(request, connection, notes)
            except oauth.ConnectError as error:
                messages.error(request, str(error))
        else:
            messages.error(request, "Paste the access token to reconnect with it.")
        return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)
    region_form = RegionForm(
        request.POST if "oauth-region" in request.POST else None, prefix="oauth", initial=current
    )
    if request.method == "POST":
        region = region_form.cleaned_data["region"] if region_form.is_valid() else current["region"]
        try:
            return redirect(
                oauth.oauth_start(
                    workspace=workspace, user=request.user, region=region, connection=connection
                )
            )
        except oauth.ConnectError as error:
            messages.error(request, str(error))
            return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)
    context = {"connection": connection, "region_form": region_form, "oauth_enabled": oauth.oauth_enabled()}
    return TemplateResponse(request, "connections/intercom_reconnect.html", context | CONSENT_CONTEXT)


@workspace_view(methods=("POST",))
def intercom_disconnect(request, workspace, destination_id):
    connection = connection_disconnect(workspace=workspace, connection=_intercom(workspace, destination_id))
    messages.success(request, f"Disconnected {connection.name}: its access token was deleted.")
    return redirect("intercom_detail", workspace_slug=workspace.slug, destination_id=connection.pk)
