"""The one HTTP client for every call Syncline makes to Intercom's REST API (version 2.16).

Each call ends in a typed outcome:

- :class:`Accepted`: Intercom did it (with the Intercom id when there is one, and the response body);
- :class:`Rejected`: Intercom refused this record (4xx other than 401 and 429), with its error code and
  message kept verbatim for the run's per-record results;
- :class:`TransientFailure` (raised): 5xx, timeouts or connection errors outlasted the retries;
- :class:`AuthFailure` (raised): 401, the token is invalid or revoked. The caller marks the connection
  (:func:`apps.connections.intercom.reconnect.mark_needs_reconnect`) and stops the run; this client sends
  nothing more afterwards.

Every call first takes a slot from the shared rate limiter (:mod:`.ratelimit`). A 429 pauses the limiter
until ``X-RateLimit-Reset`` and retries without spending the record's retry budget; 5xx and network errors
back off exponentially with full jitter.

The transport is urllib3's connection pool, used directly: a sync spends most of its CPU on its calls, and
requests' session added more per call than the call itself (settings merged from the environment, a
prepared request and a response object built for every call; ``benchmarks/cpu_per_call.py``). What it
read from the environment is read once, when the client is built: the proxy for Intercom's host
(``HTTPS_PROXY``, ``NO_PROXY``…) and the CA bundle (``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``, else
certifi's); a ``~/.netrc`` is not read (the token is the only credential sent). Redirects are not followed.

The access token only ever lives in the client's ``Authorization`` header: reprs, exceptions, log lines and
the exchanges shown to observers (see :func:`add_exchange_observer`) never carry it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as TransportTimeout

from apps.common.metrics import (
    INTERCOM_CALL_SECONDS,
    INTERCOM_CALLS,
    INTERCOM_RATE_LIMITED,
    RATE_LIMITER_WAIT_SECONDS,
)
from apps.connections.intercom.ratelimit import RateLimiter, WaitMeter

logger = logging.getLogger(__name__)

INTERCOM_VERSION = "2.16"
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
DEFAULT_POOL_SIZE = 64  # connections kept open; opened only as calls in flight need them
REDACTED = "Bearer [redacted]"

_CONFLICT_ID = re.compile(r"id=([0-9A-Za-z_-]+)")


# -- outcomes --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Accepted:
    """Intercom accepted the call. ``intercom_id`` is the id of the object it returned, if any;
    ``matched_existing``: a create Intercom answered "already exists", that updated the existing one."""

    intercom_id: str | None
    body: Any = field(default=None, repr=False)
    matched_existing: bool = False


@dataclass(frozen=True)
class Rejected:
    """Intercom refused the call for this record; ``code`` and ``message`` are Intercom's own words (except
    ``permanently_deleted``, which explains Intercom's refusal and quotes it)."""

    status: int
    code: str
    message: str
    field: str | None = None
    request_id: str | None = None


Outcome = Accepted | Rejected


class IntercomError(Exception):
    """Base of the failures that stop a call rather than reject one record.

    Their text names the call and Intercom's error code, never the token; they pickle (task results).
    """


class TransientFailure(IntercomError):
    """Intercom or the network kept failing (5xx, timeouts, connection errors) after every retry."""

    def __init__(self, message: str, *, attempts: int = 0, status: int | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class AuthFailure(IntercomError):
    """401: the access token is invalid or revoked; the connection needs to be reconnected."""

    def __init__(self, message: str, *, code: str = "unauthorized", status: int = 401):
        super().__init__(message)
        self.code = code
        self.status = status


# -- observers (the test suite validates every exchange against the spec through this) --------------------
@dataclass(frozen=True)
class Exchange:
    """One request the client sent and the response it got, with the ``Authorization`` header redacted."""

    method: str
    base_url: str
    path: str  # the API path, e.g. "/contacts/abc/unarchive", without the base URL's own path
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes

    def as_json(self) -> dict[str, Any]:
        """A JSON-able form (bodies as text), e.g. for a worker process to hand exchanges to a test."""
        return {
            "method": self.method,
            "base_url": self.base_url,
            "path": self.path,
            "query": self.query,
            "request_headers": self.request_headers,
            "request_body": self.request_body.decode() if self.request_body is not None else None,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body.decode(errors="replace"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exchange:
        body = data.get("request_body")
        return cls(
            method=data["method"],
            base_url=data["base_url"],
            path=data["path"],
            query=dict(data["query"]),
            request_headers=dict(data["request_headers"]),
            request_body=body.encode() if body is not None else None,
            status=data["status"],
            response_headers=dict(data["response_headers"]),
            response_body=data["response_body"].encode(),
        )


@dataclass(frozen=True)
class Response:
    """Intercom's answer to one request: what the client reads of it."""

    status_code: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


ExchangeObserver = Callable[[Exchange], None]
_observers: list[ExchangeObserver] = []
_observers_lock = threading.Lock()


def add_exchange_observer(observer: ExchangeObserver) -> None:
    """Call ``observer`` with every :class:`Exchange` any client in this process completes."""
    with _observers_lock:
        _observers.append(observer)


def remove_exchange_observer(observer: ExchangeObserver) -> None:
    with _observers_lock:
        if observer in _observers:
            _observers.remove(observer)


def _notify(exchange: Exchange) -> None:
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        observer(exchange)


# -- helpers ---------------------------------------------------------------------------------------------
def _segment(value: str) -> str:
    """A path segment: an id or an external id may hold "/" or "?", so everything is escaped."""
    return quote(str(value), safe="")


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers[name]))
    except (KeyError, TypeError, ValueError):
        return None


def _json_body(response: Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _first_error(response: Response) -> tuple[str, str, str | None, str | None]:
    """(code, message, field, request_id) from Intercom's ``error.list``; a stand-in when the body is not."""
    body = _json_body(response)
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        return (
            str(first.get("code") or "unknown"),
            str(first.get("message") or ""),
            first.get("field"),
            body.get("request_id"),
        )
    return "unknown", f"HTTP {response.status_code} {response.reason or ''}".strip(), None, None


def _rejected(response: Response) -> Rejected:
    code, message, field_name, request_id = _first_error(response)
    return Rejected(response.status_code, code, message, field_name, request_id)


PERMANENTLY_DELETED = "permanently_deleted"


def _held_by_deleted_contact(contact_id: str, refusal: Rejected) -> Rejected:
    """A create answered "an archived contact … exists with id=X", and X cannot be unarchived: Intercom
    deleted X permanently, and keeps its email and external ID blocked for a while after a deletion."""
    return replace(
        refusal,
        code=PERMANENTLY_DELETED,
        message=(
            f"Intercom permanently deleted the contact that had this record's email or external ID "
            f"(id {contact_id}) and still blocks them, so it cannot be created again yet. Use another "
            f"email or external ID, or wait until Intercom frees them. (Intercom: {refusal.message})"
        ),
    )


def _object_id(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("id") is not None:
        return str(body["id"])
    return None


@dataclass(frozen=True)
class ClientStats:
    calls: int  # HTTP requests sent, retries included
    rate_limited: int  # of those, answered 429
    held_ms: int  # wall-clock milliseconds during which the rate limiter held calls back


def _pool_manager(base_url: str, pool_size: int, timeout: tuple[float, float]) -> urllib3.PoolManager:
    """Connections to Intercom's host, through the proxy the environment names for it, if any."""
    parts = urlsplit(base_url)
    options: dict[str, Any] = {
        "num_pools": 4,
        "maxsize": pool_size,
        "block": False,  # past pool_size threads, a connection is opened and not kept (as requests does)
        "retries": False,  # the client retries, under the rate limiter
        "timeout": urllib3.Timeout(connect=timeout[0], read=timeout[1]),
    }
    if parts.scheme == "https":
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        options |= {"cert_reqs": "CERT_REQUIRED", "ca_certs": bundle}
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


class IntercomClient:
    """Calls Intercom for one workspace: ``base_url`` is the region's API base (``https://api.eu.intercom.io``
    or the emulator's ``http://HOST:PORT/eu``), ``workspace_key`` the workspace's ``id_code`` (the limiter's
    key). Safe to share between threads; the connection pool holds ``pool_size`` connections.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        workspace_key: str,
        limiter: RateLimiter,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_rate_limit_waits: int = 30,
        pool_size: int = DEFAULT_POOL_SIZE,
    ):
        if not access_token:
            raise ValueError("an Intercom access token is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.workspace_key = workspace_key
        self.limiter = limiter
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_rate_limit_waits = max_rate_limit_waits
        self._auth_failure: AuthFailure | None = None
        self._stats_lock = threading.Lock()
        self._calls = 0  # HTTP requests sent, retries included
        self._rate_limited = 0  # 429s received
        self.waits = WaitMeter()  # how long the rate limiter held this client's calls
        self._http = _pool_manager(self.base_url, pool_size, timeout)
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Intercom-Version": INTERCOM_VERSION,
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Content-Type": "application/json",
        }
        self._headers_no_body = {k: v for k, v in self._headers.items() if k != "Content-Type"}
        # The metrics' children for this workspace, looked up once rather than per call.
        self._calls_metric = INTERCOM_CALLS.labels(workspace_key)
        self._rate_limited_metric = INTERCOM_RATE_LIMITED.labels(workspace_key)
        self._wait_metric = RATE_LIMITER_WAIT_SECONDS.labels(workspace_key)

    def __repr__(self) -> str:
        return f"<IntercomClient {self.base_url} workspace={self.workspace_key}>"

    def close(self) -> None:
        self._http.clear()

    def __enter__(self) -> IntercomClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> ClientStats:
        """What this client did so far (run history counts)."""
        with self._stats_lock:
            calls, rate_limited = self._calls, self._rate_limited
        return ClientStats(calls, rate_limited, round(self.waits.held_seconds() * 1000))

    def _count(self, *, rate_limited: bool = False) -> None:
        with self._stats_lock:
            if rate_limited:
                self._rate_limited += 1
            else:
                self._calls += 1
        (self._rate_limited_metric if rate_limited else self._calls_metric).inc()

    @property
    def auth_failure(self) -> AuthFailure | None:
        """The 401 this client met, if any; every later call raises it again without being sent."""
        return self._auth_failure

    # -- transport -------------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base·2^(attempt-1), capped."""
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _observe(self, response: Response) -> None:
        headers = response.headers
        limit = _int_header(headers, "X-RateLimit-Limit")
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if limit is not None or remaining is not None:
            self.limiter.observe(self.workspace_key, limit=limit, remaining=remaining, reset=reset)

    def _record(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        data: bytes | None,
        response: Response,
    ) -> None:
        if not _observers:
            return
        sent = self._headers if data is not None else self._headers_no_body
        headers = {k: REDACTED if k.lower() == "authorization" else v for k, v in sent.items()}
        _notify(
            Exchange(
                method=method,
                base_url=self.base_url,
                path=path,
                query={k: str(v) for k, v in (params or {}).items()},
                request_headers=headers,
                request_body=data,
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.content,
            )
        )

    def request(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> Response:
        """Send one call with pacing and retries; returns the final response (2xx or 4xx, not 401/429).

        Raises :class:`AuthFailure` on 401 and :class:`TransientFailure` when retries run out.
        """
        if self._auth_failure is not None:
            raise AuthFailure(str(self._auth_failure), code=self._auth_failure.code)
        method = method.upper()
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = self._headers if data is not None else self._headers_no_body  # no body, no content type
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        attempt = 0
        rate_limit_waits = 0
        while True:
            waited = self.limiter.acquire(self.workspace_key, self.waits)
            if waited:
                self._wait_metric.inc(waited)
            sent_at = time.monotonic()
            self._count()
            try:
                answer = self._http.urlopen(method, url, body=data, headers=headers, redirect=False)
            except TransportError as exc:
                attempt += 1
                timed_out = isinstance(exc, TransportTimeout) and not isinstance(exc, NewConnectionError)
                kind = "timed out" if timed_out else "could not connect"
                logger.warning(
                    "Intercom %s %s %s (attempt %d/%d)", method, path, kind, attempt, self.max_attempts
                )
                if attempt >= self.max_attempts:
                    raise TransientFailure(
                        f"Intercom {method} {path} {kind} after {attempt} attempts", attempts=attempt
                    ) from exc
                time.sleep(self._backoff(attempt))
                continue

            INTERCOM_CALL_SECONDS.observe(time.monotonic() - sent_at)
            response = Response(answer.status, answer.reason or "", answer.headers, answer.data)
            self._observe(response)
            self._record(method, path, params, data, response)
            status = response.status_code
            logger.debug("Intercom %s %s -> %d", method, path, status)

            if status == 429:
                self._count(rate_limited=True)
                rate_limit_waits += 1
                header_reset = _int_header(response.headers, "X-RateLimit-Reset")
                reset = time.time() + self.limiter.window_seconds if header_reset is None else header_reset
                logger.info("Intercom rate limit reached on %s %s; waiting until %s", method, path, reset)
                if rate_limit_waits > self.max_rate_limit_waits:
                    raise TransientFailure(
                        f"Intercom kept answering 429 to {method} {path} ({rate_limit_waits} times)",
                        attempts=attempt,
                        status=429,
                    )
                self.limiter.pause_until(self.workspace_key, reset)
                continue  # acquire() waits for the reset; the retry budget is untouched
            if status >= 500:
                attempt += 1
                logger.warning(
                    "Intercom %s %s answered %d (attempt %d/%d)",
                    method,
                    path,
                    status,
                    attempt,
                    self.max_attempts,
                )
                if attempt >= self.max_attempts:
                    code, message, _, _ = _first_error(response)
                    raise TransientFailure(
                        f"Intercom {method} {path} answered {status} {code} after {attempt} attempts: {message}",
                        attempts=attempt,
                        status=status,
                    )
                time.sleep(self._backoff(attempt))
                continue
            if status == 401:
                code, message, _, _ = _first_error(response)
                self._auth_failure = AuthFailure(
                    f"Intercom refused the access token ({code}: {message}); reconnect Intercom", code=code
                )
                logger.warning("Intercom %s %s: access token refused (%s)", method, path, code)
                raise self._auth_failure
            return response

    def _outcome(self, response: Response) -> Outcome:
        if response.status_code >= 400:
            return _rejected(response)
        body = _json_body(response)
        return Accepted(_object_id(body), body)

    def _call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> Outcome:
        return self._outcome(self.request(method, path, body=body, params=params))

    # -- identity --------------------------------------------------------------------------------------
    def me(self) -> Outcome:
        """``GET /me``: the admin and the workspace (``body["app"]["id_code"]``, ``["region"]``)."""
        return self._call("GET", "/me")

    # -- contacts --------------------------------------------------------------------------------------
    def create_contact(self, body: dict[str, Any]) -> Outcome:
        """``POST /contacts``; on 409 "already exists with id=…", unarchive if archived, then update it
        (the answer is then ``matched_existing``).

        Ends in one contact either way: a conflict never creates a second one. When the "archived" contact
        was permanently deleted (unarchive answers 400 "not restorable": Intercom keeps a deleted contact's
        identifiers blocked for a while), the answer is :class:`Rejected` with code ``permanently_deleted``
        after two calls.
        """
        response = self.request("POST", "/contacts", body=body)
        if response.status_code != 409:
            return self._outcome(response)
        conflict = _rejected(response)
        match = _CONFLICT_ID.search(conflict.message)
        if match is None:
            return conflict
        contact_id = match.group(1)
        if "archived" in conflict.message.lower():
            unarchived = self.unarchive_contact(contact_id)
            if isinstance(unarchived, Rejected) and unarchived.status == 400:
                return _held_by_deleted_contact(contact_id, unarchived)
            if isinstance(unarchived, Rejected):
                return unarchived
        updated = self.update_contact(contact_id, body)
        return replace(updated, matched_existing=True) if isinstance(updated, Accepted) else updated

    def update_contact(self, contact_id: str, body: dict[str, Any]) -> Outcome:
        return self._call("PUT", f"/contacts/{_segment(contact_id)}", body=body)

    def get_contact(self, contact_id: str) -> Outcome | None:
        """``GET /contacts/{id}``; None when Intercom has no such contact."""
        response = self.request("GET", f"/contacts/{_segment(contact_id)}")
        return None if response.status_code == 404 else self._outcome(response)

    def find_contact_by_external_id(self, external_id: str) -> Outcome | None:
        """``GET /contacts/find_by_external_id/{external_id}`` (users only); None when not found."""
        response = self.request("GET", f"/contacts/find_by_external_id/{_segment(external_id)}")
        return None if response.status_code == 404 else self._outcome(response)

    def search_contacts(self, query: dict[str, Any], *, per_page: int = 50) -> Outcome:
        """``POST /contacts/search`` with one query; oldest first, one page."""
        body = {
            "query": query,
            "pagination": {"per_page": per_page},
            "sort": {"field": "created_at", "order": "ascending"},
        }
        response = self.request("POST", "/contacts/search", body=body)
        if response.status_code >= 400:
            return _rejected(response)
        return Accepted(None, _json_body(response))

    def find_contact(self, identifier_field: str, value: str) -> Outcome | None:
        """The contact whose ``identifier_field`` (``id``, ``email`` or ``external_id``) equals ``value``.

        Returns :class:`Accepted` with the contact, None when none matches (search lags writes by up to a
        few minutes, so "none" is not proof; creating then handles the 409), or :class:`Rejected`.
        With several matches (leads may share an email) the oldest wins.
        """
        if identifier_field == "id":
            return self.get_contact(value)
        if identifier_field not in ("email", "external_id"):
            raise ValueError(f"contacts cannot be found by {identifier_field!r}")
        found = self.search_contacts({"field": identifier_field, "operator": "=", "value": value}, per_page=2)
        if isinstance(found, Rejected):
            return found
        contacts = (found.body or {}).get("data") or []
        return Accepted(_object_id(contacts[0]), contacts[0]) if contacts else None

    def archive_contact(self, contact_id: str) -> Outcome:
        return self._call("POST", f"/contacts/{_segment(contact_id)}/archive")

    def unarchive_contact(self, contact_id: str) -> Outcome:
        return self._call("POST", f"/contacts/{_segment(contact_id)}/unarchive")

    def delete_contact(self, contact_id: str) -> Outcome:
        return self._call("DELETE", f"/contacts/{_segment(contact_id)}")

    # -- companies -------------------------------------------------------------------------------------
    def upsert_company(self, body: dict[str, Any]) -> Outcome:
        """``POST /companies``: creates or updates by ``company_id``. Attach a contact, or Intercom hides it."""
        return self._call("POST", "/companies", body=body)

    def find_company(self, company_id: str) -> Outcome | None:
        """``GET /companies?company_id=``; None when absent. Accepts a ``list`` or a single ``company``."""
        response = self.request("GET", "/companies", params={"company_id": company_id})
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            return _rejected(response)
        body = _json_body(response)
        if isinstance(body, dict) and body.get("type") == "list":
            companies = body.get("data") or []
            body = companies[0] if companies else None
        if not isinstance(body, dict):
            return None
        return Accepted(_object_id(body), body)

    def get_company(self, company_intercom_id: str) -> Outcome | None:
        """``GET /companies/{id}`` by the Intercom id; None when Intercom has no such company (or deleted it)."""
        response = self.request("GET", f"/companies/{_segment(company_intercom_id)}")
        return None if response.status_code == 404 else self._outcome(response)

    def delete_company(self, company_intercom_id: str) -> Outcome:
        return self._call("DELETE", f"/companies/{_segment(company_intercom_id)}")

    def attach_contact_to_company(self, contact_id: str, company_intercom_id: str) -> Outcome:
        """``POST /contacts/{contact_id}/companies`` with the company's Intercom id (not its company_id)."""
        return self._call(
            "POST", f"/contacts/{_segment(contact_id)}/companies", body={"id": company_intercom_id}
        )

    # -- events ----------------------------------------------------------------------------------------
    def send_event(self, body: dict[str, Any]) -> Outcome:
        """``POST /events``: 202 with an empty body; Intercom drops duplicates of (contact, name, created_at)."""
        return self._call("POST", "/events", body=body)

    def list_events(self, identifier_field: str, value: str) -> Outcome | None:
        """``GET /events?type=user&<field>=``: the contact's events (``body["events"]``), None when Intercom
        has no such contact. ``identifier_field``: user_id, email or intercom_user_id."""
        response = self.request("GET", "/events", params={"type": "user", identifier_field: value})
        if response.status_code == 404:
            return None
        return self._outcome(response)

    # -- data attributes -------------------------------------------------------------------------------
    def list_data_attributes(self, model: str, *, include_archived: bool = False) -> Outcome:
        """``GET /data_attributes?model=``; ``body["data"]`` holds the attributes."""
        params = {"model": model, "include_archived": "true" if include_archived else "false"}
        return self._call("GET", "/data_attributes", params=params)

    def create_data_attribute(
        self,
        name: str,
        model: str,
        data_type: str,
        options: list[str] | None = None,
        description: str | None = None,
        messenger_writable: bool | None = None,
    ) -> Outcome:
        """``POST /data_attributes``. Intercom never lets the type of an attribute change afterwards."""
        body: dict[str, Any] = {"name": name, "model": model, "data_type": data_type}
        if options is not None:
            body["options"] = [{"value": option} for option in options]
        if description is not None:
            body["description"] = description
        if messenger_writable is not None:
            body["messenger_writable"] = messenger_writable
        return self._call("POST", "/data_attributes", body=body)


def intercom_client(
    *,
    base_url: str,
    access_token: str,
    workspace_key: str,
    limiter: RateLimiter | None = None,
    **options: Any,
) -> IntercomClient:
    """A client wired to the process's shared limiter (:func:`~.ratelimit.get_rate_limiter`)."""
    if limiter is None:
        from apps.connections.intercom.ratelimit import get_rate_limiter

        limiter = get_rate_limiter()
    return IntercomClient(base_url, access_token, workspace_key, limiter, **options)
