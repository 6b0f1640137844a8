"""Shared fixtures for the emulator's own tests: a seeded workspace, a client, and the official spec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.fixtures.emulator import REPO_ROOT, IntercomEmulator, SeededWorkspace

CUSTOM_ATTRIBUTES = [
    {"name": "plan_tier", "data_type": "string"},
    {"name": "seats", "data_type": "integer"},
    {"name": "mrr", "data_type": "float"},
    {"name": "paid", "data_type": "boolean"},
    {"name": "renewal_at", "data_type": "date"},
    {"name": "industry_size", "model": "company", "data_type": "integer"},
    {"name": "tier", "model": "company", "data_type": "string"},
]


def spec_path() -> Path:
    """``$INTERCOM_OPENAPI_SPEC`` (relative to the repository root), else ``../shared/intercom/…`` from it."""
    configured = os.environ.get("INTERCOM_OPENAPI_SPEC") or "../shared/intercom/intercom-api-2.16.yaml"
    path = Path(configured)
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.fixture(scope="session")
def official_spec_dict() -> dict:
    """The official 2.16 spec as a dict, loaded once, with the documented quirks relaxed."""
    with open(spec_path(), "rb") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    schemas = spec["components"]["schemas"]
    # API_NOTES.md §2/§3/§7: custom attributes and metadata are typed string-only, Intercom sends any scalar.
    schemas["create_or_update_company_request"]["properties"]["custom_attributes"][
        "additionalProperties"
    ] = {}
    schemas["update_company_request"]["properties"]["custom_attributes"]["additionalProperties"] = {}
    schemas["create_data_event_request"]["properties"]["metadata"]["additionalProperties"] = {}
    schemas["company"]["properties"]["custom_attributes"]["additionalProperties"] = {}
    return spec


@pytest.fixture(scope="session")
def openapi_spec(official_spec_dict):
    """openapi-core's view of the relaxed spec (strict spec validation off: see API_NOTES.md §7)."""
    from openapi_core import Config, OpenAPI

    return OpenAPI.from_dict(official_spec_dict, config=Config(spec_validator_cls=None))


@pytest.fixture
def workspace(intercom_emulator: IntercomEmulator) -> SeededWorkspace:
    return intercom_emulator.seed_workspace(name="Acme", region="US", data_attributes=CUSTOM_ATTRIBUTES)


@pytest.fixture
def api(intercom_emulator: IntercomEmulator, workspace: SeededWorkspace) -> Iterator[httpx.Client]:
    with intercom_emulator.client(workspace.token, region=workspace.region) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str, message_part: str = "") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error.list"
    assert body["request_id"]
    assert body["errors"][0]["code"] == code, body
    if message_part:
        assert message_part in (body["errors"][0]["message"] or ""), body
    return body
