"""Write var/emulator-seed.json for `./syncline run`: the Intercom emulator's first start gets three demo
Intercom workspaces and Syncline's OAuth app from it (later starts read its state file, and take the OAuth
app's redirect URI from here). Run from the checkout's root with SYNCLINE_SITE_URL set."""

import json
import os
from pathlib import Path

# The emulator is local only; this is used when neither the environment nor .env has a client secret.
FALLBACK_SECRET = "local-emulator-only-not-a-secret"  # noqa: S105


def client_secret() -> str:
    if os.environ.get("INTERCOM_CLIENT_SECRET"):
        return os.environ["INTERCOM_CLIENT_SECRET"]
    env_file = Path(".env")
    lines = env_file.read_text().splitlines() if env_file.is_file() else []
    return next(
        (line.split("=", 1)[1] for line in lines if line.startswith("INTERCOM_CLIENT_SECRET=")),
        FALLBACK_SECRET,
    )


def main() -> None:
    seed = {
        "workspaces": [
            {"name": "Acme", "region": "US", "id_code": "acme-us"},
            {"name": "Acme Europe", "region": "EU", "id_code": "acme-eu"},
            {"name": "Acme Australia", "region": "AU", "id_code": "acme-au"},
        ],
        "oauth_clients": [
            {
                "client_id": "syncline-local",
                "client_secret": client_secret(),
                "name": "Syncline",
                "redirect_uris": [os.environ["SYNCLINE_SITE_URL"] + "/connections/intercom/callback/"],
            }
        ],
    }
    Path(os.environ.get("SYNCLINE_VAR_DIR", "var"), "emulator-seed.json").write_text(
        json.dumps(seed, indent=2)
    )


if __name__ == "__main__":
    main()
