"""`manage.py dumpdata`, reading every workspace's rows: a backup or a support export is of the whole
instance, so tenant scoping is switched off for this command, and it says so."""

from django.core.management.commands import dumpdata

from apps.tenancy.scoping import every_workspace_unsafe


class Command(dumpdata.Command):
    help = f"{dumpdata.Command.help} Reads every workspace (tenant scoping is off for this command)."

    def handle(self, *args, **options):
        self.stderr.write("dumpdata: reading the rows of every workspace (tenant scoping is off).")
        with every_workspace_unsafe("manage.py dumpdata"):
            return super().handle(*args, **options)
