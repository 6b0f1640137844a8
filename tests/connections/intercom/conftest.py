"""Fixtures for the Intercom client's tests: a seeded emulator workspace and clients on it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

from apps.connections.intercom.client import IntercomClient
from apps.connections.intercom.ratelimit import LocalRateLimiter, RedisRateLimiter
from tests.fixtures.emulator import IntercomEmulator, SeededWorkspace

CUSTOM_ATTRIBUTES = [
    {"name": "plan_tier", "data_type": "string"},
    {"name": "seats", "data_type": "integer"},
    {"name": "tier", "model": "company", "data_type": "string"},
]

# Tests wait milliseconds, not seconds, between retries.
FAST_RETRIES = {"backoff_base": 0.01, "backoff_cap": 0.05, "timeout": (2.0, 5.0)}


@pytest.fixture
def client_workspace(intercom_emulator: IntercomEmulator) -> SeededWorkspace:
    return intercom_emulator.seed_workspace(name="Acme", region="US", data_attributes=CUSTOM_ATTRIBUTES)


@pytest.fixture
def redis_key_prefix() -> Iterator[str]:
    """A fresh limiter key space in the test Redis database, removed afterwards."""
    prefix = f"syncline:test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    connection = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(connection.scan_iter(match=f"{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture
def redis_limiter_factory(redis_key_prefix: str) -> Callable[..., RedisRateLimiter]:
    def build(per_minute: int = 10_000, window_seconds: float = 10.0) -> RedisRateLimiter:
        return RedisRateLimiter(
            redis.Redis.from_url(settings.REDIS_URL), per_minute, window_seconds, key_prefix=redis_key_prefix
        )

    return build


@pytest.fixture
def make_client(client_workspace: SeededWorkspace) -> Iterator[Callable[..., IntercomClient]]:
    """Build clients on the seeded workspace (a generous local limiter and tiny backoffs by default)."""
    clients: list[IntercomClient] = []

    def build(token: str | None = None, limiter=None, **options) -> IntercomClient:
        client = IntercomClient(
            client_workspace.base_url,
            token or client_workspace.token,
            client_workspace.id_code,
            limiter or LocalRateLimiter(),
            **{**FAST_RETRIES, **options},
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def intercom(make_client) -> IntercomClient:
    return make_client()
