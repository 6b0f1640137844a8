"""Local development and the embedded demo: safe defaults so `./syncline run` works on a bare machine."""

import os
from pathlib import Path

import environ

# The run command writes a .env with generated secrets; read it first so its values win over the
# placeholders below, which only cover a bare `manage.py` on a fresh clone.
environ.Env.read_env(Path(__file__).resolve().parent.parent.parent / ".env", overwrite=False)
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("LOG_FORMAT", "text")  # easier to read in a terminal; LOG_FORMAT=json for JSON lines
# The local emulator speaks plain HTTP; oauthlib refuses that unless told. Never set in production.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "bG9jYWwtZGV2LW9ubHkta2V5LW5vdC1zZWNyZXQtMzI=")

# Intercom: the local emulator stands in for it unless .env points at the real thing.
_emulator = os.environ.get("SYNCLINE_EMULATOR_URL", "http://127.0.0.1:8010")
for _region in ("US", "EU", "AU"):
    os.environ.setdefault(f"INTERCOM_API_BASE_URL_{_region}", f"{_emulator}/{_region.lower()}")
    os.environ.setdefault(f"INTERCOM_APP_BASE_URL_{_region}", f"{_emulator}/{_region.lower()}")
os.environ.setdefault("INTERCOM_CLIENT_ID", "syncline-local")
os.environ.setdefault("INTERCOM_CLIENT_SECRET", "local-emulator-only-not-a-secret")

from config.settings.base import *  # noqa: E402,F403
from config.settings.base import LOGGING  # noqa: E402

# The terminal of `./syncline run`: no "task received / succeeded" pair for every reaper pass (every 10 s).
LOGGING["loggers"] |= {name: {"level": "WARNING"} for name in ("celery.worker.strategy", "celery.app.trace")}
