"""Run a sync in the foreground with a progress bar (tqdm: rows read, rate) and print the run's counts."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunTrigger, Sync
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.statuses import SUCCEEDED
from apps.tenancy.models import Workspace


class Command(BaseCommand):
    help = "Run a sync now, in this process, and print what happened."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="the workspace's slug (as in /w/<slug>/)")
        parser.add_argument("sync", help="the sync's id or name")
        parser.add_argument("--full-resync", action="store_true", help="ignore the ledger's hashes")

    def handle(self, *args, workspace, sync, full_resync, **options):
        ws = Workspace.objects.filter(slug=workspace).first()
        if ws is None:
            raise CommandError(f"No workspace /w/{workspace}/.")
        syncs = Sync.objects.for_workspace(ws)
        found = syncs.filter(pk=int(sync)).first() if sync.isdigit() else syncs.filter(name=sync).first()
        if found is None:
            names = ", ".join(f"{s.pk}: {s.name}" for s in syncs) or "none"
            raise CommandError(f"No sync {sync!r} in {ws.name}. Its syncs: {names}.")
        try:
            run = run_services.sync_run_start(
                workspace=ws, sync=found, trigger=RunTrigger.COMMAND, full_resync=full_resync, enqueue=False
            )
        except run_services.SyncAlreadyRunning as error:
            raise CommandError(str(error)) from None
        with tqdm(desc=found.name, unit=" rows", file=self.stderr._out, dynamic_ncols=True) as bar:

            def progress(counts):
                bar.update(counts.source_rows - bar.n)

            run = sync_run_execute(run_id=run.pk, progress=progress)
        self.stdout.write(f"Run {run.pk}: {run.get_status_display()}")
        for key, value in RunCounts.from_json(run.counts).to_json().items():
            self.stdout.write(f"  {key.replace('_', ' '):<16} {value:>10,}")
        if run.first_error:
            self.stdout.write(f"  first error      {run.first_error}")
        if run.status not in SUCCEEDED:
            raise CommandError(f"The run ended {run.get_status_display().lower()}.", returncode=1)
