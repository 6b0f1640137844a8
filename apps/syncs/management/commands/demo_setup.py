from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.connections import demo_warehouse
from apps.connections.duckdb_files import workspace_folder
from apps.connections.models import Connection, ConnectionKind, ConnectionStatus
from apps.models.models import SqlModel
from apps.models.services import sql_model_save
from apps.tenancy import services
from apps.tenancy.models import Membership, Role, User, Workspace

DEMO_EMAIL = "demo@syncline.local"
DEMO_PASSWORD = "syncline-demo"  # noqa: S105 - printed by the run command; a local demo account only
DEMO_WORKSPACE = ("Demo", "demo")
DEMO_MODELS = [
    (
        "Users",
        "Every signed-up user with plan, MRR and activity: the contacts to keep in Intercom.",
        "user_id",
        """SELECT
    user_id,
    external_id,
    email,
    name,
    role,
    company_id,
    plan,
    mrr,
    signed_up_at,
    last_seen_at,
    trial_ends_at,
    sessions_7d,
    sessions_30d
FROM users""",
    ),
    (
        "Companies",
        "Customer companies with size and industry.",
        "company_id",
        "SELECT company_id, name, industry, employee_count, created_at, domain\nFROM companies",
    ),
]


class Command(BaseCommand):
    help = "Create the demo user, workspace, demo warehouse and example models (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            user, workspace = self._user_and_workspace()
            # In the workspace's own DuckDB folder: the one place it may open files in either hosting mode.
            warehouse = workspace_folder(workspace.pk) / "demo.duckdb"
            if not warehouse.exists():
                demo_warehouse.write_demo_warehouse(warehouse)
            source = self._source(workspace, user, warehouse)
            for name, description, key, sql in DEMO_MODELS:
                if not SqlModel.objects.for_workspace(workspace).filter(name=name).exists():
                    sql_model_save(
                        workspace=workspace,
                        user=user,
                        name=name,
                        description=description,
                        source=source,
                        sql=sql,
                        primary_key=key,
                    )
        self.stdout.write(f"{DEMO_EMAIL} / {DEMO_PASSWORD} (workspace /w/{workspace.slug}/)")

    def _user_and_workspace(self):
        user, created = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"name": "Demo User"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        name, slug = DEMO_WORKSPACE
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            workspace = services.workspace_create(user=user, name=name, slug=slug)
        Membership.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, user=user, defaults={"role": Role.OWNER}
        )
        return user, workspace

    def _source(self, workspace, user, warehouse):
        source, _ = Connection.objects.for_workspace(workspace).get_or_create(
            workspace=workspace,
            name="Demo warehouse",
            defaults={
                "kind": ConnectionKind.SOURCE,
                "type": "duckdb",
                "config": {
                    "path": str(warehouse),
                    "preview_timeout_seconds": 30.0,
                    "extract_timeout_seconds": 3600.0,
                },
                "credentials": {},
                "status": ConnectionStatus.CONNECTED,
                "status_message": "DuckDB demo warehouse",
                "created_by": user,
            },
        )
        if source.config.get("path") == str(Path(settings.VAR_DIR) / "demo.duckdb"):
            # Made by an earlier version, in var/ itself: outside the DuckDB data folder it cannot be opened.
            source.config = {**source.config, "path": str(warehouse)}
            source.save(update_fields=["config", "updated_at"])
        return source
