"""Settings shared by every environment. Everything a deployment changes comes from the environment.

Without DATABASE_URL and REDIS_URL the product runs embedded: a SQLite file database and a Celery broker
on the filesystem, both under var/. With them set it uses PostgreSQL and Redis (the production path).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Only the process environment is read here; local.py also loads .env for development.
env = environ.Env()

# The embedded default's files (SQLite database, broker, cache, DuckDB files, the emulator's state).
VAR_DIR = Path(env("SYNCLINE_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SYNCLINE_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "allauth",
    "allauth.account",
    "apps.common",
    "apps.tenancy",
    "apps.connections",
    "apps.models",
    "apps.syncs",
    "apps.alerts",
    "apps.api",
    "apps.ascode",
]

MIDDLEWARE = [
    # /healthz and /readyz: before Host checks and HTTPS redirects (probes come from anywhere, on plain HTTP)
    "apps.common.health.HealthCheckMiddleware",
    "apps.common.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.common.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.tenancy.access.WorkspaceTimeZoneMiddleware",
    # Who the audit trail names for a change (the signed-in user; the API's key auth sets its key)
    "apps.tenancy.audit.AuditActorMiddleware",
]

# Content-Security-Policy, in every environment: scripts, styles and images come from this site only (Pico's
# icons are data: images); no inline script, no style attribute, no eval (htmx is configured for it in
# templates/base.html); no plugins, no framing, and forms post here only (and to Intercom's consent page,
# apps/common/csp.py). DEBUG's own error pages (500, 404) go without it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.tenancy.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'syncline.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database is shared by web, worker and beat processes: a write transaction takes the
    # write lock when it begins (IMMEDIATE), so that it waits its turn (up to `timeout` seconds) instead of
    # failing at once with "database is locked" when it upgrades a read lock; WAL lets readers go on
    # while one process writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email is the login; rate limits are allauth's defaults, but for failed logins.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_FORMS = {"signup": "apps.tenancy.forms.SignupForm", "login": "apps.tenancy.forms.LoginForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Syncline] "
# Failed logins: at most 10 a minute from one address, and 5 in 5 minutes for one account from one address
# (the adapter keys "key" by account and address, so a stranger's wrong passwords never lock the user out).
ACCOUNT_ADAPTER = "apps.tenancy.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# The client address of login and API-key throttling is REMOTE_ADDR. Behind reverse proxies that append to
# X-Forwarded-For, set TRUSTED_PROXY_COUNT to their number, or every client looks like the proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Secrets at rest (connection credentials): comma-separated Fernet keys, the first one encrypts.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Syncline <syncline@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# Celery: Redis when REDIS_URL is set, else a filesystem broker that needs no server (embedded mode).
BROKER_FOLDER = VAR_DIR / "broker"
# The exchange tables; kombu's default is ./control, which would land in the checkout instead of var/.
BROKER_CONTROL_FOLDER = VAR_DIR / "broker-control"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
    BROKER_CONTROL_FOLDER.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_FOLDER),
        "data_folder_out": str(BROKER_FOLDER),
        "control_folder": str(BROKER_CONTROL_FOLDER),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    # Redis redelivers an unacknowledged task after this long; runs longer than it are split into chunks.
    else {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# Logs: JSON lines (one object a line: time, level, logger, message, process_name, workspace, sync_id,
# run_id, request_id) or plain text with the same context ("text": the run command's default).
LOG_FORMAT = env("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f'LOG_FORMAT is "{LOG_FORMAT}"; set it to "json" or "text".')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "apps.common.logs.ContextFilter"},
        "expected_refusals": {"()": "apps.common.logs.ExpectedRefusalFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s [%(context)s]"},
        "json": {"()": "apps.common.logs.JsonLines"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["expected_refusals"]},  # a 403 is an answer, not a fault
    },
}

# Intercom's per-minute limit for one app, enforced in windows of this many seconds (a sixth per window).
# The client paces every worker to it (through Redis when REDIS_URL is set); Intercom's headers can lower it.
INTERCOM_RATE_LIMIT_PER_MINUTE = env.int("INTERCOM_RATE_LIMIT_PER_MINUTE", default=10_000)
INTERCOM_RATE_LIMIT_WINDOW_SECONDS = env.float("INTERCOM_RATE_LIMIT_WINDOW_SECONDS", default=10.0)

# Hosting mode (README, "Hosting mode"): "team" for one organisation (private warehouse hosts allowed,
# DuckDB files under DUCKDB_DATA_DIR), "shared" for unrelated tenants on one installation (warehouses and
# webhooks on public addresses only, DuckDB only as files uploaded into the workspace's own folder).
HOSTING_MODE = env("SYNCLINE_HOSTING_MODE", default="team")
if HOSTING_MODE not in ("team", "shared"):
    raise ImproperlyConfigured(f'SYNCLINE_HOSTING_MODE is "{HOSTING_MODE}"; set it to "team" or "shared".')
for _replaced in ("SOURCES_BLOCK_PRIVATE_HOSTS", "WEBHOOKS_BLOCK_PRIVATE_HOSTS"):
    if _replaced in env:  # a security setting must not be dropped silently
        raise ImproperlyConfigured(
            f'{_replaced} was replaced by SYNCLINE_HOSTING_MODE (README, "Hosting mode"): remove it, and set '
            "SYNCLINE_HOSTING_MODE=shared to refuse private and loopback hosts."
        )
# DuckDB files: every file a connection opens lives here; uploads go to workspaces/<workspace id>/ below it.
DUCKDB_DATA_DIR = Path(env("DUCKDB_DATA_DIR", default=str(VAR_DIR / "duckdb")))
DUCKDB_UPLOAD_MAX_MB = env.int("DUCKDB_UPLOAD_MAX_MB", default=1024)
# dbt manifests (README, "dbt models"): the largest manifest.json accepted, uploaded or read from a path; and,
# in team hosting only, the folder whose manifests a dbt project may be read from by path.
DBT_MANIFEST_MAX_MB = env.int("DBT_MANIFEST_MAX_MB", default=100)
DBT_PROJECTS_DIR = Path(env("DBT_PROJECTS_DIR", default=str(VAR_DIR / "dbt")))
# Where Snowflake connections send their requests instead of <account>.snowflakecomputing.com, as a URL
# (http://127.0.0.1:8123): for tests against a stand-in only; empty in every real installation.
SNOWFLAKE_ENDPOINT = env("SYNCLINE_SNOWFLAKE_ENDPOINT", default="")

# Intercom. The base URLs are settings so that the local emulator stands in for Intercom by configuration.
INTERCOM_CLIENT_ID = env("INTERCOM_CLIENT_ID", default="")
INTERCOM_CLIENT_SECRET = env("INTERCOM_CLIENT_SECRET", default="")
INTERCOM_API_BASE_URLS = {
    "US": env("INTERCOM_API_BASE_URL_US", default="https://api.intercom.io"),
    "EU": env("INTERCOM_API_BASE_URL_EU", default="https://api.eu.intercom.io"),
    "AU": env("INTERCOM_API_BASE_URL_AU", default="https://api.au.intercom.io"),
}
# Where the consent page lives (Intercom's "app" hosts).
INTERCOM_APP_BASE_URLS = {
    "US": env("INTERCOM_APP_BASE_URL_US", default="https://app.intercom.com"),
    "EU": env("INTERCOM_APP_BASE_URL_EU", default="https://app.eu.intercom.com"),
    "AU": env("INTERCOM_APP_BASE_URL_AU", default="https://app.au.intercom.com"),
}
INTERCOM_OAUTH_STATE_SECONDS = 600

# Sync runs: rows read from the warehouse per batch, Intercom calls in flight per run, days to keep the
# per-record results (rejected and invalid records) of past runs.
SYNC_BATCH_SIZE = env.int("SYNC_BATCH_SIZE", default=5000)
# 32 in flight: Intercom's 166 calls/s at a round trip of up to ~0.2 s (docs/scaling.md); the limiter paces them.
SYNC_CONCURRENCY = env.int("SYNC_CONCURRENCY", default=32)
# Runs of one workspace running at once; more wait in the queue, so that one workspace's big syncs
# never hold every worker thread (keep it below the worker's --concurrency). Checked again after N seconds.
SYNC_MAX_RUNNING_PER_WORKSPACE = env.int("SYNC_MAX_RUNNING_PER_WORKSPACE", default=2)
SYNC_BUSY_WORKSPACE_RETRY_SECONDS = env.float("SYNC_BUSY_WORKSPACE_RETRY_SECONDS", default=5.0)
SYNC_RECORD_RESULTS_DAYS = env.int("SYNC_RECORD_RESULTS_DAYS", default=30)
# Previews (planned by workers) are kept this long, then purged with the hourly purge.
SYNC_PREVIEW_KEEP_HOURS = env.int("SYNC_PREVIEW_KEEP_HOURS", default=24)
# Ledger records a run looks up in Intercom (one call each) to find records deleted there (apps.syncs.runs.drift).
SYNC_DRIFT_SAMPLE = env.int("SYNC_DRIFT_SAMPLE", default=5)
# Intercom client: attempts per call on 5xx / timeouts / connection errors, and the backoff's base delay.
INTERCOM_CLIENT_MAX_ATTEMPTS = env.int("INTERCOM_CLIENT_MAX_ATTEMPTS", default=5)
INTERCOM_CLIENT_BACKOFF_SECONDS = env.float("INTERCOM_CLIENT_BACKOFF_SECONDS", default=0.5)
# A running run writes a heartbeat this often; one silent for the lease is ended as failed (worker lost).
SYNC_RUN_HEARTBEAT_SECONDS = env.float("SYNC_RUN_HEARTBEAT_SECONDS", default=10.0)
# With the reaper's pass every SYNC_REAP_EVERY_SECONDS, a run whose worker died is continued within
# lease + pass (40 s by default). A run reaped while its worker was alive after all stops at its next
# heartbeat (its heartbeat finds it ended) and writes nothing more.
SYNC_RUN_LEASE_SECONDS = env.int("SYNC_RUN_LEASE_SECONDS", default=30)
SYNC_REAP_EVERY_SECONDS = env.float("SYNC_REAP_EVERY_SECONDS", default=10.0)
# A long run is cut into tasks of at most this long (well under the broker's visibility timeout, after
# which Redis would hand an unacknowledged task to another worker).
SYNC_RUN_SLICE_SECONDS = env.float("SYNC_RUN_SLICE_SECONDS", default=20 * 60)
# A transient warehouse error (connection refused or lost, a timeout: a warehouse restarting) before a run
# sent anything is retried, at most this many attempts in all, after 2, 4, 8… × the backoff seconds, and
# within this many seconds of waiting; after that, the run fails with the warehouse's message.
SYNC_SOURCE_RETRY_ATTEMPTS = env.int("SYNC_SOURCE_RETRY_ATTEMPTS", default=4)
SYNC_SOURCE_RETRY_BACKOFF_SECONDS = env.float("SYNC_SOURCE_RETRY_BACKOFF_SECONDS", default=2.0)
SYNC_SOURCE_RETRY_SECONDS = env.float("SYNC_SOURCE_RETRY_SECONDS", default=30.0)
# The task telling alerts, webhooks, metrics and sequence followers of a run's end retries a listener that
# failed (a database blip) after 2, 4, 8… × this many seconds, at most this many times.
SYNC_ANNOUNCE_BACKOFF_SECONDS = env.int("SYNC_ANNOUNCE_BACKOFF_SECONDS", default=2)
SYNC_ANNOUNCE_MAX_RETRIES = env.int("SYNC_ANNOUNCE_MAX_RETRIES", default=8)
# A run queued this long is enqueued again, in case its message was lost (Redis flushed or restarted).
SYNC_RUN_REQUEUE_SECONDS = env.int("SYNC_RUN_REQUEUE_SECONDS", default=10 * 60)
# REST API: requests per API key (django-ninja's rate format: 120/min, 10/s, 30/10s, 1000/hour; each
# request of the window is remembered, so keep the count in the hundreds or low thousands).
API_RATE_LIMIT = env("API_RATE_LIMIT", default="120/min")
# Unknown or revoked API keys one client address may send per window (same format); past it, 429 for every
# key from that address until the window ends (the address as for logins: see TRUSTED_PROXY_COUNT).
API_FAILED_KEY_LIMIT = env("API_FAILED_KEY_LIMIT", default="30/10min")
# Calls of one API key that may wait for a run's end (?wait=) at once: each holds a web thread meanwhile.
API_WAITS_PER_KEY = env.int("API_WAITS_PER_KEY", default=8)
# /readyz: each check's network timeout; workers refresh a heartbeat in the cache this often, and one older
# than the stale limit means no worker is there to run syncs.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=15.0)
WORKER_HEARTBEAT_STALE_SECONDS = env.float("WORKER_HEARTBEAT_STALE_SECONDS", default=60.0)
# /metrics (Prometheus) answers only requests bearing this token ("Authorization: Bearer …"); unset, 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "apps.syncs.tasks.reap_stale_runs_task",
        "schedule": SYNC_REAP_EVERY_SECONDS,
        "options": {"expires": SYNC_REAP_EVERY_SECONDS},  # a pass left waiting: the next one does its work
    },
    # At the start of every minute, so a sync scheduled for 09:00 is queued at 09:00, not 09:00:40. A pass
    # left waiting behind busy workers expires: the next one does the same work.
    "run-due-schedules": {
        "task": "apps.syncs.tasks.run_due_schedules_task",
        "schedule": crontab(),
        "options": {"expires": 55},
    },
    "alert-long-runs": {"task": "apps.alerts.tasks.alert_long_runs_task", "schedule": 60.0},
    "purge-webhook-deliveries": {
        "task": "apps.alerts.tasks.purge_webhook_deliveries_task",
        "schedule": 3600.0,
    },
    # Record details (every record a run sent, with its body) past SYNC_RECORD_RESULTS_DAYS.
    "purge-record-results": {"task": "apps.syncs.tasks.purge_record_results_task", "schedule": 3600.0},
    # Previews older than SYNC_PREVIEW_KEEP_HOURS.
    "purge-previews": {"task": "apps.syncs.tasks.purge_previews_task", "schedule": 3600.0},
}

# Webhooks: endpoints must be https; which addresses they may resolve to follows HOSTING_MODE (never DEBUG,
# which the run command always sets). A delivery is tried up to WEBHOOK_MAX_ATTEMPTS times on network
# errors, 5xx and 429, waiting base × 4^n seconds between attempts, at most 30 minutes (a Redis-delayed task
# past the visibility timeout would be redelivered).
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=True)
# UNSAFE, for tests and development only: let webhooks reach this machine's own services (loopback).
UNSAFE_ALLOW_LOOPBACK_WEBHOOKS = env.bool("UNSAFE_ALLOW_LOOPBACK_WEBHOOKS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=15.0)
WEBHOOK_DELIVERY_DAYS = env.int("WEBHOOK_DELIVERY_DAYS", default=30)  # deliveries shown, then deleted

# The run page's record index carries the workspace as an included column (PostgreSQL reads counts from the
# index alone); SQLite, the embedded demo's database, ignores included columns, which is fine there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
