"""Shared fixtures for the emulator's own tests: a seeded workspace and a client.

The official spec (`official_spec_dict`, `openapi_spec`) comes from the `tests.fixtures.intercom_requests` plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.emulator import IntercomEmulator, SeededWorkspace

CUSTOM_ATTRIBUTES = [
    {"name": "plan_tier", "data_type": "string"},
    {"name": "seats", "data_type": "integer"},
    {"name": "mrr", "data_type": "float"},
    {"name": "paid", "data_type": "boolean"},
    {"name": "renewal_at", "data_type": "date"},
    {"name": "industry_size", "model": "company", "data_type": "integer"},
    {"name": "tier", "model": "company", "data_type": "string"},
]


@pytest.fixture
def workspace(intercom_emulator: IntercomEmulator) -> SeededWorkspace:
    return intercom_emulator.seed_workspace(name="Acme", region="US", data_attributes=CUSTOM_ATTRIBUTES)


@pytest.fixture
def api(intercom_emulator: IntercomEmulator, workspace: SeededWorkspace) -> Iterator[httpx.Client]:
    with intercom_emulator.client(workspace.token, region=workspace.region) as client:
        yield client


_ANY = object()


def assert_error(
    response: httpx.Response, status: int, code: str, message_part: str = "", field: object = _ANY
) -> dict:
    """The response is Intercom's ``error.list`` with this status and code (and ``field``, when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error.list"
    assert body["request_id"]
    assert body["errors"][0]["code"] == code, body
    if message_part:
        assert message_part in (body["errors"][0]["message"] or ""), body
    if field is not _ANY:
        assert body["errors"][0].get("field") == field, body
    return body
