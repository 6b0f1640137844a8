"""Provisional: the minimal client the connect flow needs (GET /me). Replaced by the full client."""

from __future__ import annotations

import requests
from django.conf import settings

INTERCOM_VERSION = "2.16"


class AuthFailure(Exception):
    """Intercom refused the token (401)."""


class TransientFailure(Exception):
    """Intercom could not be reached or answered 5xx."""


class IntercomClient:
    def __init__(self, base_url: str, token: str):
        self.base_url = base_url.rstrip("/")
        self._token = token

    @classmethod
    def for_region(cls, region: str, *, token: str) -> IntercomClient:
        return cls(settings.INTERCOM_API_BASE_URLS[region], token)

    def __repr__(self) -> str:
        return f"IntercomClient({self.base_url})"

    def me(self) -> dict:
        try:
            response = requests.get(
                self.base_url + "/me",
                headers={"Authorization": f"Bearer {self._token}", "Intercom-Version": INTERCOM_VERSION,
                         "Accept": "application/json"},
                timeout=20,
            )  # fmt: skip
        except requests.RequestException as error:
            raise TransientFailure(type(error).__name__) from None
        if response.status_code == 401:
            raise AuthFailure("Intercom refused the access token")
        if response.status_code >= 400:
            raise TransientFailure(f"HTTP {response.status_code}")
        return response.json()
