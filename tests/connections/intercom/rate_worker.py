"""A worker process for the rate-limit tests: N calls through one IntercomClient on a Redis limiter.

Run as ``python -m tests.connections.intercom.rate_worker '<json settings>'``; it waits until ``start_at``
(so that several workers start together), sends ``calls`` ``GET /me`` from ``threads`` threads and writes a
JSON report (send times, statuses, every exchange with the token redacted) to ``out``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis

from apps.connections.intercom.client import Exchange, IntercomClient, add_exchange_observer
from apps.connections.intercom.ratelimit import RedisRateLimiter


def main(raw: str) -> None:
    options = json.loads(raw)
    limiter = RedisRateLimiter(
        redis.Redis.from_url(options["redis_url"]),
        options["per_minute"],
        options["window_seconds"],
        key_prefix=options["key_prefix"],
    )
    client = IntercomClient(options["base_url"], options["token"], options["workspace_key"], limiter)
    exchanges: list[Exchange] = []
    answered_at: list[float] = []
    lock = threading.Lock()

    def keep(exchange: Exchange) -> None:
        with lock:
            exchanges.append(exchange)
            answered_at.append(time.time())

    add_exchange_observer(keep)
    client.me()  # warm the connection pool and the imports before the common start
    with lock:
        exchanges.clear()
        answered_at.clear()
    time.sleep(max(0.0, options["start_at"] - time.time()))
    started = time.time()
    with ThreadPoolExecutor(options["threads"]) as pool:
        outcomes = list(pool.map(lambda _: type(client.me()).__name__, range(options["calls"])))
    finished = time.time()
    report = {
        "started": started,
        "finished": finished,
        "outcomes": outcomes,
        "answered_at": answered_at,
        "statuses": [exchange.status for exchange in exchanges],
        "exchanges": [exchange.as_json() for exchange in exchanges],
    }
    with open(options["out"], "w") as handle:
        json.dump(report, handle)


if __name__ == "__main__":
    main(sys.argv[1])
