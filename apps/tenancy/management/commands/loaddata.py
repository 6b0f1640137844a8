"""`manage.py loaddata`, writing rows of any workspace: restoring a backup crosses tenants, so tenant
scoping is switched off for this command, and it says so."""

from django.core.management.commands import loaddata

from apps.tenancy.scoping import every_workspace_unsafe


class Command(loaddata.Command):
    help = f"{loaddata.Command.help} Writes rows of every workspace (tenant scoping is off for this command)."

    def handle(self, *args, **options):
        self.stderr.write("loaddata: writing rows of every workspace (tenant scoping is off).")
        with every_workspace_unsafe("manage.py loaddata"):
            return super().handle(*args, **options)
