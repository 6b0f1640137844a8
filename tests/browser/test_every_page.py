"""Every main page, at phone width (390 px) and desktop width (1,280 px), in one browser over one workspace
with realistic data: no page scrolls sideways (a wide table scrolls inside its own `.table-scroll`), and
axe-core (static/vendor/axe-core, loaded by this test only, at phone width) finds no critical or serious
accessibility violation. A screenshot of each page at each width goes to var/screenshots/test_every_page/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.templatetags.static import static
from django.utils import timezone

from apps.alerts.services import sync_alert_settings_save, workspace_alert_settings_save
from apps.alerts.webhooks import webhook_create
from apps.api.services import api_key_create
from apps.syncs.services import sync_set_paused
from apps.tenancy.audit import audit_as
from apps.tenancy.models import AuditVia, Invitation, Role
from apps.tenancy.services import invitation_create
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.conftest import member_of
from tests.factories import DbtModelFactory, DbtProjectFactory, SyncFactory, SyncRunFactory
from tests.syncs.test_record_lookup import ROWS, user_sync
from tests.syncs.test_views import run_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WIDTHS = (390, 1280)
# What fails the test. Moderate and minor findings (e.g. a heading level skipped) are left to judgement.
FAILING_IMPACTS = ("critical", "serious")
LONG = "Warehouse users (paying, EU and US) to Intercom contacts — hourly upsert with a very long name"

OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  // The innermost elements that reach past the right edge (scrolled or not), to say what widens the page.
  const culprits = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > root.clientWidth + 1))
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : ""));
  return `${root.scrollWidth} px wide in ${root.clientWidth} px (${culprits.join(", ")})`;
}"""

AXE_RUN = """async (impacts) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => impacts.includes(v.impact))
    .map(v => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
}"""


def realistic_workspace(workspace, owner, warehouse, destination, intercom_emulator, intercom_workspace):
    """A connection, models, syncs with runs (sent, rejected, invalid and failed records; a failed run),
    invitations, API keys, alerts, a webhook, a dbt project and a history. Returns the URLs to visit."""
    with intercom_emulator.client(intercom_workspace.token) as api:  # Intercom has u-1 already
        api.post("/contacts", json={"role": "user", "external_id": "u-1", "email": "p1@example.com"})
    sync = user_sync(workspace, warehouse, ROWS, destination)
    sync.name = LONG
    sync.save(update_fields=["name"])
    run = run_sync(workspace, sync)
    started = timezone.now() - dt.timedelta(days=2, hours=3)
    failed = SyncRunFactory(
        workspace=workspace,
        sync=sync,
        status="failed",
        counts={"source_rows": 0},
        first_error="The warehouse refused the query: relation “analytics.people_v2” does not exist "
        "(SQLSTATE 42P01) at character 15, while reading the model <script>alert(1)</script>",
        started_at=started,
        finished_at=started + dt.timedelta(minutes=3),
    )
    events = SyncFactory(
        workspace=workspace,
        model=sync.model,
        destination=destination,
        name="Product events (signed_up, upgraded, churned) to Intercom",
        object_key="event",
        behavior="send",
    )
    SyncRunFactory(
        workspace=workspace,
        sync=events,
        counts={"source_rows": 1_234_567, "sent": 1_200_000, "unchanged": 34_555, "rejected": 12},
        started_at=started,
        finished_at=started + dt.timedelta(hours=1, minutes=7),
    )
    with audit_as(via=AuditVia.API, label="API key “Airflow” (sk_live_ab…)"):
        sync_set_paused(workspace=workspace, sync=events, paused=True)
    for email, role in (("new.analyst@example.com", Role.VIEWER), ("ops-lead@example.com", Role.EDITOR)):
        invitation_create(workspace=workspace, invited_by=owner, email=email, role=role)
    member_of(workspace, Role.EDITOR)
    api_key_create(workspace=workspace, user=owner, name="Airflow production DAG")
    revoked, _ = api_key_create(workspace=workspace, user=owner, name="Old script")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    workspace_alert_settings_save(workspace=workspace, member_ids=[], extra_emails=["oncall@example.com"])
    sync_alert_settings_save(workspace=workspace, sync=sync, enabled=True, rejected_threshold=5)
    webhook, _ = webhook_create(
        workspace=workspace,
        user=owner,
        url="https://10.20.30.40:8443/syncline/very/long/path/that/goes/on/and/on?token=abcdefghijklmnop",
        description="Ops channel",
        events=["run.failed", "run.succeeded"],
    )
    project = DbtProjectFactory(workspace=workspace, source=warehouse.source)
    dbt_model = DbtModelFactory.create_batch(3, workspace=workspace, project=project)[0]

    w = f"/w/{workspace.slug}"
    return {
        "home": f"{w}/",
        "syncs": f"{w}/syncs/",
        "sync-detail": f"{w}/syncs/{sync.pk}/",
        "sync-detail-events": f"{w}/syncs/{events.pk}/",
        "sync-schedule": f"{w}/syncs/{sync.pk}/schedule/",
        "sync-alerts": f"{w}/syncs/{sync.pk}/alerts/",
        "sync-preview": f"{w}/syncs/{sync.pk}/preview/",  # planned at once (eager tasks): its samples shown
        "runs": f"{w}/runs/",
        "run-detail": f"{w}/runs/{run.pk}/",
        "run-detail-failed": f"{w}/runs/{failed.pk}/",
        "record": f"{w}/syncs/{sync.pk}/record/?key=u-3",
        "wizard-new": f"{w}/syncs/new/",
        # Editing starts the wizard's draft from the saved sync (at its fields); then every step is open.
        "wizard-edit": f"{w}/syncs/{sync.pk}/edit/",
        "wizard-data": f"{w}/syncs/{sync.pk}/edit/data/",
        "wizard-destination": f"{w}/syncs/{sync.pk}/edit/destination/",
        "wizard-behavior": f"{w}/syncs/{sync.pk}/edit/behavior/",
        "wizard-fields": f"{w}/syncs/{sync.pk}/edit/fields/",
        "wizard-preview": f"{w}/syncs/{sync.pk}/edit/preview/",
        "models": f"{w}/models/",
        "model-new": f"{w}/models/new/",
        "model-edit": f"{w}/models/{sync.model_id}/",
        "dbt": f"{w}/models/dbt/",
        "dbt-model-use": f"{w}/models/dbt/models/{dbt_model.pk}/use/",
        "connections": f"{w}/connections/",
        "intercom-detail": f"{w}/connections/intercom/{destination.pk}/",
        "intercom-new": f"{w}/connections/intercom/new/",
        "intercom-reconnect": f"{w}/connections/intercom/{destination.pk}/reconnect/",
        "source-new": f"{w}/connections/sources/new/",
        "source-form": f"{w}/connections/sources/{warehouse.source.pk}/edit/",
        "settings-general": f"{w}/settings/",
        "settings-members": f"{w}/settings/members/",
        "settings-alerts": f"{w}/settings/alerts/",
        "settings-webhooks": f"{w}/settings/webhooks/",
        "webhook-detail": f"{w}/settings/webhooks/{webhook.pk}/",
        "settings-api-keys": f"{w}/settings/api-keys/",
        "api-reference": "/api/v1/docs",
        "workspace-new": "/workspaces/new/",
        "styles": "/staff/styles/",
        "404": f"{w}/syncs/987654/",
    }


def axe_url() -> str:
    """axe-core, served like the app's own scripts (the Content-Security-Policy allows this site's files)."""
    return static("vendor/axe-core/axe.min.js")


def check(page, live_server, name: str, path: str, status: int = 200) -> list[str]:
    """Visits the page at each width; returns what is wrong with it."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if (answer := page.goto(live_server.url + path).status) != status:
            problems.append(f"{name} at {width} px: HTTP {answer}, not {status}")
        page.screenshot(path=str(SCREENSHOTS / "test_every_page" / f"{name}-{width}.png"), full_page=True)
        if overflow := page.evaluate(OVERFLOW):
            problems.append(f"{name} at {width} px: {overflow}")
        if width == WIDTHS[0]:
            page.add_script_tag(url=live_server.url + axe_url())
            problems += [f"{name}: {v}" for v in page.evaluate(AXE_RUN, list(FAILING_IMPACTS))]
    return problems


def test_every_page_fits_phone_and_desktop_widths_and_passes_axe(
    page,
    live_server,
    workspace,
    owner,
    warehouse,
    destination,
    intercom_emulator,
    intercom_workspace,
    eager_tasks,
):
    (SCREENSHOTS / "test_every_page").mkdir(parents=True, exist_ok=True)
    for old in (SCREENSHOTS / "test_every_page").glob("*.png"):
        old.unlink()
    pages = realistic_workspace(
        workspace, owner, warehouse, destination, intercom_emulator, intercom_workspace
    )
    invitation_token, token_hash = Invitation.new_token()  # the emailed link's token, which is not stored
    Invitation.objects.create(
        workspace=workspace,
        email="invited.person@example.com",
        role=Role.EDITOR,
        token_hash=token_hash,
        invited_by=owner,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])

    problems = []
    for name, path in {
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "password-reset": "/accounts/password/reset/",
        "invitation": f"/invitations/{invitation_token}/",
    }.items():
        problems += check(page, live_server, name, path)
    problems += check(page, live_server, "invitation-invalid", "/invitations/no-such-token/", status=404)
    log_in(page, live_server, owner)
    for name, path in pages.items():
        problems += check(page, live_server, name, path, status=404 if name == "404" else 200)

    # Intercom's consent page sent back without a grant (a stale or forged state).
    failed = "/connections/intercom/callback/?error=access_denied&state=stale"
    problems += check(page, live_server, "intercom-failed", failed, status=400)

    viewer = member_of(workspace, Role.VIEWER).user
    page.context.clear_cookies()
    log_in(page, live_server, viewer)
    problems += check(page, live_server, "403", pages["wizard-new"], status=403)

    assert not problems, "\n".join(problems)
