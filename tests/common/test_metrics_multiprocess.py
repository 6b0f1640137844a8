"""Multiprocess mode: counters written by several processes (gunicorn workers, Celery workers) add up in
the scrape of another one."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SETUP = "import django; django.setup()\n"
COUNT = SETUP + "from apps.common.metrics import INTERCOM_CALLS; INTERCOM_CALLS.labels('ws-1').inc(3)"
SCRAPE = SETUP + textwrap.dedent("""
    from django.test import RequestFactory, override_settings
    from apps.common.metrics import metrics_response
    with override_settings(METRICS_TOKEN="t"):
        request = RequestFactory().get("/metrics", HTTP_AUTHORIZATION="Bearer t")
        print(metrics_response(request).content.decode())
""")


def python(code: str, folder: Path) -> str:
    env = os.environ | {
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_counters_of_two_processes_add_up_in_a_third_ones_scrape(tmp_path):
    python(COUNT, tmp_path)
    python(COUNT, tmp_path)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file a process (host and pid in its name)
    assert 'syncline_intercom_calls_total{intercom_workspace="ws-1"} 6.0' in python(SCRAPE, tmp_path)
