"""``python -m emulators.intercom --host 127.0.0.1 --port 8765 [options]``: run the emulator."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import uvicorn

from emulators.intercom.app import create_app
from emulators.intercom.config import (
    EmulatorConfig,
    FaultSettings,
    OAuthClient,
    RateLimitSettings,
    default_spec_path,
)


def _oauth_client(value: str) -> OAuthClient:
    try:
        client_id, secret, uris = value.split(":", 2)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI[,REDIRECT_URI…]"
        ) from None
    return OAuthClient(
        client_id=client_id, client_secret=secret, redirect_uris=[u for u in uris.split(",") if u]
    )


def _workspace(value: str) -> dict:
    spec: dict = {}
    for pair in value.split(","):
        key, sep, item = pair.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError("expected key=value pairs, e.g. name=Acme,region=EU,token=tok_1")
        key = key.strip()
        if key == "token":
            spec.setdefault("tokens", []).append(item)
        else:
            spec[key] = item
    return spec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulators.intercom", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--spec", type=Path, default=None, help="Intercom OpenAPI 2.16 file (default: env/shared)"
    )
    parser.add_argument("--no-validate", action="store_true", help="skip request validation against the spec")
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--jitter-ms", type=float, default=0.0)
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 500/503")
    faults.add_argument("--error-statuses", default="500,503")
    faults.add_argument("--hang-rate", type=float, default=0.0, help="share of requests that hang")
    faults.add_argument("--hang-seconds", type=float, default=3600.0)
    limits = parser.add_argument_group("rate limits")
    limits.add_argument("--app-rate-limit", type=int, default=10_000, help="calls per minute per app")
    limits.add_argument(
        "--workspace-rate-limit", type=int, default=25_000, help="calls per minute per workspace"
    )
    limits.add_argument(
        "--rate-window-seconds", type=float, default=10.0, help="window length (limit/6 each)"
    )
    timing = parser.add_argument_group("timing (as recorded from Intercom; scaled by --time-factor)")
    timing.add_argument(
        "--search-lag", type=float, default=20.0, help="seconds before writes reach search and GET /contacts"
    )
    timing.add_argument(
        "--deleted-hold",
        type=float,
        default=86_400.0,
        help="seconds a deleted contact's external_id and email stay blocked",
    )
    timing.add_argument(
        "--time-factor", type=float, default=1.0, help="multiplies the two above (tests: 0.01)"
    )
    oauth = parser.add_argument_group("oauth")
    oauth.add_argument(
        "--oauth-client", type=_oauth_client, action="append", default=[], metavar="ID:SECRET:URI"
    )
    oauth.add_argument("--oauth-code-ttl", type=float, default=600.0)
    oauth.add_argument("--oauth-admin-email", default="admin@example.com")
    seed = parser.add_argument_group("seed")
    seed.add_argument("--workspace", type=_workspace, action="append", default=[], metavar="name=…,region=…")
    seed.add_argument("--seed-file", type=Path, help="JSON with 'workspaces' and 'oauth_clients' lists")
    parser.add_argument(
        "--state-file", type=Path, help="keep the state in this file across restarts (seeds apply once)"
    )
    parser.add_argument("--log-level", default="warning")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    workspaces = list(args.workspace)
    clients = list(args.oauth_client)
    if args.seed_file:
        seeded = json.loads(args.seed_file.read_text())
        workspaces += seeded.get("workspaces", [])
        clients += [OAuthClient(**client) for client in seeded.get("oauth_clients", [])]
    return EmulatorConfig(
        spec_path=args.spec or default_spec_path(),
        validate_requests=not args.no_validate,
        faults=FaultSettings(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            error_rate=args.error_rate,
            error_statuses=tuple(int(s) for s in args.error_statuses.split(",") if s),
            hang_rate=args.hang_rate,
            hang_seconds=args.hang_seconds,
        ),
        rate_limits=RateLimitSettings(
            app_per_minute=args.app_rate_limit,
            workspace_per_minute=args.workspace_rate_limit,
            window_seconds=args.rate_window_seconds,
        ),
        search_lag_seconds=args.search_lag,
        deleted_hold_seconds=args.deleted_hold,
        time_factor=args.time_factor,
        oauth_code_ttl_seconds=args.oauth_code_ttl,
        oauth_admin_email=args.oauth_admin_email,
        oauth_clients=clients,
        seed_workspaces=workspaces,
        state_file=args.state_file,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = config_from_args(args)
    if config.validate_requests and not Path(config.spec_path).is_file():
        print(
            f"Intercom OpenAPI spec not found at {config.spec_path}; set INTERCOM_OPENAPI_SPEC",
            file=sys.stderr,
        )
        return 2
    app = create_app(config)
    base = f"http://{args.host}:{args.port}"
    print(
        f"Intercom emulator on {base}: US {base}/us, EU {base}/eu, AU {base}/au, control {base}/_emulator/",
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,  # hung requests must not hold up a stop
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
