"""Production settings: refuse to start without their secrets, and pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x7Gq2vN9pL4mZ8rT1wY6bK3hJ5cF0dS2aQ9eU7iO4lP8nM1vB6xC3zR5tW0yH2gD",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_ALLOWED_HOSTS": "syncline.example.com",
}


def manage(*args, drop=()):
    # Only the basics of the shell: nothing the test process itself set may leak into the check.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= {k: v for k, v in PRODUCTION_ENV.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_its_secret_key():
    result = manage("check", drop=("DJANGO_SECRET_KEY",))
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_production_refuses_to_start_without_the_encryption_keys():
    result = manage("check", drop=("FIELD_ENCRYPTION_KEYS",))
    assert result.returncode != 0
    assert "Set the FIELD_ENCRYPTION_KEYS environment variable" in result.stderr


def test_production_requires_verified_email():
    code = "from django.conf import settings; print(settings.ACCOUNT_EMAIL_VERIFICATION)"
    result = manage("shell", "--no-imports", "-c", code)
    assert result.stdout.strip() == "mandatory"


def test_env_example_lists_every_variable_the_settings_read():
    import re

    example = (ROOT / ".env.example").read_text()
    settings_text = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_text))
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.M))
    assert read - listed == set()
