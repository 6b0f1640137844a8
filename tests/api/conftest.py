import json

import pytest
from django.test import Client

from apps.api.services import api_key_create
from apps.tenancy.models import Role


class ApiClient:
    """The test client speaking to /api/v1/ with a bearer key, as a pipeline would (no cookies, no CSRF)."""

    def __init__(self, secret: str | None):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self._send("POST", path, data, **kwargs)

    def put(self, path, data=None, **kwargs):
        return self._send("PUT", path, data, **kwargs)

    def patch(self, path, data=None, **kwargs):
        return self._send("PATCH", path, data, **kwargs)

    def delete(self, path, **kwargs):
        return self._send("DELETE", path, None, **kwargs)

    def _send(self, method, path, data, **kwargs):
        if data is None:  # like `curl -X POST`: no body at all
            return self.client.generic(method, path, headers=self.headers, **kwargs)
        return self.client.generic(
            method, path, json.dumps(data), content_type="application/json", headers=self.headers, **kwargs
        )


@pytest.fixture
def api_key_and_secret(workspace, owner):
    return api_key_create(workspace=workspace, user=owner, name="Airflow")


@pytest.fixture
def api(api_key_and_secret):
    return ApiClient(api_key_and_secret[1])


@pytest.fixture
def viewer_api(workspace, owner):
    return ApiClient(api_key_create(workspace=workspace, user=owner, name="Monitor", role=Role.VIEWER)[1])


def bearer_client(secret):
    return ApiClient(secret)
