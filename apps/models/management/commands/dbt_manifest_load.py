"""Load a dbt manifest.json into a warehouse connection's dbt project, from the shell: the step a deploy job
runs after `dbt run` (the person at the shell is the operator, so any file they can read is accepted)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.common.problems import Invalid
from apps.connections.models import Connection, ConnectionKind
from apps.models.dbt.services import dbt_manifest_upload
from apps.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Load a dbt manifest.json into a warehouse connection's dbt project and print what changed."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="the workspace's slug (as in /w/<slug>/)")
        parser.add_argument("connection", help="the warehouse connection's name or id")
        parser.add_argument("manifest", type=Path, help="the manifest's path, e.g. target/manifest.json")

    def handle(self, *args, workspace, connection, manifest, **options):
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            raise CommandError(f"No workspace /w/{workspace}/.")
        sources = Connection.objects.for_workspace(ws).filter(kind=ConnectionKind.SOURCE)
        found = (
            sources.filter(pk=int(connection)) if connection.isdigit() else sources.filter(name=connection)
        ).first()
        if found is None:
            names = ", ".join(f"{s.pk}: {s.name}" for s in sources) or "none"
            raise CommandError(f"No warehouse connection {connection!r} in {ws.name}. Its sources: {names}.")
        try:
            content = manifest.read_bytes()
        except OSError as error:
            raise CommandError(f"{manifest} cannot be read: {error.strerror}.") from None
        try:
            result = dbt_manifest_upload(workspace=ws, user=None, source=found, content=content)
        except Invalid as invalid:
            raise CommandError(str(invalid)) from None
        self.stdout.write(result.summary)
