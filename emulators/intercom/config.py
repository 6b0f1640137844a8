"""Start-time options of the emulator; the control API can change the runtime ones later."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REGIONS = ("US", "EU", "AU")

# The spec sits in shared/ beside the repository: <repo>/../shared/intercom/intercom-api-2.16.yaml.
_REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_PATH = _REPO_ROOT.parent / "shared" / "intercom" / "intercom-api-2.16.yaml"


def default_spec_path() -> Path:
    """``$INTERCOM_OPENAPI_SPEC`` (a relative path counts from the repository root), else shared/ beside it."""
    configured = os.environ.get("INTERCOM_OPENAPI_SPEC")
    if not configured:
        return DEFAULT_SPEC_PATH
    path = Path(configured)
    return path if path.is_absolute() else _REPO_ROOT / path


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # share of API requests answered with one of error_statuses
    error_statuses: tuple[int, ...] = (500, 503)
    hang_rate: float = 0.0  # share of API requests that never answer (until hang_seconds pass)
    hang_seconds: float = 3600.0

    def as_dict(self) -> dict:
        return {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "error_rate": self.error_rate,
            "error_statuses": list(self.error_statuses),
            "hang_rate": self.hang_rate,
            "hang_seconds": self.hang_seconds,
        }


@dataclass
class RateLimitSettings:
    app_per_minute: int = 10_000
    workspace_per_minute: int = 25_000
    window_seconds: float = 10.0

    def as_dict(self) -> dict:
        return {
            "app_per_minute": self.app_per_minute,
            "workspace_per_minute": self.workspace_per_minute,
            "window_seconds": self.window_seconds,
        }


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "Syncline"

    def as_dict(self) -> dict:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
            "name": self.name,
        }


@dataclass
class EmulatorConfig:
    spec_path: Path = field(default_factory=default_spec_path)
    validate_requests: bool = True
    faults: FaultSettings = field(default_factory=FaultSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    # Recorded: search and GET /contacts show a snapshot up to ~20 s old; a deleted contact's identifiers
    # stay blocked for a while (at least minutes; a day is assumed). `time_factor` scales both (tests: 0.01).
    search_lag_seconds: float = 20.0
    deleted_hold_seconds: float = 86_400.0
    time_factor: float = 1.0
    oauth_code_ttl_seconds: float = 600.0
    oauth_admin_email: str = "admin@example.com"
    oauth_clients: list[OAuthClient] = field(default_factory=list)
    # Workspaces seeded at start (and again on every reset): dicts as the control API takes them.
    seed_workspaces: list[dict] = field(default_factory=list)
    request_log_size: int = 1000
    state_file: Path | None = None  # keep the state across restarts in this file (the run command's demo)
