"""Throughput of the Intercom emulator under a sync-like load.

Starts the emulator (50 ms injected latency, spec validation on, rate limits raised out of the way), seeds a
workspace, then drives 200 concurrent requests over loopback with aiohttp: contact creates, contact updates
and events, as a sync sends them. Prints the figures; the LAST line is ``requests/s: N``.

    python benchmarks/emulator_throughput.py [--seconds 10] [--concurrency 200] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.emulator import IntercomEmulator, start_emulator  # noqa: E402

ATTRIBUTES = [
    {"name": "plan_tier", "data_type": "string"},
    {"name": "seats", "data_type": "integer"},
    {"name": "mrr", "data_type": "float"},
    {"name": "paid", "data_type": "boolean"},
]


async def drive(
    base_url: str, token: str, seconds: float, concurrency: int
) -> tuple[list[float], Counter, float]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Intercom-Version": "2.16",
        "Accept": "application/json",
    }
    serial = itertools.count()
    created: list[str] = []
    latencies: list[float] = []
    statuses: Counter = Counter()
    rng = random.Random(7)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(
        base_url=base_url + "/", headers=headers, connector=connector
    ) as session:

        async def one_request() -> None:
            roll = rng.random()
            number = next(serial)
            custom = {
                "plan_tier": rng.choice(["free", "pro", "team"]),
                "seats": number % 50,
                "mrr": number * 1.5,
            }
            if roll < 0.4 or not created:
                method, path = "POST", "contacts"
                body = {
                    "external_id": f"user-{number}",
                    "email": f"user-{number}@bench.test",
                    "custom_attributes": custom,
                }
            elif roll < 0.8:
                method, path = "PUT", f"contacts/{rng.choice(created)}"
                body = {"name": f"User {number}", "custom_attributes": custom}
            else:
                method, path = "POST", "events"
                body = {
                    "event_name": "synced-record",
                    "created_at": 1_700_000_000 + number,
                    "id": rng.choice(created),
                    "metadata": {"batch": str(number // 100), "rows": number % 7},
                }
            started = time.perf_counter()
            async with session.request(method, path, json=body) as response:
                payload = await response.read()
                statuses[response.status] += 1
                if method == "POST" and path == "contacts" and response.status == 200:
                    created.append(payload.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode())
            latencies.append(time.perf_counter() - started)

        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one_request()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, statuses, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()

    server = start_emulator(
        [
            "--latency-ms",
            str(args.latency_ms),
            "--app-rate-limit",
            "100000000",
            "--workspace-rate-limit",
            "100000000",
        ]
    )
    try:
        emulator = IntercomEmulator(server.root_url)
        workspace = emulator.seed_workspace(name="Bench", region="US", data_attributes=ATTRIBUTES)
        settings = emulator.state()["settings"]
        assert settings["validate_requests"], "spec validation must be on"
        latencies, statuses, elapsed = asyncio.run(
            drive(workspace.base_url, workspace.token, args.seconds, args.concurrency)
        )
        served = emulator.request_count()
        emulator.close()
    finally:
        server.stop()

    total = len(latencies)
    ordered = sorted(latencies)
    print(
        f"emulator: latency {args.latency_ms:g} ms injected, spec validation on, concurrency {args.concurrency}"
    )
    print(f"requests: {total} in {elapsed:.2f} s (emulator logged {served})")
    print("statuses: " + ", ".join(f"{status}={count}" for status, count in sorted(statuses.items())))
    print(
        f"latency ms: median {statistics.median(ordered) * 1000:.1f}, "
        f"p95 {ordered[int(total * 0.95)] * 1000:.1f}, max {ordered[-1] * 1000:.1f}"
    )
    failures = sum(count for status, count in statuses.items() if status >= 300)
    if failures:
        print(f"non-2xx answers: {failures}")
    print(f"requests/s: {total / elapsed:.0f}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
