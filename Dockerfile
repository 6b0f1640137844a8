# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN groupadd --system syncline && useradd --system --gid syncline --home /app syncline

COPY pyproject.toml README.md ./
COPY config ./config
COPY apps ./apps
COPY emulators ./emulators
RUN pip install ".[emulator]"

COPY . .
# collectstatic needs settings to import, not real secrets.
RUN DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=build-only \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktbm90LXVzZWQtYXQtcnVudGltZQ== \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://localhost:6379/0 DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input -v 0 \
 && mkdir -p /var/lib/syncline/metrics \
 && chown -R syncline:syncline /app /var/lib/syncline

USER syncline
ENV DJANGO_SETTINGS_MODULE=config.settings.production
EXPOSE 8000
# Threads (gthread): an API call that waits for a run (?wait=, up to 300 s) holds one thread, not a process,
# and the worker keeps telling the arbiter it is alive meanwhile, so the 30-s worker time-out does not end it.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "8", "--access-logfile", "-"]
