"""How often one API key may call the API: `API_RATE_LIMIT` (default 120/min), counted in the shared
cache (Redis in production), so every web process counts the same requests. django-ninja's own sliding
window does the counting; an answer over the limit is a 429 with Retry-After (endpoints' handler)."""

import threading

from django.conf import settings
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
