"""Log lines that say which workspace, sync, run and request they concern, as JSON (LOG_FORMAT=json, the
default) or as plain text (LOG_FORMAT=text, the run command's default: easier to read in a terminal).

The context lives in a ContextVar: a request binds its request id (middleware) and its workspace
(`workspace_view`), a run binds its workspace, sync and run (`sync_run_execute`, whose record threads run in
a copy of the run's context). Celery tasks start from an empty context. A filter on the handlers puts the
fields on every record and scrubs bearer tokens and access tokens out of messages, as a last guard: the
code never passes a secret to a logger in the first place.
"""

import logging
import os
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from pythonjsonlogger.json import JsonFormatter

FIELDS = ("workspace", "sync_id", "run_id", "request_id")
_context: ContextVar[dict] = ContextVar("syncline_log_context", default={})  # noqa: B039 - never mutated

PROCESS = os.environ.get("SYNCLINE_PROCESS", "")  # web, worker, beat: set by the run command's supervisor

_SECRET_PATTERNS = [
    (re.compile(r"(Bearer\s+)[^\s\"',]+", re.IGNORECASE), r"\1[redacted]"),
    (
        re.compile(
            r"((?:access_token|client_secret|password|token)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+", re.I
        ),
        r"\1[redacted]",
    ),
]


def bind(**fields) -> None:
    """Add fields to the current context (this thread or task, and what it starts with a copy of it)."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear() -> None:
    _context.set({})


@contextmanager
def bound(**fields):
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict:
    return dict(_context.get())


def scrub(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Puts the context's fields (None when unknown) and the process name on every record; scrubs
    tokens out of the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for name in FIELDS:
            setattr(record, name, context.get(name))
        record.process_name = PROCESS or None
        # Text lines: the process first (the run command interleaves web, worker, beat), then the context.
        shown = ([PROCESS] if PROCESS else []) + [
            f"{name}={context[name]}" for name in FIELDS if name in context
        ]
        record.context = " ".join(shown)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's own error to report
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ExpectedRefusalFilter(logging.Filter):
    """Django logs a PermissionDenied (403) on `django.request` with its traceback, as if it were a fault.
    A viewer pressing a button they may not use is an expected answer: one INFO line, no traceback, so
    that the web log's warnings and errors stay worth reading."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


class JsonLines(JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process_name)s "
            + " ".join(f"%({f})s" for f in FIELDS),
            *args,
            **kwargs,
        )

    def process_log_record(self, log_record):
        log_record.pop("context", None)
        return super().process_log_record(log_record)


class RequestContextMiddleware:
    """Every line a request writes carries its id: the caller's X-Request-ID when it looks like one (a
    proxy's), else a new one; the response says which."""

    _valid = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if self._valid.match(given) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished): Django logs 4xx and 5xx after the
        # middleware chain has returned.
        _context.set({"request_id": request_id})
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="logs.request_finished")
def _request_finished(**_) -> None:
    clear()
