"""The token bucket itself, for both implementations: burst, pace, adopted limits, pauses, sharing."""

from __future__ import annotations

import math
import time

import pytest
from django.test import override_settings

from apps.connections.intercom import ratelimit
from apps.connections.intercom.ratelimit import (
    BucketShape,
    LocalRateLimiter,
    RedisRateLimiter,
    allowance_per_window,
    get_rate_limiter,
)


@pytest.fixture(params=["local", "redis"])
def make_limiter(request, redis_limiter_factory):
    if request.param == "local":
        return LocalRateLimiter
    return redis_limiter_factory


def _time_to_acquire(limiter, key: str, count: int) -> float:
    started = time.monotonic()
    for _ in range(count):
        limiter.acquire(key)
    return time.monotonic() - started


def test_a_window_never_allows_more_than_intercoms_allowance():
    for per_minute in (6, 60, 600, 1_000, 10_000, 25_000):
        limit = allowance_per_window(per_minute)
        shape = BucketShape.for_limit(limit, 10.0)
        assert math.floor(shape.burst + shape.rate * 10.0) <= limit
        assert shape.burst + shape.rate * 10.0 >= 0.9 * limit or limit < 20
    assert allowance_per_window(10_000) == 1666  # rounded down, never up
    assert BucketShape.for_limit(100, 1.0) == BucketShape(burst=5, rate=95.0)


def test_burst_then_pace(make_limiter):
    limiter = make_limiter(600, 1.0)  # 100 per second: a burst of 5, then 95/s
    assert _time_to_acquire(limiter, "w", 5) < 0.05
    paced = _time_to_acquire(limiter, "w", 19)
    assert 0.17 <= paced <= 0.6
    assert _time_to_acquire(limiter, "other", 5) < 0.05  # each workspace has its own bucket


def test_a_lower_header_limit_is_adopted_and_a_higher_one_is_not(make_limiter):
    limiter = make_limiter(600, 1.0)
    limiter.observe("w", limit=20, remaining=15, reset=None)  # 20 per window: burst 1, 19/s
    _time_to_acquire(limiter, "w", 1)
    assert _time_to_acquire(limiter, "w", 4) >= 0.15

    fresh = make_limiter(600, 1.0)
    fresh.observe("v", limit=100_000, remaining=99_000, reset=None)  # never above the configured allowance
    _time_to_acquire(fresh, "v", 5)
    assert _time_to_acquire(fresh, "v", 10) >= 0.08


def test_remaining_zero_and_429_pause_until_the_reset(make_limiter):
    limiter = make_limiter(60_000, 1.0)
    limiter.observe("w", limit=None, remaining=0, reset=time.time() + 0.4)
    assert _time_to_acquire(limiter, "w", 1) >= 0.35
    limiter.pause_until("w", time.time() + 0.3)
    assert _time_to_acquire(limiter, "w", 1) >= 0.25
    limiter.observe("w", limit=None, remaining=0, reset=time.time() - 5)  # a stale reset changes nothing
    assert _time_to_acquire(limiter, "w", 1) < 0.05


def test_two_redis_limiters_share_one_bucket(redis_limiter_factory):
    first, second = redis_limiter_factory(600, 1.0), redis_limiter_factory(600, 1.0)
    _time_to_acquire(first, "w", 5)  # the burst is spent by the first
    assert _time_to_acquire(second, "w", 10) >= 0.08
    first.pause_until("w", time.time() + 0.3)
    assert _time_to_acquire(second, "w", 1) >= 0.25


def test_the_factory_follows_the_settings(monkeypatch):
    monkeypatch.setattr(ratelimit, "_limiters", {})
    with override_settings(INTERCOM_RATE_LIMIT_PER_MINUTE=1200, INTERCOM_RATE_LIMIT_WINDOW_SECONDS=5):
        shared = get_rate_limiter()
        assert isinstance(shared, RedisRateLimiter)  # the test settings have REDIS_URL
        assert (shared.limit, shared.window_seconds) == (200, 5.0)
        assert get_rate_limiter() is shared
    with override_settings(REDIS_URL=""):
        local = get_rate_limiter()
        assert isinstance(local, LocalRateLimiter) and local.limit == 1666
        assert local.window_seconds == 10.0
        assert get_rate_limiter() is local
