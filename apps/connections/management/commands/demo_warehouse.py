from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.connections import demo_warehouse


class Command(BaseCommand):
    help = "Write the demo warehouse (realistic SaaS data) to a DuckDB file, or load it into PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            default=str(Path(settings.DUCKDB_DATA_DIR) / "demo.duckdb"),
            help="DuckDB file to write (default: %(default)s, in the DuckDB data folder, where connections "
            "may open it)",
        )
        parser.add_argument("--users", type=int, default=demo_warehouse.DEFAULT_USERS)
        parser.add_argument("--seed", type=int, default=demo_warehouse.DEFAULT_SEED)
        parser.add_argument("--force", action="store_true", help="replace an existing file")
        parser.add_argument("--postgres", metavar="DSN", help="load into this PostgreSQL database instead")
        parser.add_argument("--schema", default="demo", help="PostgreSQL schema to (re)create")

    def handle(self, *args, **options):
        users, seed = options["users"], options["seed"]
        if options["postgres"]:
            demo_warehouse.load_into_postgres(
                options["postgres"], schema=options["schema"], users=users, seed=seed
            )
            self.stdout.write(f"Loaded {users:,} users into schema {options['schema']!r}.")
            return
        try:
            path = demo_warehouse.write_demo_warehouse(
                options["out"], users=users, seed=seed, overwrite=options["force"]
            )
        except FileExistsError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Wrote {path} with {users:,} users.")
