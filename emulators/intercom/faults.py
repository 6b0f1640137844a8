"""Injected faults: latency with jitter, a share of 500/503 answers, and requests that hang."""

from __future__ import annotations

import asyncio
import contextlib
import random

from emulators.intercom.config import FaultSettings
from emulators.intercom.errors import ApiError

_FAULT_ERRORS = {
    500: ("server_error", "Server Error"),
    502: ("server_error", "Bad Gateway"),
    503: ("service_unavailable", "Sorry, the API service is temporarily unavailable"),
    504: ("request_timeout", "The request timed out"),
}


class FaultInjector:
    def __init__(self, settings: FaultSettings):
        self.settings = settings
        self.release = asyncio.Event()  # set on reset/settings change: hanging requests then go on
        self.injected_errors = 0
        self.hung_requests = 0

    def update(self, settings: FaultSettings) -> None:
        self.settings = settings
        self.release.set()
        self.release = asyncio.Event()

    async def apply(self) -> None:
        """Sleep, hang or raise, as configured; returns normally when the request should be served."""
        settings = self.settings
        delay = settings.latency_ms
        if settings.jitter_ms:
            delay += random.uniform(0, settings.jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        if settings.hang_rate and random.random() < settings.hang_rate:
            self.hung_requests += 1
            release = self.release
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), timeout=settings.hang_seconds)
        if settings.error_rate and random.random() < settings.error_rate:
            self.injected_errors += 1
            status = random.choice(settings.error_statuses or (500,))
            code, message = _FAULT_ERRORS.get(status, ("server_error", "Server Error"))
            raise ApiError(status, code, message)
