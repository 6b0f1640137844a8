"""The demo's last step: connect the emulator's "Acme" Intercom workspace through its OAuth consent page,
as a person would, create a Users → Intercom sync and start a run, so a new user sees a run history and
the data on the emulator's page within a minute. Idempotent; run by `./syncline run` in the background."""

import re
import time
from urllib.parse import parse_qsl, urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.connections.intercom import attributes, oauth
from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
from apps.models.models import SqlModel
from apps.syncs import services
from apps.syncs.management.commands.demo_setup import DEMO_EMAIL, DEMO_WORKSPACE
from apps.syncs.models import Sync
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.tenancy.models import User, Workspace

SYNC_NAME = "Users → Intercom"
ATTRIBUTES = [("plan", "string"), ("mrr", "float"), ("sessions_30d", "integer")]
MAPPINGS = [
    {"target": "name", "field_type": "string", "column": "name"},
    {"target": "signed_up_at", "field_type": "date", "column": "signed_up_at"},
    {"target": "last_seen_at", "field_type": "date", "column": "last_seen_at"},
    {"target": "plan", "field_type": "string", "column": "plan", "custom": True},
    {"target": "mrr", "field_type": "float", "column": "mrr", "custom": True},
    {"target": "sessions_30d", "field_type": "integer", "column": "sessions_30d", "custom": True},
]


class Command(BaseCommand):
    help = "Connect the demo workspace to the emulator's Intercom through OAuth and run an example sync."

    def add_arguments(self, parser):
        parser.add_argument(
            "--inline", action="store_true", help="run the sync in this process, not on a worker"
        )
        parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the emulator")

    def handle(self, *args, inline, wait, **options):
        workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE[1]).first()
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if workspace is None or user is None:
            raise CommandError("Run `manage.py demo_setup` first.")
        self._wait_for_emulator(wait)
        connection, reconnected = self._connection(workspace, user)
        for name, data_type in ATTRIBUTES:
            if name not in {
                a.name for a in attributes.attribute_list(connection, model="contact", refresh=True)
            }:
                attributes.attribute_create(connection, name=name, model="contact", data_type=data_type)
        sync = self._sync(workspace, connection)
        # An emulator that forgot everything (no state file) needs a new token: then send every record again.
        try:
            run = run_services.sync_run_start(
                workspace=workspace, sync=sync, full_resync=reconnected, enqueue=not inline
            )
        except run_services.SyncAlreadyRunning as busy:  # a restart while the last start's run goes on
            run = busy.run
            self.stdout.write(
                f"Demo sync “{sync.name}”: run {run.pk} is already {run.get_status_display().lower()}; "
                "it goes on (a run whose worker died is continued by a recovery run)."
            )
            return
        if inline:
            run = sync_run_execute(run_id=run.pk)
        self.stdout.write(f"Demo sync “{sync.name}”: run {run.pk} {run.get_status_display().lower()}.")

    def _wait_for_emulator(self, seconds: float) -> None:
        root = settings.INTERCOM_API_BASE_URLS["US"].rsplit("/", 1)[0]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{root}/_emulator/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise CommandError(f"The Intercom emulator at {root} did not answer within {seconds:g} s.")

    def _connection(self, workspace, user) -> tuple[Connection, bool]:
        connection = (
            Connection.objects.for_workspace(workspace).filter(kind=ConnectionKind.DESTINATION).first()
        )
        if connection is not None:
            from apps.connections.services import connection_test

            if (
                connection_test(workspace=workspace, connection=connection).status
                == ConnectionStatus.CONNECTED
            ):
                return connection, False
        authorize = oauth.oauth_start(workspace=workspace, user=user, region="US", connection=connection)
        params = _approve_on_consent_page(authorize)
        connection, _ = oauth.oauth_complete(user=user, params=params)
        return connection, True

    @transaction.atomic
    def _sync(self, workspace, connection) -> Sync:
        existing = Sync.objects.for_workspace(workspace).filter(name=SYNC_NAME).first()
        if existing is not None:
            return existing
        model = SqlModel.objects.for_workspace(workspace).get(name="Users")
        if "email" not in model.unique_columns:
            model.unique_columns = [*model.unique_columns, "email"]
            model.save(update_fields=["unique_columns", "updated_at"])
        return services.sync_save(
            workspace=workspace,
            user=None,
            name=SYNC_NAME,
            model=model,
            destination=connection,
            object_key="user",
            behavior="upsert",
            key_column="email",
            key_identifier="email",
            mappings=MAPPINGS,
            options={},
        )


def _approve_on_consent_page(authorize_url: str) -> dict[str, str]:
    """What a person does on the emulator's consent page: keep the preselected workspace, press Approve."""
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    fields = dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", page.text))
    fields["workspace"] = re.search(r"name='workspace' value='([^']+)' checked", page.text).group(1)
    fields["decision"] = "approve"
    action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
    parts = urlsplit(authorize_url)
    answer = requests.post(
        f"{parts.scheme}://{parts.netloc}{action}", data=fields, allow_redirects=False, timeout=10
    )
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
