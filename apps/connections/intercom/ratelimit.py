"""Pace calls to Intercom so that it never has to refuse them, across every worker process.

Intercom allows a per-minute limit per app (10,000 by default) and enforces it in fixed windows of
10 seconds, each allowing a sixth of it (API_NOTES.md, "Rate limits"). Each Intercom workspace (its
``id_code``) gets a token bucket whose refill rate and burst add up to the window's allowance: a burst of
5% plus a rate of the other 95% per window, so no window of Intercom's, however it is aligned, can see
more calls than it allows.

The bucket follows what Intercom says in its headers: an ``X-RateLimit-Limit`` below the configured
allowance is adopted, and ``X-RateLimit-Remaining: 0`` or a 429 pauses every caller of that workspace until
``X-RateLimit-Reset``.

Two implementations share the algorithm:

- :class:`RedisRateLimiter`: the state lives in Redis and is updated by one Lua script per call, timed by
  the Redis server's clock, so every worker process on every machine shares it;
- :class:`LocalRateLimiter`: the same state in a dict behind a lock, for the embedded mode (no Redis,
  one process).

:func:`get_rate_limiter` picks one from the settings. This module imports Django only inside that factory,
so worker scripts can build a limiter without settings.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import redis

DEFAULT_PER_MINUTE = 10_000
DEFAULT_WINDOW_SECONDS = 10.0
WINDOWS_PER_MINUTE = 6  # Intercom splits a per-minute limit evenly into six windows
BURST_SHARE = 0.05
KEY_PREFIX = "syncline:intercom:ratelimit:"


def allowance_per_window(per_minute: int) -> int:
    """Calls one window allows (rounded down, so we never assume more than Intercom grants)."""
    return max(1, per_minute // WINDOWS_PER_MINUTE)


@dataclass(frozen=True)
class BucketShape:
    """Burst and refill rate for an allowance of ``limit`` calls per window of ``window_seconds``."""

    burst: float
    rate: float  # tokens per second

    @classmethod
    def for_limit(cls, limit: int, window_seconds: float) -> BucketShape:
        burst = max(1.0, math.floor(limit * BURST_SHARE))
        return cls(burst=burst, rate=max(limit - burst, 0.5) / window_seconds)


class RateLimiter(Protocol):
    """What :class:`~apps.connections.intercom.client.IntercomClient` needs from a limiter."""

    window_seconds: float

    def acquire(self, key: str) -> None:
        """Block until one call to workspace ``key`` may be sent."""

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        """Take in the ``X-RateLimit-*`` headers of a response."""

    def pause_until(self, key: str, reset: float) -> None:
        """Hold every caller of ``key`` until the UNIX time ``reset`` (after a 429)."""


def _pause_jitter(window_seconds: float) -> float:
    # Callers released by the same reset would otherwise all call in the same millisecond.
    return random.uniform(0, min(0.25, 0.05 * window_seconds))


class _BaseLimiter:
    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, window_seconds: float = DEFAULT_WINDOW_SECONDS):
        if per_minute < 1 or window_seconds <= 0:
            raise ValueError("the rate limit and its window must be positive")
        self.per_minute = per_minute
        self.window_seconds = float(window_seconds)
        self.limit = allowance_per_window(per_minute)

    def _try_acquire(self, key: str) -> tuple[float, bool]:
        """(seconds to wait, whether the wait is a pause until a reset); (0, False) when a token was taken."""
        raise NotImplementedError

    def acquire(self, key: str) -> None:
        while True:
            wait, paused = self._try_acquire(key)
            if wait <= 0:
                return
            time.sleep(wait + (_pause_jitter(self.window_seconds) if paused else 0.0))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.per_minute}/min in {self.window_seconds:g}s windows>"


class LocalRateLimiter(_BaseLimiter):
    """The token bucket for one process (threads share it); the embedded default without Redis."""

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, window_seconds: float = DEFAULT_WINDOW_SECONDS):
        super().__init__(per_minute, window_seconds)
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, float]] = {}

    def _bucket(self, key: str, now: float) -> dict[str, float]:
        return self._state.setdefault(key, {"tokens": -1.0, "ts": now, "limit": 0.0, "paused_until": 0.0})

    def _try_acquire(self, key: str) -> tuple[float, bool]:
        with self._lock:
            now = time.time()
            state = self._bucket(key, now)
            if state["paused_until"] > now:
                return state["paused_until"] - now, True
            limit = min(self.limit, int(state["limit"])) if state["limit"] else self.limit
            shape = BucketShape.for_limit(limit, self.window_seconds)
            tokens = shape.burst if state["tokens"] < 0 else state["tokens"]
            tokens = min(shape.burst, tokens + max(0.0, now - state["ts"]) * shape.rate)
            state["ts"] = now
            if tokens >= 1:
                state["tokens"] = tokens - 1
                return 0.0, False
            state["tokens"] = tokens
            return (1 - tokens) / shape.rate, False

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        with self._lock:
            state = self._bucket(key, time.time())
            if limit:
                state["limit"] = float(limit)
            if remaining == 0 and reset:
                state["paused_until"] = max(state["paused_until"], float(reset))

    def pause_until(self, key: str, reset: float) -> None:
        with self._lock:
            state = self._bucket(key, time.time())
            state["paused_until"] = max(state["paused_until"], float(reset))


# One atomic step of the bucket, on the Redis server's clock. Returns "<wait>|<paused>" as a string
# (Redis would truncate a Lua number to an integer).
_ACQUIRE = """
local key = KEYS[1]
local configured = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local burst_share = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts', 'limit', 'paused_until')
local paused_until = tonumber(state[4]) or 0
if paused_until > now then
  return tostring(paused_until - now) .. '|1'
end
local limit = configured
local observed = tonumber(state[3])
if observed and observed > 0 and observed < limit then limit = observed end
local burst = math.max(1, math.floor(limit * burst_share))
local rate = math.max(limit - burst, 0.5) / window
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, ttl)
return tostring(wait) .. '|0'
"""

_OBSERVE = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local pause = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
if limit and limit > 0 then redis.call('HSET', key, 'limit', tostring(limit)) end
if pause and pause > 0 then
  local current = tonumber(redis.call('HGET', key, 'paused_until')) or 0
  if pause > current then redis.call('HSET', key, 'paused_until', tostring(pause)) end
end
redis.call('EXPIRE', key, ttl)
return 1
"""


class RedisRateLimiter(_BaseLimiter):
    """The token bucket in Redis, shared by every process that uses the same Redis database."""

    def __init__(
        self,
        redis_client: redis.Redis,
        per_minute: int = DEFAULT_PER_MINUTE,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ):
        super().__init__(per_minute, window_seconds)
        self.redis = redis_client
        self.key_prefix = key_prefix
        # State outlives a window (and a pause) comfortably, then expires with idle workspaces.
        self._ttl = max(60, math.ceil(self.window_seconds * WINDOWS_PER_MINUTE * 2))
        self._acquire_script = redis_client.register_script(_ACQUIRE)
        self._observe_script = redis_client.register_script(_OBSERVE)

    def redis_key(self, key: str) -> str:
        return f"{self.key_prefix}{key}"

    def _try_acquire(self, key: str) -> tuple[float, bool]:
        raw = self._acquire_script(
            keys=[self.redis_key(key)], args=[self.limit, self.window_seconds, BURST_SHARE, self._ttl]
        )
        wait, paused = (raw.decode() if isinstance(raw, bytes) else raw).split("|")
        return float(wait), paused == "1"

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        pause = float(reset) if remaining == 0 and reset else 0
        if limit or pause:
            self._observe_script(keys=[self.redis_key(key)], args=[limit or 0, pause, self._ttl])

    def pause_until(self, key: str, reset: float) -> None:
        self._observe_script(keys=[self.redis_key(key)], args=[0, float(reset), self._ttl])

    def forget(self, key: str) -> None:
        """Drop a workspace's state (tests; a disconnected workspace)."""
        self.redis.delete(self.redis_key(key))


_limiters: dict[tuple[str, int, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def get_rate_limiter() -> RateLimiter:
    """The process's limiter from the settings: Redis when ``REDIS_URL`` is set, else the local one.

    ``INTERCOM_RATE_LIMIT_PER_MINUTE`` and ``INTERCOM_RATE_LIMIT_WINDOW_SECONDS`` shape it. One instance
    per process (and per settings), so every client in the process shares the same local bucket.
    """
    from django.conf import settings

    redis_url = getattr(settings, "REDIS_URL", "") or ""
    per_minute = int(getattr(settings, "INTERCOM_RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE))
    window = float(getattr(settings, "INTERCOM_RATE_LIMIT_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))
    cache_key = (redis_url, per_minute, window)
    with _limiters_lock:
        limiter = _limiters.get(cache_key)
        if limiter is None:
            if redis_url:
                import redis

                limiter = RedisRateLimiter(redis.Redis.from_url(redis_url), per_minute, window)
            else:
                limiter = LocalRateLimiter(per_minute, window)
            _limiters[cache_key] = limiter
        return limiter
