"""Tests run against PostgreSQL and Redis on localhost: the production path."""

import os
import tempfile
from pathlib import Path

# The local emulator speaks plain HTTP; oauthlib refuses that unless told. Never set in production.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWtleS1ub3QtYS1zZWNyZXQtMzJieXQ=")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/syncline")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings.base import *  # noqa: E402,F403
from config.settings.base import MIDDLEWARE  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]
CELERY_TASK_ALWAYS_EAGER = False
# Tests and benchmarks write their DuckDB files with pytest's tmp_path or tempfile, under the system's temp
# folder; tests of the folder rules set their own DUCKDB_DATA_DIR.
DUCKDB_DATA_DIR = Path(tempfile.gettempdir())
# No drift check unless a test asks for one: the other tests count every call to Intercom.
SYNC_DRIFT_SAMPLE = 0
# A test's worker process given TEST_CELERY_QUEUE (tests/alerts) sends the tasks it enqueues (an alert email, a webhook
# delivery) to that test's own queue, where that worker takes them.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("TEST_CELERY_QUEUE", "celery")

# `./syncline test` runs the run and ledger tests (marked `embedded`) a second time on SQLite, the embedded
# default of `./syncline run`, with DATABASE_URL=sqlite:///<file>. The test database is a file too (beside
# it), so that the worker processes a test starts share it; base.py gives it the run command's options.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}.test"}  # noqa: F405
