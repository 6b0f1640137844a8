"""Per-app and per-workspace rate limits in fixed windows: a per-minute limit allows limit/6 per window.

Intercom splits its per-minute limits into 10-second windows; the window length is configurable so that
tests can use, say, 1-second windows (the allowance per window stays limit/6).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from emulators.intercom.config import RateLimitSettings
from emulators.intercom.errors import ApiError


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    exceeded_limit: int = 0

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def per_window(per_minute: int) -> int:
    return max(1, math.ceil(per_minute / 6))


class RateLimiter:
    def __init__(self, settings: RateLimitSettings):
        self.settings = settings
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, requests in it)

    def reset(self) -> None:
        self._counts.clear()

    def _take(self, key: str, window: int) -> int:
        index, count = self._counts.get(key, (window, 0))
        count = count + 1 if index == window else 1
        self._counts[key] = (window, count)
        return count

    def check(self, app_key: str, workspace_id: str) -> Verdict:
        length = self.settings.window_seconds
        moment = time.time()
        window = int(moment // length)
        reset = math.ceil((window + 1) * length)
        app_limit = per_window(self.settings.app_per_minute)
        workspace_limit = per_window(self.settings.workspace_per_minute)
        app_count = self._take(f"app:{app_key}:{workspace_id}", window)
        workspace_count = self._take(f"workspace:{workspace_id}", window)
        remaining = max(0, min(app_limit - app_count, workspace_limit - workspace_count))
        if app_count > app_limit:
            return Verdict(False, app_limit, 0, reset, app_limit)
        if workspace_count > workspace_limit:
            return Verdict(False, app_limit, 0, reset, workspace_limit)
        return Verdict(True, app_limit, remaining, reset)

    def window_label(self) -> str:
        return f"{self.settings.window_seconds:g}_seconds"

    def exceeded(self, verdict: Verdict) -> ApiError:
        return ApiError(
            429,
            "rate_limit_exceeded",
            f"Exceeded rate limit of {verdict.exceeded_limit} in {self.window_label()}",
            headers=verdict.headers(),
        )
