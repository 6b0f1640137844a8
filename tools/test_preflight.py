"""Before `./syncline test`: check that the services and the file the suite needs are there, and say how
to get them if not (instead of a screen of connection errors). Run from the checkout's root."""

import os
import socket
import sys
from pathlib import Path

NEEDED = {
    "PostgreSQL": ("127.0.0.1", 5432),
    "Redis": ("127.0.0.1", 6379),
    "MariaDB/MySQL": ("127.0.0.1", 3306),
}
DEFAULT_SPEC = "../shared/intercom/intercom-api-2.16.yaml"


def main() -> None:
    missing = []
    for name, address in NEEDED.items():
        try:
            socket.create_connection(address, timeout=2).close()
        except OSError:
            missing.append(f"{name} on {address[0]}:{address[1]}")
    if missing:
        sys.exit(
            "The tests need " + " and ".join(missing) + ", which did not answer.\n"
            "Start them with `docker compose --profile test up -d postgres redis mariadb`, or install them "
            "locally (see README, 'Running the tests')."
        )
    spec = os.environ.get("INTERCOM_OPENAPI_SPEC") or DEFAULT_SPEC
    if not (Path(spec) if Path(spec).is_absolute() else Path.cwd() / spec).is_file():
        sys.exit(
            f"The tests need Intercom's OpenAPI 2.16 file at {spec} (or set INTERCOM_OPENAPI_SPEC); see README."
        )


if __name__ == "__main__":
    main()
