"""The engine stays plain Python: importing it loads no Django, no HTTP client, no database driver."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_engine_imports_no_django_http_or_database():
    script = (
        "import sys\n"
        "import apps.syncs.engine.config, apps.syncs.engine.ledger, apps.syncs.engine.payload\n"
        "import apps.syncs.engine.plan\n"
        "banned = ('django', 'requests', 'httpx', 'psycopg', 'pymysql', 'duckdb', 'celery', 'redis')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
