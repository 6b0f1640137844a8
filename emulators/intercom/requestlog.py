"""What the emulator served: counts per endpoint and per status, and the last requests in order."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import asdict, dataclass


@dataclass
class LoggedRequest:
    at: float
    method: str
    path: str
    endpoint: str  # "POST /contacts" with the spec's template, or the raw path when nothing matched
    status: int
    region: str | None
    workspace: str | None
    duration_ms: float
    request_id: str


class RequestLog:
    def __init__(self, size: int = 1000):
        self.total = 0
        self.by_endpoint: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.by_endpoint_status: Counter[str] = Counter()
        self.recent: deque[LoggedRequest] = deque(maxlen=size)

    def reset(self) -> None:
        self.total = 0
        self.by_endpoint.clear()
        self.by_status.clear()
        self.by_endpoint_status.clear()
        self.recent.clear()

    def record(self, entry: LoggedRequest) -> None:
        self.total += 1
        self.by_endpoint[entry.endpoint] += 1
        self.by_status[str(entry.status)] += 1
        self.by_endpoint_status[f"{entry.endpoint} {entry.status}"] += 1
        self.recent.append(entry)

    def as_dict(self, limit: int | None = None) -> dict:
        recent = list(self.recent)
        if limit is not None:
            recent = recent[-limit:] if limit else []
        return {
            "total": self.total,
            "by_endpoint": dict(self.by_endpoint),
            "by_status": dict(self.by_status),
            "by_endpoint_status": dict(self.by_endpoint_status),
            "recent": [asdict(entry) for entry in recent],
            "now": time.time(),
        }
