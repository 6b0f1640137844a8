"""Rate limits against the emulator: 100 calls per 1-second window, shared by two processes or many threads.

The emulator allows a sixth of the per-minute limit per window, so ``app_per_minute=600`` with
``window_seconds=1`` is 100 calls per second. 1,000 calls therefore need at least ten windows: no run may
finish in under nine seconds, and pacing must keep Intercom's 429s to a handful.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings

from apps.connections.intercom.client import Accepted, Exchange
from apps.connections.intercom.ratelimit import LocalRateLimiter
from tests.fixtures.emulator import REPO_ROOT

PER_MINUTE = 600  # → 100 per window
WINDOW = 1.0
PER_WINDOW = PER_MINUTE // 6
LOWERED_PER_MINUTE = 300  # → 50 per window
HANDFUL = 5


def _max_in_any_window(times: list[float], length: float) -> int:
    """The most answers seen in any interval of ``length`` seconds (a sliding window)."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= length:
            start += 1
        best = max(best, end - start + 1)
    return best


def _report(label: str, **figures) -> None:
    print(f"\n[{label}] " + " ".join(f"{key}={value}" for key, value in figures.items()))


def _start_workers(client_workspace, redis_key_prefix, tmp_path, *, count: int, calls: int, start_at: float):
    processes = []
    for index in range(count):
        options = {
            "base_url": client_workspace.base_url,
            "token": client_workspace.token,
            "workspace_key": client_workspace.id_code,
            "redis_url": settings.REDIS_URL,
            "key_prefix": redis_key_prefix,
            "per_minute": PER_MINUTE,
            "window_seconds": WINDOW,
            "calls": calls,
            "threads": 4,
            "start_at": start_at,
            "out": str(tmp_path / f"worker-{index}.json"),
        }
        command = [sys.executable, "-m", "tests.connections.intercom.rate_worker", json.dumps(options)]
        processes.append((subprocess.Popen(command, cwd=REPO_ROOT, env=dict(os.environ)), options["out"]))
    return processes


def _collect(processes, intercom_requests) -> list[dict]:
    reports = []
    for process, out in processes:
        assert process.wait(timeout=90) == 0, "a worker process failed"
        with open(out) as handle:
            report = json.load(handle)
        for exchange in report["exchanges"]:
            intercom_requests.add(Exchange.from_json(exchange))  # the spec check covers the workers too
        reports.append(report)
    return reports


def _run_threads(clients, calls: int, threads: int) -> tuple[float, float, list[str]]:
    started = time.time()
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(lambda n: type(clients[n % len(clients)].me()).__name__, range(calls)))
    return started, time.time(), outcomes


@pytest.mark.slow
def test_two_processes_share_the_redis_limiter(
    intercom_emulator, client_workspace, redis_key_prefix, tmp_path, intercom_requests
):
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    processes = _start_workers(
        client_workspace, redis_key_prefix, tmp_path, count=2, calls=500, start_at=time.time() + 2.0
    )
    reports = _collect(processes, intercom_requests)

    outcomes = [outcome for report in reports for outcome in report["outcomes"]]
    assert outcomes == ["Accepted"] * 1000
    elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    overlap = min(r["finished"] for r in reports) - max(r["started"] for r in reports)
    too_many = intercom_emulator.request_count("GET /me", 429)
    busiest = _max_in_any_window([t for r in reports for t in r["answered_at"]], WINDOW)
    minimum = math.ceil(1000 / PER_WINDOW) - 1
    _report(
        "redis, 2 processes",
        calls=1000,
        http_429=too_many,
        elapsed=f"{elapsed:.2f}s",
        minimum=f"{minimum}s",
        overlap=f"{overlap:.2f}s",
        busiest_second=busiest,
    )
    assert overlap > minimum / 2  # the two processes really ran together
    assert too_many <= HANDFUL
    assert elapsed >= minimum
    assert intercom_emulator.request_count("GET /me", 200) == 1000 + 2  # + each worker's warm-up call


def test_threads_share_the_local_limiter(make_client, intercom_emulator):
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    limiter = LocalRateLimiter(PER_MINUTE, WINDOW)
    clients = [make_client(limiter=limiter) for _ in range(2)]  # two clients, one process-wide limiter
    started, finished, outcomes = _run_threads(clients, 1000, threads=8)

    elapsed = finished - started
    too_many = intercom_emulator.request_count("GET /me", 429)
    minimum = math.ceil(1000 / PER_WINDOW) - 1
    _report(
        "local, 8 threads", calls=1000, http_429=too_many, elapsed=f"{elapsed:.2f}s", minimum=f"{minimum}s"
    )
    assert outcomes == ["Accepted"] * 1000
    assert too_many <= HANDFUL
    assert elapsed >= minimum


def _answered_after(exchanges_times: list[float], moment: float) -> int:
    return sum(1 for t in exchanges_times if t >= moment)


@pytest.mark.slow
def test_a_lowered_limit_is_followed_across_processes(
    intercom_emulator, client_workspace, redis_key_prefix, tmp_path, intercom_requests
):
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    start_at = time.time() + 2.0
    processes = _start_workers(
        client_workspace, redis_key_prefix, tmp_path, count=2, calls=150, start_at=start_at
    )
    time.sleep(max(0.0, start_at + 1.0 - time.time()))
    lowered_at = time.time()
    intercom_emulator.set_rate_limit(
        app_per_minute=LOWERED_PER_MINUTE, workspace_per_minute=LOWERED_PER_MINUTE
    )
    reports = _collect(processes, intercom_requests)

    assert [o for r in reports for o in r["outcomes"]] == ["Accepted"] * 300
    finished = max(r["finished"] for r in reports)
    after = _answered_after([t for r in reports for t in r["answered_at"]], lowered_at)
    too_many = intercom_emulator.request_count("GET /me", 429)
    lowered_window = LOWERED_PER_MINUTE // 6
    minimum = math.ceil(after / lowered_window) - 1
    adopted = redis.Redis.from_url(settings.REDIS_URL).hget(
        f"{redis_key_prefix}{client_workspace.id_code}", "limit"
    )
    _report(
        "redis, lowered mid-run",
        calls=300,
        after_lowering=after,
        http_429=too_many,
        elapsed_after=f"{finished - lowered_at:.2f}s",
        minimum=f"{minimum}s",
        adopted=adopted,
    )
    assert float(adopted) == lowered_window
    assert after > 100  # most calls came after the change
    assert too_many <= HANDFUL
    assert finished - lowered_at >= minimum


def test_a_lowered_limit_is_followed_by_threads(make_client, intercom_emulator, client_workspace):
    intercom_emulator.set_rate_limit(
        app_per_minute=PER_MINUTE, workspace_per_minute=PER_MINUTE, window_seconds=WINDOW
    )
    limiter = LocalRateLimiter(PER_MINUTE, WINDOW)
    client = make_client(limiter=limiter)
    answered: list[float] = []

    def call(_):
        outcome = client.me()
        answered.append(time.time())
        return outcome

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(call, n) for n in range(300)]
        time.sleep(1.0)
        lowered_at = time.time()
        intercom_emulator.set_rate_limit(
            app_per_minute=LOWERED_PER_MINUTE, workspace_per_minute=LOWERED_PER_MINUTE
        )
        outcomes = [future.result() for future in futures]
    finished = max(answered)

    assert all(isinstance(outcome, Accepted) for outcome in outcomes)
    after = _answered_after(answered, lowered_at)
    too_many = intercom_emulator.request_count("GET /me", 429)
    lowered_window = LOWERED_PER_MINUTE // 6
    minimum = math.ceil(after / lowered_window) - 1
    _report(
        "local, lowered mid-run",
        calls=300,
        after_lowering=after,
        http_429=too_many,
        elapsed_after=f"{finished - lowered_at:.2f}s",
        minimum=f"{minimum}s",
    )
    assert limiter._state[client_workspace.id_code]["limit"] == lowered_window
    assert after > 100
    assert too_many <= HANDFUL
    assert finished - lowered_at >= minimum


class _DeafLimiter(LocalRateLimiter):
    """Ignores the headers (so Intercom does refuse calls) but honours pauses after a 429."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pauses: list[float] = []

    def observe(self, key, *, limit, remaining, reset):
        pass

    def pause_until(self, key, reset):
        self.pauses.append(reset)
        super().pause_until(key, reset)


def test_429_waits_for_the_reset_without_spending_the_retry_budget(make_client, intercom_emulator):
    intercom_emulator.set_rate_limit(
        app_per_minute=60, workspace_per_minute=60, window_seconds=WINDOW
    )  # 10/s
    limiter = _DeafLimiter(per_minute=60_000, window_seconds=WINDOW)
    client = make_client(limiter=limiter, max_attempts=1)  # a single 5xx would fail the call

    started = time.time()
    outcomes = [client.me() for _ in range(25)]
    elapsed = time.time() - started

    assert all(isinstance(outcome, Accepted) for outcome in outcomes)
    assert intercom_emulator.request_count("GET /me", 429) >= 2
    assert len(limiter.pauses) == intercom_emulator.request_count("GET /me", 429)
    assert elapsed >= 1.0  # 25 calls at 10 per window span three windows: two resets at least


def test_429s_give_up_after_the_configured_number_of_waits(make_client, intercom_emulator):
    from apps.connections.intercom.client import TransientFailure

    intercom_emulator.set_rate_limit(app_per_minute=6, workspace_per_minute=6, window_seconds=WINDOW)  # 1/s
    client = make_client(limiter=_DeafLimiter(per_minute=60_000, window_seconds=0.2), max_rate_limit_waits=0)
    assert isinstance(client.me(), Accepted)
    with pytest.raises(TransientFailure) as failure:
        client.me()
    assert failure.value.status == 429
