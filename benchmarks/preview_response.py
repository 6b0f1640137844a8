"""The preview page on a 1,000,000-row PostgreSQL model where 1% of the rows changed: how soon the page
answers (the preview is planned by a worker: apps.syncs.runs.preview_runs) and how soon it shows the
counts, against the changed rerun's plan time (benchmarks/changed_rerun_plan.py) on the same data.

Set-up as in changed_rerun_plan.py (not timed). Then, in this process, the run's plan consumed to the end
(the reference, median of --repeats); a real Celery worker process (threads pool) on a queue of its own;
and --repeats times: the sync page's Preview opened as a browser does (GET, its redirect to the preview's
own address, both through Django's test client, in this process), then its progress block polled every
--poll seconds, as htmx does every second, until it shows the counts. The preview's counts are checked
against the plan's.

Goals (issue 17): the page answers in < 200 ms; the counts show in ≤ 1.2× the plan time.
The last line is the page's answer time in milliseconds (median).

Run: ``.venv/bin/python benchmarks/preview_response.py [--users N] [--changed-share 0.01] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import no_change_rerun as base
from _harness import ADMIN_DSN, django_setup, drop_database, start_emulator, workspace_with_sync

ROOT = Path(__file__).resolve().parent.parent


def start_worker(queue: str, app_db: str, redis_db: int, emulator_url: str) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{app_db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "INTERCOM_API_BASE_URL_US": emulator_url,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool=threads",
               "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
               "--without-heartbeat", f"--hostname={queue}@%h"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_for_worker(app, queue: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1):
            return
    raise SystemExit("the worker did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--poll", type=float, default=0.1, help="seconds between two polls of the progress block"
    )
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()

    import psycopg

    from apps.connections.demo_warehouse import load_into_postgres

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{base.WAREHOUSE_DB}"')
    server = worker = None
    warehouse = f"host=127.0.0.1 user=postgres dbname={base.WAREHOUSE_DB}"
    try:
        django_setup(base.APP_DB, redis_db=args.redis_db)
        server, emulator = start_emulator()
        load_into_postgres(warehouse, users=args.users)
        workspace, sync, _ = workspace_with_sync(
            emulator,
            source_type="postgres",
            source_config=base.SOURCE,
            sql=base.SQL,
            primary_key="external_id",
            columns=base.COLUMNS,
            object_key="user",
            behavior="upsert",
            key_column="external_id",
            key_identifier="external_id",
            mappings=base.MAPPINGS,
            data_attributes=base.ATTRIBUTES,
        )
        base.seed_ledger(sync)
        every = round(1 / args.changed_share)
        with psycopg.connect(warehouse, autocommit=True) as conn:
            changed = conn.execute(
                f"UPDATE demo.users SET sessions_30d = sessions_30d + 1 WHERE user_id % {every} = 0"  # noqa: S608
            ).rowcount
            conn.execute("VACUUM ANALYZE demo.users")
        print(f"set-up: {args.users:,} users, {changed:,} changed ({changed / args.users:.1%})")

        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        from apps.syncs.engine.outcomes import RunCounts
        from apps.syncs.models import SyncPreviewRun
        from apps.syncs.runs.planning import sync_plan
        from apps.syncs.runs.preview import PLANNED_OUTCOME
        from apps.tenancy.models import Membership, Role
        from config.celery import app

        plans, outcome = [], Counter()
        for _ in range(args.repeats):
            started = time.monotonic()
            outcome = Counter()
            for record in sync_plan(sync=sync, full_resync=False):
                outcome[PLANNED_OUTCOME[record.operation]] += record.rows
            plans.append(time.monotonic() - started)
        plan_s = statistics.median(plans)
        print(f"plan (a run's): {plan_s:.2f} s median of {', '.join(f'{s:.2f}' for s in plans)}")

        queue = f"bench-preview-{uuid.uuid4().hex[:8]}"
        app.conf.task_default_queue = queue
        worker = start_worker(queue, base.APP_DB, args.redis_db, emulator.base_urls["US"])
        wait_for_worker(app, queue)
        setup_test_environment()
        client = Client()
        user = get_user_model().objects.create_user(email="bench@example.com", password=uuid.uuid4().hex)
        Membership.objects.for_workspace(workspace).create(workspace=workspace, user=user, role=Role.VIEWER)
        client.force_login(user)
        page_url = reverse("sync_preview", args=[workspace.slug, sync.pk])

        answers, shown, counts = [], [], RunCounts()
        for _ in range(args.repeats):
            started = time.monotonic()
            redirect = client.get(page_url)
            page = client.get(redirect.url)
            answered = time.monotonic() - started
            assert page.status_code == 200 and 'id="preview-block"' in page.content.decode(), page.status_code
            preview = SyncPreviewRun.objects.for_workspace(workspace).latest("created_at")
            progress = reverse("preview_progress", args=[workspace.slug, preview.pk])
            while True:
                block = client.get(progress, HTTP_HX_REQUEST="true").content.decode()
                if "Planned operations" in block or "The model could not be read" in block:
                    break
                time.sleep(args.poll)
            shown.append(time.monotonic() - started)
            answers.append(answered)
            preview.refresh_from_db()
            assert preview.status == "done", preview.error
            counts = RunCounts.from_json(preview.counts)
        same = all(counts[key] == n for key, n in outcome.items())
        print(
            f"the preview's counts: {', '.join(f'{k} {v:,}' for k, v in sorted(counts.to_json().items()) if v)}"
            f" ({'equal to' if same else 'NOT equal to'} the plan's)"
        )
        answer_ms, shown_s = statistics.median(answers) * 1000, statistics.median(shown)
        print(
            f"page answered: {answer_ms:.0f} ms median of {', '.join(f'{a * 1000:.0f}' for a in answers)} "
            f"(goal < 200 ms)"
        )
        print(
            f"counts shown: {shown_s:.2f} s median of {', '.join(f'{s:.2f}' for s in shown)}; "
            f"{shown_s / plan_s:.2f}× the plan time (goal ≤ 1.2×)"
        )
        print(f"{answer_ms:.0f}")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if server is not None:
            server.stop()
        drop_database(base.APP_DB)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{base.WAREHOUSE_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
