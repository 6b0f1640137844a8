"""A scripted session against the emulator; every request and response is checked against the official spec.

Responses whose status the spec does not document for an operation (409 on create, 429 anywhere, a 404 on
events) must still be the spec's ``error`` schema.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

SPEC_HOST = "https://api.intercom.io"
REDIRECT = "https://syncline.test/callback"


class SpecCheckedClient:
    """Sends requests to one region of the emulator and validates each exchange with openapi-core."""

    def __init__(self, openapi, error_schema: dict, base_url: str, token: str):
        self.openapi = openapi
        self.error_validator = OAS30Validator(error_schema)
        self.client = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Intercom-Version": "2.16",
                "Accept": "application/json",
            },
        )
        self.checked: list[tuple[str, str, int]] = []

    def call(
        self, method: str, path: str, body=None, params=None, *, spec_invalid: bool = False
    ) -> httpx.Response:
        """Send one request; ``spec_invalid`` marks a request the spec itself refuses (sent on purpose)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        response = self.client.request(method, path, content=data, params=params, headers=headers)
        request = MockRequest(
            SPEC_HOST,
            method.lower(),
            path,
            args=params or {},
            headers={**self.client.headers, **headers},
            data=data,
            content_type="application/json" if data is not None else None,
        )
        if spec_invalid:
            with pytest.raises(OpenAPIError):
                self.openapi.validate_request(request)
        else:
            self.openapi.validate_request(request)
        mock = MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=response.headers.get("content-type", "application/json")
            if response.content
            else None,
        )
        try:
            self.openapi.validate_response(request, mock)
        except ResponseNotFound:
            assert response.status_code in (400, 404, 409, 429), response.text
            self.error_validator.validate(response.json())
        if response.status_code >= 400:
            self.error_validator.validate(response.json())
            assert response.json()["type"] == "error.list" and response.json()["request_id"]
        self.checked.append((method, path, response.status_code))
        return response

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def oauth_token(intercom_emulator) -> tuple[str, str]:
    """Install the app into an EU workspace through the consent page; returns (token, region)."""
    intercom_emulator.add_oauth_client("syncline", "s3cret", [REDIRECT])
    intercom_emulator.seed_workspace(name="Acme EU", region="EU", id_code="acme-eu", tokens=[])
    page = httpx.get(intercom_emulator.authorize_url("EU", "syncline", "state-1"))
    assert page.status_code == 200 and "Acme EU" in page.text
    decision = httpx.post(
        f"{intercom_emulator.base_url('EU')}/oauth",
        data={
            "client_id": "syncline",
            "state": "state-1",
            "redirect_uri": REDIRECT,
            "workspace": "acme-eu",
            "decision": "approve",
        },
    )
    query = parse_qs(urlsplit(decision.headers["location"]).query)
    assert query["state"] == ["state-1"]
    exchange = httpx.post(
        intercom_emulator.token_url("EU"),
        data={"code": query["code"][0], "client_id": "syncline", "client_secret": "s3cret"},
    )
    assert exchange.status_code == 200
    return exchange.json()["access_token"], "EU"


def test_scripted_session_matches_the_official_spec(
    intercom_emulator, openapi_spec, official_spec_dict, oauth_token
):
    token, region = oauth_token
    error_schema = official_spec_dict["components"]["schemas"]["error"]
    api = SpecCheckedClient(openapi_spec, error_schema, intercom_emulator.base_url(region), token)
    try:
        me = api.call("GET", "/me").json()
        assert me["app"]["id_code"] == "acme-eu" and me["app"]["region"] == "EU"

        # Data attributes the sync needs.
        assert api.call("GET", "/data_attributes", params={"model": "contact"}).status_code == 200
        assert api.call("GET", "/data_attributes", params={"model": "company"}).status_code == 200
        for name, model, data_type in (
            ("plan_tier", "contact", "string"),
            ("seats", "contact", "integer"),
            ("mrr", "contact", "float"),
            ("paid", "contact", "boolean"),
            ("renews_at", "contact", "date"),
            ("region_code", "company", "string"),
            ("headcount", "company", "integer"),
        ):
            body = {"name": name, "model": model, "data_type": data_type}
            assert api.call("POST", "/data_attributes", body).status_code == 200
        api.call(
            "POST",
            "/data_attributes",
            {
                "name": "band",
                "model": "contact",
                "data_type": "options",
                "options": [{"value": "a"}, {"value": "b"}],
            },
        )
        assert (
            api.call(
                "POST", "/data_attributes", {"name": "plan_tier", "model": "company", "data_type": "string"}
            ).status_code
            == 400
        )
        assert (
            api.call(
                "GET", "/data_attributes", params={"model": "conversation"}, spec_invalid=True
            ).status_code
            == 422
        )
        archived = api.call(
            "POST", "/data_attributes", {"name": "legacy", "model": "contact", "data_type": "string"}
        ).json()
        assert (
            api.call("PUT", f"/data_attributes/{archived['id']}", {"archived": True}).json()["archived"]
            is True
        )

        # Contacts: create, update, 409, search, archive, unarchive.
        custom = {"plan_tier": "pro", "seats": 3, "mrr": 99.5, "paid": True, "renews_at": 1735689600}
        user = api.call(
            "POST",
            "/contacts",
            {
                "role": "user",
                "external_id": "u-1",
                "email": "ann@acme.test",
                "name": "Ann",
                "custom_attributes": custom,
            },
        ).json()
        lead = api.call("POST", "/contacts", {"role": "lead", "email": "lead@acme.test"}).json()
        assert (
            api.call("PUT", f"/contacts/{user['id']}", {"custom_attributes": {"seats": 4}}).json()[
                "custom_attributes"
            ]["seats"]
            == 4
        )
        conflict = api.call("POST", "/contacts", {"external_id": "u-1"})
        assert conflict.status_code == 409 and user["id"] in conflict.json()["errors"][0]["message"]
        assert (
            api.call(
                "POST", "/contacts", {"external_id": "u-2", "custom_attributes": {"unknown": 1}}
            ).status_code
            == 400
        )
        assert api.call("GET", f"/contacts/{user['id']}").status_code == 200
        assert api.call("GET", "/contacts/find_by_external_id/u-1").status_code == 200
        intercom_emulator.wait_for_search()  # list and search lag writes, as Intercom's do
        assert api.call("GET", "/contacts", params={"per_page": "1"}).json()["pages"]["next"]
        query = {
            "query": {
                "operator": "AND",
                "value": [
                    {"field": "custom_attributes.plan_tier", "operator": "=", "value": "pro"},
                    {"field": "external_id", "operator": "IN", "value": ["u-1", "u-9"]},
                ],
            },
            "pagination": {"per_page": 10},
            "sort": {"field": "created_at", "order": "ascending"},
        }
        assert [c["id"] for c in api.call("POST", "/contacts/search", query).json()["data"]] == [user["id"]]
        bad_sort = {**query, "sort": {"field": "created_at", "order": "up"}}
        assert api.call("POST", "/contacts/search", bad_sort, spec_invalid=True).status_code == 400
        assert api.call("POST", f"/contacts/{lead['id']}/archive").json()["archived"] is True
        assert (
            api.call("POST", "/contacts", {"external_id": "u-3", "email": "x@acme.test"}).status_code == 200
        )
        assert api.call("POST", f"/contacts/{lead['id']}/unarchive").json()["archived"] is False

        # Companies and attachment.
        company = api.call(
            "POST",
            "/companies",
            {
                "company_id": "c-1",
                "name": "Acme",
                "plan": "Pro",
                "size": 10,
                "monthly_spend": 500,
                "custom_attributes": {"region_code": "DE", "headcount": 12},
            },
        ).json()
        assert (
            api.call("POST", "/companies", {"company_id": "c-1", "industry": "Retail"}).json()["id"]
            == company["id"]
        )
        assert api.call("POST", "/companies", {"company_id": "c-2", "test": 1}).status_code == 400
        assert api.call("GET", "/companies", params={"company_id": "c-1"}).status_code == 200
        assert api.call("GET", "/companies", params={"company_id": "missing"}).status_code == 404
        assert api.call("GET", f"/companies/{company['id']}").status_code == 200
        assert api.call("PUT", f"/companies/{company['id']}", {"name": "Acme GmbH"}).status_code == 200
        assert (
            api.call("POST", f"/contacts/{user['id']}/companies", {"id": company["id"]}).json()["user_count"]
            == 1
        )
        assert api.call("GET", f"/contacts/{user['id']}/companies").status_code == 200
        assert api.call("GET", f"/companies/{company['id']}/contacts").json()["total_count"] == 1
        assert api.call("GET", "/companies").json()["total_count"] == 1
        assert api.call("DELETE", f"/contacts/{user['id']}/companies/{company['id']}").status_code == 200
        second = api.call("POST", "/companies", {"company_id": "c-2"}).json()
        assert api.call("DELETE", f"/companies/{second['id']}").json()["deleted"] is True

        # Events.
        event = {
            "event_name": "ordered-item",
            "created_at": 1700000000,
            "user_id": "u-1",
            "metadata": {"order": "A1", "total": 12.5, "price": {"amount": 1250, "currency": "eur"}},
        }
        assert api.call("POST", "/events", event).status_code == 202
        assert api.call("POST", "/events", event).status_code == 202  # a duplicate: ignored, still 202
        assert api.call("POST", "/events", {**event, "user_id": "nobody"}).status_code == 404

        # Deleting a contact.
        assert api.call("DELETE", f"/contacts/{lead['id']}").json()["deleted"] is True

        # Rate limit: 6 per minute is 1 per window.
        intercom_emulator.set_rate_limit(app_per_minute=6, window_seconds=2)
        time.sleep(2 - (time.time() % 2) + 0.02)
        statuses = [api.call("GET", "/me").status_code for _ in range(2)]
        assert statuses == [200, 429]
    finally:
        api.close()
    assert intercom_emulator.duplicate_event_count() == 1
    statuses = {status for _, _, status in api.checked}
    assert {200, 202, 400, 404, 409, 422, 429} <= statuses
    assert len(api.checked) >= 45
