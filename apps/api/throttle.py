"""How often one API key may call the API: `API_RATE_LIMIT` (default 120/min), counted in the shared
cache (Redis in production), so every web process counts the same requests. django-ninja's own sliding
window does the counting; an answer over the limit is a 429 with Retry-After (endpoints' handler).

And how many unknown or revoked keys one client address may present: `API_FAILED_KEY_LIMIT` (default
30/10min). Past it, every key from that address is answered 429 until the window ends, so that nobody can
try secrets at the speed of the server; keys used from other addresses are not affected."""

import math
import threading
import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle


def _per_thread(name: str) -> property:
    return property(
        lambda self: getattr(self._state, name), lambda self, value: setattr(self._state, name, value)
    )


class PerApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"
    # django-ninja keeps a request's window on the throttle from allow_request() to wait(), and one
    # throttle serves every request: in a threaded server that state must be the thread's own.
    key, history, now = _per_thread("key"), _per_thread("history"), _per_thread("now")
    num_requests, duration = _per_thread("num_requests"), _per_thread("duration")

    def __init__(self):
        self._state = threading.local()
        super().__init__(rate=settings.API_RATE_LIMIT)

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT  # read per request: the setting can change without a restart
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def wait(self) -> float:
        """Seconds until the key's oldest request leaves the window: always a number, so every 429 has a
        Retry-After (ninja's answer is None for a window holding more requests than a lowered limit)."""
        oldest = self.history[-1] if self.history else self.now
        return super().wait() or max(1.0, self.duration - (self.now - oldest))

    def get_cache_key(self, request: HttpRequest) -> str | None:
        api_key = getattr(request, "auth", None)
        return None if api_key is None else f"api-throttle:{api_key.pk}"


def limit_in_words() -> str:
    """The limit as people read it: "120 requests a minute" ("30 requests per 10 s" for other windows)."""
    throttle = PerApiKeyThrottle()
    per = {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}.get(throttle.duration)
    return f"{throttle.num_requests} requests {per or f'per {throttle.duration} s'}"


class TooManyFailedKeys(Exception):
    """The client's address presented too many unknown or revoked keys in the current window."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or, behind proxies, the one that ALLAUTH_TRUSTED_PROXY_COUNT or
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER say to trust (the login throttle reads the same)."""
    try:
        return get_adapter(request).get_client_ip(request)
    except Exception:  # no address at all (a test client without REMOTE_ADDR): one shared bucket
        return request.META.get("REMOTE_ADDR") or "unknown"


def _failed_key_limit() -> tuple[int, int]:
    """(failures, window in seconds), read per request like API_RATE_LIMIT, in the same format."""
    limit = SimpleRateThrottle(rate=settings.API_FAILED_KEY_LIMIT)
    return limit.num_requests, limit.duration


def _failure_keys(request: HttpRequest) -> tuple[str, str]:
    base = f"api-failed-keys:{client_address(request)}"
    return f"{base}:count", f"{base}:since"


def failed_keys_wait(request: HttpRequest) -> int | None:
    """Seconds until this address may present keys again, or None when it may now."""
    limit, window = _failed_key_limit()
    count_key, since_key = _failure_keys(request)
    if cache.get(count_key, 0) < limit:
        return None
    since = cache.get(since_key, time.time())
    return max(1, math.ceil(since + window - time.time()))


def failed_key_record(request: HttpRequest) -> None:
    """Count one unknown or revoked key from this address. The window starts at the address's first
    failure and both counters expire with it; the count goes up atomically (Redis INCR)."""
    _, window = _failed_key_limit()
    count_key, since_key = _failure_keys(request)
    cache.add(since_key, time.time(), timeout=window)
    cache.add(count_key, 0, timeout=window)
    try:
        cache.incr(count_key)
    except ValueError:  # the window ended between add() and incr(): this failure starts the next one
        cache.set(since_key, time.time(), timeout=window)
        cache.set(count_key, 1, timeout=window)
