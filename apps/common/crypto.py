"""Encryption of secrets at rest with rotating keys (Fernet: AES-128-CBC + HMAC-SHA256).

FIELD_ENCRYPTION_KEYS is a list of Fernet keys: the first encrypts, every one decrypts. To rotate, put a
new key first, run `manage.py rotate_encryption_keys`, then drop the old key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip()))
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key (32 url-safe base64 bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from error
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: bytes) -> str:
    return _fernet().encrypt(plaintext).decode("ascii")


def decrypt(token: str) -> bytes:
    try:
        return _fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        # Never fall back to returning the ciphertext: a wrong key is an operator error to fix.
        raise DecryptionError(
            "A stored secret could not be decrypted: none of FIELD_ENCRYPTION_KEYS matches the key it was "
            "encrypted with."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key (it must decrypt with one of the keys)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError(
            "A stored secret could not be decrypted with any key; nothing was rotated."
        ) from None
