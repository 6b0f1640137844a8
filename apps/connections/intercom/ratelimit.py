"""Pace calls to Intercom so that it never has to refuse them, across every worker process.

Intercom allows a per-minute limit per app (10,000 by default) and enforces it in fixed windows of
10 seconds, each allowing a sixth of it (API_NOTES.md, "Rate limits"). Each Intercom workspace (its
``id_code``) gets a sliding window: the times of its last calls, and no call is granted while the last
``limit`` calls all fall within one window plus a small guard (:func:`guard_seconds`). So no window of
Intercom's, however it is aligned, can see more calls than it allows, even when a call reaches Intercom
up to the guard later (or earlier) than its neighbours; and the whole allowance is used: a run starts with
a window's calls at once, and a call not made at its time (a slow warehouse, a busy CPU) can still be made
later in the window, where a token bucket would have lost it.

A caller that has to wait gets its own future slot (a reservation, at most :data:`RESERVE_AHEAD_SECONDS`
ahead): it sleeps once, to that moment, instead of waking with every other waiting thread each time a slot
frees and asking again.

The window follows what Intercom says in its headers: an ``X-RateLimit-Limit`` below the configured
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
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis

DEFAULT_PER_MINUTE = 10_000
DEFAULT_WINDOW_SECONDS = 10.0
WINDOWS_PER_MINUTE = 6  # Intercom splits a per-minute limit evenly into six windows
# How far apart in time a window's calls may reach Intercom compared with when they were granted (a
# thread that runs late on a busy CPU, the network): 0.2 s of a 10-second window, at most a tenth of one.
GUARD_SECONDS = 0.2
RESERVE_AHEAD_SECONDS = 1.0  # a caller waits at most this long for its reserved slot, else asks again
KEY_PREFIX = "syncline:intercom:ratelimit:"
# Headers that repeat what the limiter knows are taken in again after this long at most (the state in
# Redis expires with an idle workspace, and another process may have been told otherwise).
OBSERVE_AGAIN_SECONDS = 10.0


def allowance_per_window(per_minute: int) -> int:
    """Calls one window allows (rounded down, so we never assume more than Intercom grants)."""
    return max(1, per_minute // WINDOWS_PER_MINUTE)


def guard_seconds(window_seconds: float) -> float:
    """The margin added to the window: a window's worth of calls is spread over window + guard."""
    return min(GUARD_SECONDS, 0.1 * window_seconds)


class RateLimiter(Protocol):
    """What :class:`~apps.connections.intercom.client.IntercomClient` needs from a limiter."""

    window_seconds: float

    def acquire(self, key: str, meter: WaitMeter | None = None) -> float:
        """Block until one call to workspace ``key`` may be sent; returns the seconds it slept (the
        sleeps are also told to ``meter``)."""

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        """Take in the ``X-RateLimit-*`` headers of a response."""

    def pause_until(self, key: str, reset: float) -> None:
        """Hold every caller of ``key`` until the UNIX time ``reset`` (after a 429)."""


class WaitMeter:
    """How long calls were held back by the limiter: ``held`` is the wall-clock time during which at
    least one call was sleeping for its slot (the time the rate limit cost, not a sum over threads);
    ``total`` the sleeps added up. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sleeping = 0
        self._since = 0.0
        self.held = 0.0
        self.total = 0.0

    def enter(self) -> None:
        with self._lock:
            if self._sleeping == 0:
                self._since = time.monotonic()
            self._sleeping += 1

    def leave(self, slept: float) -> None:
        with self._lock:
            self._sleeping -= 1
            self.total += slept
            if self._sleeping == 0:
                self.held += time.monotonic() - self._since

    def held_seconds(self) -> float:
        """``held`` including a sleep going on now."""
        with self._lock:
            return self.held + (time.monotonic() - self._since if self._sleeping else 0.0)


# What `_try_acquire` answers: granted (after sleeping the wait: a reserved slot), paused until a reset, or
# full (no slot within RESERVE_AHEAD_SECONDS: ask again after the wait).
GRANTED, PAUSED, FULL = 0, 1, 2


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
        self.span = self.window_seconds + guard_seconds(self.window_seconds)
        self.reserve_ahead = min(RESERVE_AHEAD_SECONDS, self.span / 2)
        self._told: dict[str, tuple[int, float]] = {}  # key → (limit last observed, when)

    def _try_acquire(self, key: str) -> tuple[float, int]:
        """(seconds to wait, GRANTED | PAUSED | FULL)."""
        raise NotImplementedError

    def acquire(self, key: str, meter: WaitMeter | None = None) -> float:
        slept = 0.0
        while True:
            wait, state = self._try_acquire(key)
            if wait <= 0 and state == GRANTED:
                return slept
            if state == PAUSED:
                wait += _pause_jitter(self.window_seconds)
            elif state == FULL:  # wake when the slot is near enough to reserve
                wait = max(0.001, wait - self.reserve_ahead / 2)
            if meter is not None:
                meter.enter()
            started = time.monotonic()
            try:
                time.sleep(wait)
            finally:
                napped = time.monotonic() - started
                slept += napped
                if meter is not None:
                    meter.leave(napped)
            if state == GRANTED:
                return slept

    def _limit_news(self, key: str, limit: int | None) -> bool:
        """Whether a header's limit is worth telling the shared state: a new value, or not told lately."""
        if not limit:
            return False
        now = time.monotonic()
        told = self._told.get(key)
        if told is not None and told[0] == limit and now - told[1] < OBSERVE_AGAIN_SECONDS:
            return False
        self._told[key] = (limit, now)
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.per_minute}/min in {self.window_seconds:g}s windows>"


def _slot(log: Any, count: int, limit: int, span: float, now: float, last: float | None) -> float:
    """When the next call may go: now, or later than the last one granted, and at least `span` after the
    call `limit` places back (so that any `span` seconds hold at most `limit` calls). `log` is indexable
    by position, oldest first; `count` its length."""
    at = now if last is None else max(now, last)
    if count >= limit:
        at = max(at, log[count - limit] + span)
    return at


class LocalRateLimiter(_BaseLimiter):
    """The sliding window for one process (threads share it); the embedded default without Redis."""

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, window_seconds: float = DEFAULT_WINDOW_SECONDS):
        super().__init__(per_minute, window_seconds)
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, float]] = {}  # key → {"limit": adopted (0: none), "paused_until"}
        self._logs: dict[str, deque[float]] = {}  # key → the times of the calls granted, oldest first

    def _bucket(self, key: str) -> dict[str, float]:
        return self._state.setdefault(key, {"limit": 0.0, "paused_until": 0.0})

    def _try_acquire(self, key: str) -> tuple[float, int]:
        with self._lock:
            now = time.time()
            state = self._bucket(key)
            if state["paused_until"] > now:
                return state["paused_until"] - now, PAUSED
            limit = min(self.limit, int(state["limit"])) if state["limit"] else self.limit
            log = self._logs.setdefault(key, deque())
            while log and log[0] < now - self.span:
                log.popleft()
            at = _slot(log, len(log), limit, self.span, now, log[-1] if log else None)
            if at - now > self.reserve_ahead:
                return at - now, FULL
            log.append(at)
            return at - now, GRANTED

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        with self._lock:
            state = self._bucket(key)
            if limit:
                state["limit"] = float(limit)
            if remaining == 0 and reset:
                state["paused_until"] = max(state["paused_until"], float(reset))

    def pause_until(self, key: str, reset: float) -> None:
        with self._lock:
            state = self._bucket(key)
            state["paused_until"] = max(state["paused_until"], float(reset))


# One atomic step of the sliding window, on the Redis server's clock. KEYS: the workspace's state (a hash:
# limit adopted, paused_until, the calls' sequence) and its log (a sorted set: one member per call granted,
# scored by when it may go). Returns "<wait>|<GRANTED, PAUSED or FULL>" as a string (Redis would truncate a
# Lua number to an integer).
_ACQUIRE = """
local state_key, log_key = KEYS[1], KEYS[2]
local configured = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', state_key, 'limit', 'paused_until')
local paused_until = tonumber(state[2]) or 0
if paused_until > now then
  return tostring(paused_until - now) .. '|1'
end
local limit = configured
local observed = tonumber(state[1])
if observed and observed > 0 and observed < limit then limit = math.floor(observed) end
redis.call('ZREMRANGEBYSCORE', log_key, '-inf', '(' .. tostring(now - span))
local count = redis.call('ZCARD', log_key)
local at = now
if count > 0 then
  local last = tonumber(redis.call('ZRANGE', log_key, -1, -1, 'WITHSCORES')[2])
  if last > at then at = last end
end
if count >= limit then
  local nth = tonumber(redis.call('ZRANGE', log_key, count - limit, count - limit, 'WITHSCORES')[2]) + span
  if nth > at then at = nth end
end
if at - now > ahead then
  return tostring(at - now) .. '|2'
end
local seq = redis.call('HINCRBY', state_key, 'seq', 1)
redis.call('ZADD', log_key, tostring(at), seq)
redis.call('EXPIRE', state_key, ttl)
redis.call('EXPIRE', log_key, ttl)
return tostring(at - now) .. '|0'
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
    """The sliding window in Redis, shared by every process that uses the same Redis database."""

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

    def _try_acquire(self, key: str) -> tuple[float, int]:
        state_key = self.redis_key(key)
        raw = self._acquire_script(
            keys=[state_key, f"{state_key}:log"],
            args=[self.limit, self.span, self.reserve_ahead, self._ttl],
        )
        wait, state = (raw.decode() if isinstance(raw, bytes) else raw).split("|")
        return float(wait), int(state)

    def observe(self, key: str, *, limit: int | None, remaining: int | None, reset: float | None) -> None:
        pause = float(reset) if remaining == 0 and reset else 0
        told = self._limit_news(key, limit)
        if told or pause:
            self._observe_script(
                keys=[self.redis_key(key)], args=[(limit or 0) if told else 0, pause, self._ttl]
            )

    def pause_until(self, key: str, reset: float) -> None:
        self._observe_script(keys=[self.redis_key(key)], args=[0, float(reset), self._ttl])

    def forget(self, key: str) -> None:
        """Drop a workspace's state (tests; a disconnected workspace)."""
        self._told.pop(key, None)
        self.redis.delete(self.redis_key(key), f"{self.redis_key(key)}:log")


_limiters: dict[tuple[str, int, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def get_rate_limiter() -> RateLimiter:
    """The process's limiter from the settings: Redis when ``REDIS_URL`` is set, else the local one.

    ``INTERCOM_RATE_LIMIT_PER_MINUTE`` and ``INTERCOM_RATE_LIMIT_WINDOW_SECONDS`` shape it. One instance
    per process (and per settings), so every client in the process shares the same local window.
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
