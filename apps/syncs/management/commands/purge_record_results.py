from django.conf import settings
from django.core.management.base import BaseCommand

from apps.syncs.runs.services import record_results_purge


class Command(BaseCommand):
    help = "Delete the per-record results of runs older than SYNC_RECORD_RESULTS_DAYS."

    def handle(self, *args, **options):
        deleted = record_results_purge()
        self.stdout.write(
            f"Deleted {deleted} record result(s) older than {settings.SYNC_RECORD_RESULTS_DAYS} days."
        )
