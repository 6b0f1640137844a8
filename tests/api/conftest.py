import pytest
from django.test import Client

from apps.api.services import api_key_create


class ApiClient:
    """The test client speaking to /api/v1/ with a bearer key, as a pipeline would (no cookies, no CSRF)."""

    def __init__(self, secret: str | None):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, data=None, **kwargs):
        if data is None:  # like `curl -X POST`: no body at all
            return self.client.generic("POST", path, headers=self.headers, **kwargs)
        return self.client.post(path, data, content_type="application/json", headers=self.headers, **kwargs)


@pytest.fixture
def api_key_and_secret(workspace, owner):
    return api_key_create(workspace=workspace, user=owner, name="Airflow")


@pytest.fixture
def api(api_key_and_secret):
    return ApiClient(api_key_and_secret[1])


def bearer_client(secret):
    return ApiClient(secret)
