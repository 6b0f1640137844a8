"""Values Intercom refuses are refused here too, over HTTP, as Intercom's ``error.list``: JSON null where the
spec does not allow it, integers out of range, numbers no parser can hold, JSON's non-standard literals and
text that is not Unicode. So a Syncline change that sends one fails in the suite even if Syncline's own
checks were skipped.
"""

import itertools

import httpx
import pytest

from tests.emulator.conftest import assert_error

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
HUGE = int("9" * 309)  # larger than any double: no JSON parser that reads numbers as doubles can hold it

# The properties of each request body Syncline sends that the 2.16 spec does not mark nullable (the first
# test checks these lists against the file, so the tests below cover every one of them).
NOT_NULLABLE = {
    "create_contact_request": ("email", "external_id", "role"),
    "update_contact_request": ("email", "external_id", "role"),
    "create_or_update_company_request": (
        "company_id",
        "name",
        "plan",
        "size",
        "website",
        "industry",
        "custom_attributes",
        "remote_created_at",
        "update_last_request_at",
        "monthly_spend",
    ),
    "update_company_request": (
        "name",
        "plan",
        "size",
        "website",
        "industry",
        "custom_attributes",
        "monthly_spend",
    ),
    "create_data_event_request": ("event_name", "created_at", "user_id", "id", "email", "metadata"),
}
EVENT = {"event_name": "placed-order", "created_at": 1700000000, "user_id": "u-1"}


@pytest.fixture
def user(api) -> dict:
    response = api.post("/contacts", json={"external_id": "u-1", "email": "ann@x.test", "name": "Ann"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def company(api) -> dict:
    response = api.post("/companies", json={"company_id": "c-1", "name": "Acme", "size": 5})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_not_nullable_lists_are_the_specs(official_spec_dict):
    schemas = official_spec_dict["components"]["schemas"]
    for name, fields in NOT_NULLABLE.items():
        properties = schemas[name]["properties"]
        assert sorted(fields) == sorted(p for p, s in properties.items() if not s.get("nullable")), name
    attach = official_spec_dict["paths"]["/contacts/{contact_id}/companies"]["post"]["requestBody"]
    assert attach["content"]["application/json"]["schema"]["properties"]["id"].get("nullable") is None


# -- JSON null ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", NOT_NULLABLE["create_contact_request"])
def test_null_is_refused_on_contact_create(intercom_emulator, api, workspace, field):
    body = {"external_id": "u-1", "email": "ann@x.test", "role": "user", field: None}
    assert_error(api.post("/contacts", json=body), 400, "parameter_invalid", f"{field} must be", field=field)
    assert intercom_emulator.contacts(workspace.id_code) == []


@pytest.mark.parametrize("field", NOT_NULLABLE["update_contact_request"])
def test_null_is_refused_on_contact_update(api, user, field):
    response = api.put(f"/contacts/{user['id']}", json={field: None})
    assert_error(response, 400, "parameter_invalid", field=field)
    user.pop("enabled_push_messaging")  # only in the create answer
    assert api.get(f"/contacts/{user['id']}").json() == user  # unchanged


@pytest.mark.parametrize("field", NOT_NULLABLE["create_or_update_company_request"])
def test_null_is_refused_on_company_upsert(api, company, field):
    response = api.post("/companies", json={"company_id": "c-1", field: None})
    assert_error(response, 400, "parameter_invalid", field=field)
    assert api.get(f"/companies/{company['id']}").json() == company


@pytest.mark.parametrize("field", NOT_NULLABLE["update_company_request"])
def test_null_is_refused_on_company_update(api, company, field):
    response = api.put(f"/companies/{company['id']}", json={field: None})
    assert_error(response, 400, "parameter_invalid", field=field)
    assert api.get(f"/companies/{company['id']}").json() == company


@pytest.mark.parametrize("field", NOT_NULLABLE["create_data_event_request"])
def test_null_is_refused_on_events(intercom_emulator, api, workspace, user, field):
    assert api.post("/events", json=EVENT).status_code == 202  # the same event without the null is fine
    response = api.post("/events", json={**EVENT, "created_at": 1700000001, field: None})
    assert_error(response, 400, "parameter_invalid", field=field)
    assert len(intercom_emulator.events(workspace.id_code)) == 1


def test_null_is_refused_on_attach(api, user, company):
    response = api.post(f"/contacts/{user['id']}/companies", json={"id": None})
    assert_error(response, 400, "parameter_invalid", field="id")
    assert api.get(f"/contacts/{user['id']}").json()["companies"]["total_count"] == 0


def test_nullable_contact_fields_take_null_and_clear_the_value(api, workspace):
    values = {
        "name": "Ann Lee",
        "phone": "+353871234567",
        "owner_id": "321",
        "signed_up_at": 1571672154,
        "last_seen_at": 1571672155,
    }
    created = api.post(
        "/contacts", json={"external_id": "u-1", "avatar": "https://x.test/a.png", **values}
    ).json()
    assert {name: created[name] for name in values} == values
    cleared = api.put(
        f"/contacts/{created['id']}",
        json={
            **dict.fromkeys(values),
            "avatar": None,
            "unsubscribed_from_emails": None,
            "email_verified": None,
            "custom_attributes": None,
        },
    )
    assert cleared.status_code == 200, cleared.text
    shown = api.get(f"/contacts/{created['id']}").json()
    assert {name: shown[name] for name in values} == dict.fromkeys(values)
    assert shown["avatar"]["image_url"] is None
    assert shown["external_id"] == "u-1"  # the rest stays

    fresh = api.post("/contacts", json={"external_id": "u-2", **dict.fromkeys(values), "avatar": None})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["name"] is None


def test_a_null_custom_attribute_clears_it(api, user, company):
    api.put(f"/contacts/{user['id']}", json={"custom_attributes": {"plan_tier": "pro", "seats": 3}})
    cleared = api.put(f"/contacts/{user['id']}", json={"custom_attributes": {"plan_tier": None}}).json()
    assert cleared["custom_attributes"] == {"seats": 3}
    # Company values are typed string-only by the spec and relaxed (see the README): null clears as well.
    api.post(
        "/companies", json={"company_id": "c-1", "custom_attributes": {"tier": "gold", "industry_size": 9}}
    )
    response = api.post("/companies", json={"company_id": "c-1", "custom_attributes": {"tier": None}})
    assert response.status_code == 200, response.text
    assert response.json()["custom_attributes"] == {"industry_size": 9}


# -- integer ranges -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["POST /companies", "PUT /companies/{id}"])
@pytest.mark.parametrize("field", ["size", "monthly_spend"])
def test_company_size_and_monthly_spend_are_signed_32_bit(api, company, method, field):
    def send(value):
        if method == "POST /companies":
            return api.post("/companies", json={"company_id": "c-1", field: value})
        return api.put(f"/companies/{company['id']}", json={field: value})

    for value in (INT32_MAX, INT32_MIN):
        response = send(value)
        assert response.status_code == 200, response.text
        assert response.json()[field] == value
    for value in (INT32_MAX + 1, INT32_MIN - 1, INT64_MAX, HUGE):
        assert_error(send(value), 400, "parameter_invalid", field=field)
    assert api.get(f"/companies/{company['id']}").json()[field] == INT32_MIN  # the refusals changed nothing


_ids = itertools.count()


def _contact(api, **fields):
    return api.post("/contacts", json={"external_id": f"x-{next(_ids)}", **fields})


def _company_upsert(api, **fields):
    return api.post("/companies", json={"company_id": f"c-{next(_ids)}", **fields})


def _event(api, **fields):
    return api.post("/events", json={**EVENT, "created_at": next(_ids), **fields})


# (name, request with the integer in it, the error's field)
INTEGER_PLACES = [
    ("contact signed_up_at", lambda api, n, u: _contact(api, signed_up_at=n), "signed_up_at"),
    ("contact last_seen_at", lambda api, n, u: api.put(f"/contacts/{u}", json={"last_seen_at": n}), "last_seen_at"),
    ("integer attribute", lambda api, n, u: _contact(api, custom_attributes={"seats": n}), "custom_attributes.seats"),
    ("float attribute", lambda api, n, u: _contact(api, custom_attributes={"mrr": n}), "custom_attributes.mrr"),
    ("company remote_created_at", lambda api, n, u: _company_upsert(api, remote_created_at=n), "remote_created_at"),
    (
        "company attribute",
        lambda api, n, u: _company_upsert(api, custom_attributes={"industry_size": n}),
        "custom_attributes.industry_size",
    ),
    ("event created_at", lambda api, n, u: _event(api, created_at=n), "created_at"),
    ("event metadata", lambda api, n, u: _event(api, metadata={"units": n}), "metadata.units"),
    (
        "search value",
        lambda api, n, u: api.post(
            "/contacts/search", json={"query": {"field": "signed_up_at", "operator": ">", "value": n}}
        ),
        "query.value",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("send", "field"), [p[1:] for p in INTEGER_PLACES], ids=[p[0] for p in INTEGER_PLACES]
)
def test_any_integer_outside_signed_64_bit_is_refused(api, user, send, field):
    for value in (INT64_MAX, INT64_MIN):
        response = send(api, value, user["id"])
        assert response.status_code in (200, 202), response.text
    for value in (INT64_MAX + 1, INT64_MIN - 1, HUGE, -HUGE):
        response = send(api, value, user["id"])
        assert_error(response, 400, "parameter_invalid", field=field)
        assert len(response.text) < 500  # the message states the range, it does not echo 309 digits


# -- numbers no parser can hold, non-standard literals, broken text --------------------------------------
def _raw(api, path, text: str) -> httpx.Response:
    return api.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400 + ".5"])
def test_a_number_too_large_for_a_double_is_refused(intercom_emulator, api, workspace, user, number):
    cases = [
        ("/contacts", '{"external_id": "x", "custom_attributes": {"mrr": %s}}', "custom_attributes.mrr"),
        ("/companies", '{"company_id": "c", "monthly_spend": %s}', "monthly_spend"),
        ("/events", '{"event_name": "e", "created_at": 1, "user_id": "u-1", "metadata": {"n": %s}}', "metadata.n"),
    ]  # fmt: skip
    for path, template, field in cases:
        assert_error(_raw(api, path, template % number), 400, "parameter_invalid", field=field)
    assert _contact(api, custom_attributes={"mrr": 1.7976931348623157e308}).status_code == 200  # the largest
    assert intercom_emulator.request_count(status=500) == 0


def test_an_integer_too_long_to_parse_is_malformed_json(intercom_emulator, api):
    body = '{"external_id": "x", "custom_attributes": {"seats": %s}}' % ("9" * 5000)
    assert_error(_raw(api, "/contacts", body), 400, "bad_request", "parsing the JSON")
    assert intercom_emulator.request_count(status=500) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_literals_are_malformed_json(intercom_emulator, api, workspace, user, literal):
    cases = [
        ("/contacts", '{"external_id": "x", "custom_attributes": {"mrr": %s}}'),
        ("/contacts", '{"external_id": "x", "signed_up_at": %s}'),
        ("/companies", '{"company_id": "c", "monthly_spend": %s}'),
        ("/events", '{"event_name": "e", "created_at": %s, "user_id": "u-1"}'),
        ("/events", '{"event_name": "e", "created_at": 1, "user_id": "u-1", "metadata": {"n": %s}}'),
        ("/contacts/search", '{"query": {"field": "signed_up_at", "operator": ">", "value": %s}}'),
    ]
    for path, template in cases:
        response = _raw(api, path, template % literal)
        body = assert_error(response, 400, "bad_request", "parsing the JSON", field=None)
        assert "field" not in body["errors"][0]
    token = httpx.post(
        intercom_emulator.token_url(workspace.region),
        content=f'{{"code": "c", "client_id": "x", "client_secret": {literal}}}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(token, 400, "bad_request", "parsing the JSON")
    assert len(intercom_emulator.contacts(workspace.id_code)) == 1  # only `user`
    assert intercom_emulator.events(workspace.id_code) == []
    # Refusals are logged like any other answer.
    assert intercom_emulator.request_count("POST /contacts", 400) == 2
    assert intercom_emulator.request_count(status=500) == 0


def test_a_lone_surrogate_is_malformed_json(intercom_emulator, api, workspace):
    for body in (
        '{"external_id": "u-\\ud800"}',
        '{"external_id": "u-1", "custom_attributes": {"\\udc00": 1}}',
    ):
        assert_error(_raw(api, "/contacts", body), 400, "bad_request", "parsing the JSON")
    paired = _raw(api, "/contacts", '{"external_id": "u-\\ud83d\\ude00"}')  # a pair is an emoji: fine
    assert paired.status_code == 200 and paired.json()["external_id"] == "u-😀"
    assert intercom_emulator.request_count(status=500) == 0
