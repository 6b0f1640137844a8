"""Write .env from .env.example with freshly generated local secrets (called by `./syncline run` when
there is no .env yet). Run from the checkout's root."""

import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def main() -> None:
    example = Path(".env.example").read_text()
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "INTERCOM_CLIENT_SECRET": secrets.token_urlsafe(24),
    }
    lines = []
    for line in example.splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values[key]}" if key in values else line)
    Path(".env").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
