"""The sliding window itself, for both implementations: a window's calls at once, then none until the
window (plus its guard) has passed; adopted limits, pauses, sharing, reservations, the wait meter."""

from __future__ import annotations

import bisect
import threading
import time

import pytest
from django.test import override_settings

from apps.connections.intercom import ratelimit
from apps.connections.intercom.ratelimit import (
    LocalRateLimiter,
    RedisRateLimiter,
    WaitMeter,
    allowance_per_window,
    get_rate_limiter,
    guard_seconds,
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


def _busiest(times: list[float], length: float) -> int:
    """The most grants in any interval [t, t + length): every alignment of Intercom's windows."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + length) - i for i, t in enumerate(times))


class _Clock:
    """A clock the local limiter reads instead of the real one: sleeping moves it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.mark.parametrize("per_minute", [6, 60, 600, 1_000, 10_000, 25_000])
def test_no_window_however_aligned_sees_more_than_intercoms_allowance(monkeypatch, per_minute):
    clock = _Clock()
    monkeypatch.setattr(ratelimit.time, "time", clock.time)
    monkeypatch.setattr(ratelimit.time, "sleep", clock.sleep)
    limiter = LocalRateLimiter(per_minute, 10.0)
    limit = allowance_per_window(per_minute)
    granted = []
    for n in range(limit * 4 + 3):
        limiter.acquire("w")
        granted.append(clock.now)
        if n > limit and n % 7 == 0:
            clock.now += 0.013  # callers come at their own pace too, late in a window
    # Every window of Intercom's holds at most its allowance, even with calls reaching it up to the guard
    # late: any window + guard seconds hold at most `limit` calls.
    assert _busiest(granted, 10.0 + guard_seconds(10.0)) == limit
    assert granted[limit - 1] - granted[0] < 1.0  # the first window's calls go at once
    total = granted[-1] - granted[0]
    assert len(granted) / total >= 0.95 * limit / 10.0  # and the allowance is used: ≥ 95 % of it
    assert allowance_per_window(10_000) == 1666  # rounded down, never up


def test_a_windows_calls_at_once_then_none_until_it_has_passed(make_limiter):
    limiter = make_limiter(600, 1.0)  # 100 per 1-second window, spread over 1.1 s (the guard)
    assert _time_to_acquire(limiter, "w", 100) < 0.5
    waited = _time_to_acquire(limiter, "w", 1)
    assert 0.5 <= waited <= 1.3
    assert _time_to_acquire(limiter, "other", 50) < 0.5  # each workspace has its own window


def test_a_lower_header_limit_is_adopted_and_a_higher_one_is_not(make_limiter):
    limiter = make_limiter(600, 1.0)
    limiter.observe("w", limit=20, remaining=15, reset=None)  # 20 per window
    assert _time_to_acquire(limiter, "w", 20) < 0.3
    assert _time_to_acquire(limiter, "w", 1) >= 0.7

    fresh = make_limiter(600, 1.0)
    fresh.observe("v", limit=100_000, remaining=99_000, reset=None)  # never above the configured allowance
    _time_to_acquire(fresh, "v", 100)
    assert _time_to_acquire(fresh, "v", 1) >= 0.7


def test_remaining_zero_and_429_pause_until_the_reset(make_limiter):
    limiter = make_limiter(60_000, 1.0)
    limiter.observe("w", limit=None, remaining=0, reset=time.time() + 0.4)
    assert _time_to_acquire(limiter, "w", 1) >= 0.35
    limiter.pause_until("w", time.time() + 0.3)
    assert _time_to_acquire(limiter, "w", 1) >= 0.25
    limiter.observe("w", limit=None, remaining=0, reset=time.time() - 5)  # a stale reset changes nothing
    assert _time_to_acquire(limiter, "w", 1) < 0.05


def test_two_redis_limiters_share_one_window(redis_limiter_factory):
    first, second = redis_limiter_factory(600, 1.0), redis_limiter_factory(600, 1.0)
    _time_to_acquire(first, "w", 100)  # the window is spent by the first
    assert _time_to_acquire(second, "w", 1) >= 0.7
    first.pause_until("w", time.time() + 0.3)
    assert _time_to_acquire(second, "w", 1) >= 0.25


def test_waiting_callers_reserve_their_slots_instead_of_asking_again_and_again(make_limiter):
    limiter = make_limiter(600, 1.0)
    asked = []
    try_acquire = limiter._try_acquire

    def counted(key):
        asked.append(key)
        return try_acquire(key)

    limiter._try_acquire = counted
    _time_to_acquire(limiter, "w", 100)  # the window is full: every call below waits for a slot
    asked.clear()
    threads = [threading.Thread(target=_time_to_acquire, args=(limiter, "w", 5)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Once to learn the window is full (the slot is too far ahead to hold), once to reserve the slot;
    # a thread that wakes to find its neighbours took the near slots asks once more.
    assert len(asked) <= 40 * 3


def test_the_wait_meter_counts_the_time_calls_were_held_once_however_many_waited():
    meter, limiter = WaitMeter(), LocalRateLimiter(60, 1.0)  # 10 per 1-second window
    for _ in range(10):
        limiter.acquire("w", meter)
    assert meter.held == 0.0  # nothing waited
    threads = [threading.Thread(target=limiter.acquire, args=("w", meter)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.8 <= meter.held <= 1.5  # the three waited side by side, about a window
    assert meter.total >= 2.4  # each of them waited


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
