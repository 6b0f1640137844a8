from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.alerts import selectors, services, webhooks
from apps.alerts.forms import RecipientsForm, SyncAlertsForm, WebhookEditForm, WebhookForm
from apps.alerts.models import WebhookEvent
from apps.alerts.tasks import webhook_retry_delay
from apps.syncs.selectors import sync_get
from apps.tenancy.access import workspace_view
from apps.tenancy.models import Role
from apps.tenancy.selectors import member_list


@workspace_view()
def alert_settings(request, workspace):
    """Settings → Alerts: the workspace's default recipients, and every sync's alerts at a glance."""
    members = member_list(workspace=workspace)
    saved = selectors.workspace_alert_settings(workspace=workspace)
    if saved is None:  # until saved, the owners receive alerts; show them as chosen
        initial = {"members": [m.user_id for m in members if m.role == Role.OWNER]}
    else:
        initial = {"members": saved.member_ids, "extra_emails": "\n".join(saved.extra_emails)}
    form = RecipientsForm(request.POST or None, members=members, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.workspace_alert_settings_save(
                workspace=workspace,
                member_ids=form.cleaned_data["members"],
                extra_emails=form.cleaned_data["extra_emails"],
            )
            messages.success(request, "Alert recipients saved.")
            return redirect("alert_settings", workspace_slug=workspace.slug)
        status = 422
    context = {
        "tab": "alerts",
        "form": form,
        "saved": saved,
        "recipients": selectors.workspace_default_recipients(workspace=workspace),
        "overview": selectors.sync_alert_overview(workspace=workspace),
    }
    return TemplateResponse(request, "alerts/settings_alerts.html", context, status=status)


@workspace_view()
def sync_alerts(request, workspace, sync_id):
    sync = sync_get(workspace=workspace, sync_id=sync_id)
    own = selectors.sync_alert_settings(workspace=workspace, sync=sync)
    form = SyncAlertsForm(
        request.POST or None,
        members=member_list(workspace=workspace),
        initial=SyncAlertsForm.initial_from(own),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.sync_alert_settings_save(workspace=workspace, sync=sync, **form.service_values())
            messages.success(request, f"Alerts of “{sync.name}” saved.")
            return redirect("sync_alerts", workspace_slug=workspace.slug, sync_id=sync.pk)
        status = 422
    context = {
        "sync": sync,
        "own": own,
        "form": form,
        "workspace_recipients": selectors.workspace_default_recipients(workspace=workspace),
        "recipients": selectors.alert_recipients(workspace=workspace, sync=sync),
        "raised": selectors.raised_alerts(workspace=workspace, sync=sync),
    }
    return TemplateResponse(request, "alerts/sync_alerts.html", context, status=status)


@workspace_view()
def webhook_list(request, workspace):
    """Settings → Webhooks; POST adds an endpoint and shows its secret, this once."""
    form = WebhookForm(request.POST or None, initial={"events": WebhookEvent.values})
    if request.method == "POST" and form.is_valid():
        endpoint, secret = webhooks.webhook_create(
            workspace=workspace,
            user=request.user,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            events=form.cleaned_data["events"],
        )
        return _detail(request, workspace, endpoint, new_secret=secret, status=201)
    context = {"tab": "webhooks", "form": form, "endpoints": selectors.webhook_list(workspace=workspace)}
    return TemplateResponse(
        request, "alerts/settings_webhooks.html", context, status=422 if form.errors else 200
    )


def _pause(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:g} min"


def _detail(request, workspace, endpoint, *, form=None, new_secret=None, status=200, partial=False):
    if form is None:
        initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
                   "enabled": endpoint.enabled}  # fmt: skip
        form = WebhookEditForm(initial=initial)
    context = {
        "tab": "webhooks",
        "endpoint": endpoint,
        "form": form,
        "new_secret": new_secret,
        "deliveries": selectors.webhook_recent_deliveries(workspace=workspace, endpoint=endpoint),
        "timeout": settings.WEBHOOK_TIMEOUT_SECONDS,
        "retry_delays": [_pause(webhook_retry_delay(n)) for n in range(1, settings.WEBHOOK_MAX_ATTEMPTS)],
    }
    template = "alerts/webhook_detail.html" + ("#deliveries" if partial else "")
    return TemplateResponse(request, template, context, status=status)


@workspace_view()
def webhook_detail(request, workspace, webhook_id):
    endpoint = selectors.webhook_get(workspace=workspace, webhook_id=webhook_id)
    if request.method != "POST":
        return _detail(request, workspace, endpoint)
    form = WebhookEditForm(request.POST)
    if not form.is_valid():
        return _detail(request, workspace, endpoint, form=form, status=422)
    webhooks.webhook_update(
        workspace=workspace,
        endpoint=endpoint,
        url=form.cleaned_data["url"],
        description=form.cleaned_data["description"],
        events=form.cleaned_data["events"],
        enabled=form.cleaned_data["enabled"],
    )
    messages.success(request, "Webhook saved.")
    return redirect("webhook_settings_edit", workspace_slug=workspace.slug, webhook_id=endpoint.pk)


@workspace_view(methods=("POST",))
def webhook_test(request, workspace, webhook_id):
    endpoint = selectors.webhook_get(workspace=workspace, webhook_id=webhook_id)
    delivery = webhooks.webhook_send_test(workspace=workspace, endpoint=endpoint)
    attempt = delivery.attempts.last()
    if attempt.error:
        messages.error(request, f"The test event was not accepted: {attempt.error}")
    else:
        messages.success(request, f"The endpoint accepted the test event (HTTP {attempt.status_code}).")
    if request.htmx:
        return _detail(request, workspace, endpoint, partial=True)
    return redirect("webhook_settings_edit", workspace_slug=workspace.slug, webhook_id=endpoint.pk)


@workspace_view(methods=("POST",))
def webhook_rotate_secret(request, workspace, webhook_id):
    endpoint = selectors.webhook_get(workspace=workspace, webhook_id=webhook_id)
    secret = webhooks.webhook_rotate_secret(workspace=workspace, endpoint=endpoint)
    return _detail(request, workspace, endpoint, new_secret=secret)


@workspace_view(methods=("POST",))
def webhook_delete(request, workspace, webhook_id):
    endpoint = selectors.webhook_get(workspace=workspace, webhook_id=webhook_id)
    webhooks.webhook_delete(workspace=workspace, endpoint=endpoint)
    messages.success(request, f"Webhook to {endpoint.url} deleted; it receives no more events.")
    return redirect("webhook_settings", workspace_slug=workspace.slug)
