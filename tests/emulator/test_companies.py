"""Companies: upsert by company_id, retrieve, update, delete, attach/detach, user_count."""

from tests.emulator.conftest import assert_error


def _company(api, company_id="c-1", **fields):
    response = api.post("/companies", json={"company_id": company_id, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def test_upsert_creates_then_updates_by_company_id(api, workspace):
    created = _company(
        api, name="Acme", plan="Enterprise", size=10, monthly_spend=1000, custom_attributes={"tier": "gold"}
    )
    assert created["type"] == "company" and created["app_id"] == workspace.id_code
    assert created["plan"]["name"] == "Enterprise"
    assert created["custom_attributes"] == {"tier": "gold"}
    again = _company(api, name="Acme Inc", custom_attributes={"industry_size": 7})
    assert again["id"] == created["id"]
    assert again["name"] == "Acme Inc" and again["size"] == 10
    assert again["custom_attributes"] == {"tier": "gold", "industry_size": 7}


def test_company_id_is_required_and_immutable(api):
    assert_error(api.post("/companies", json={"name": "No id"}), 400, "parameter_not_found")
    company = _company(api)
    body = assert_error(
        api.put(f"/companies/{company['id']}", json={"company_id": "c-2"}), 400, "bad_request"
    )
    assert body["errors"][0]["message"] == "bad 'company_id' parameter"


def test_unknown_fields_are_a_bad_request(api):
    assert_error(
        api.post("/companies", json={"company_id": "c-1", "test": 1}),
        400,
        "bad_request",
        "bad 'test' parameter",
    )


def test_company_custom_attributes_are_checked(api):
    assert_error(
        api.post("/companies", json={"company_id": "c-1", "custom_attributes": {"nope": "x"}}),
        400,
        "parameter_not_found",
    )
    assert_error(
        api.post("/companies", json={"company_id": "c-1", "custom_attributes": {"industry_size": "big"}}),
        400,
        "parameter_invalid",
    )
    assert_error(
        api.post("/companies", json={"company_id": "c-1", "monthly_spend": 2**31}), 400, "parameter_invalid"
    )


def test_retrieve_by_company_id_and_by_id(api):
    company = _company(api, name="Acme")
    listed = api.get("/companies", params={"company_id": "c-1"}).json()
    assert listed["type"] == "list" and listed["data"][0]["id"] == company["id"]
    assert api.get(f"/companies/{company['id']}").json()["company_id"] == "c-1"
    assert_error(
        api.get("/companies", params={"company_id": "missing"}), 404, "company_not_found", "Company Not Found"
    )
    assert_error(api.get("/companies/000000000000000000000000"), 404, "company_not_found")


def test_update_by_id(api):
    company = _company(api, name="Acme")
    updated = api.put(f"/companies/{company['id']}", json={"name": "Acme 2", "industry": "Retail"}).json()
    assert (updated["name"], updated["industry"]) == ("Acme 2", "Retail")


def test_attach_detach_and_user_count(api):
    company = _company(api)
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    attached = api.post(f"/contacts/{contact['id']}/companies", json={"id": company["id"]})
    assert attached.status_code == 200 and attached.json()["user_count"] == 1
    assert (
        api.post(f"/contacts/{contact['id']}/companies", json={"id": company["id"]}).json()["user_count"] == 1
    )
    shown = api.get(f"/contacts/{contact['id']}").json()["companies"]
    assert shown["total_count"] == 1 and shown["data"][0]["id"] == company["id"]
    assert api.get(f"/contacts/{contact['id']}/companies").json()["companies"][0]["id"] == company["id"]
    members = api.get(f"/companies/{company['id']}/contacts").json()
    assert [c["id"] for c in members["data"]] == [contact["id"]]
    detached = api.delete(f"/contacts/{contact['id']}/companies/{company['id']}")
    assert detached.status_code == 200 and detached.json()["user_count"] == 0
    assert_error(api.delete(f"/contacts/{contact['id']}/companies/{company['id']}"), 404, "company_not_found")


def test_attach_errors(api):
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    assert_error(api.post(f"/contacts/{contact['id']}/companies", json={}), 400, "parameter_not_found")
    assert_error(
        api.post(f"/contacts/{contact['id']}/companies", json={"id": "000000000000000000000000"}),
        404,
        "company_not_found",
    )
    company = _company(api)
    assert_error(
        api.post("/contacts/000000000000000000000000/companies", json={"id": company["id"]}), 404, "not_found"
    )


def test_a_contact_can_have_at_most_1000_companies(intercom_emulator, api):
    intercom_emulator.set_rate_limit(
        app_per_minute=600_000, workspace_per_minute=600_000
    )  # 2,000 calls below
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    for index in range(1000):
        company = api.post("/companies", json={"company_id": f"c-{index}"}).json()
        assert api.post(f"/contacts/{contact['id']}/companies", json={"id": company["id"]}).status_code == 200
    extra = _company(api, company_id="c-extra")
    response = api.post(f"/contacts/{contact['id']}/companies", json={"id": extra["id"]})
    assert_error(response, 400, "contact_company_limit_exceeded", "maximum of 1000")
    inline = api.get(f"/contacts/{contact['id']}").json()["companies"]
    assert inline["total_count"] == 1000 and len(inline["data"]) == 10 and inline["has_more"] is True


def test_delete_archives_and_detaches_contacts(api):
    company = _company(api)
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    api.post(f"/contacts/{contact['id']}/companies", json={"id": company["id"]})
    assert api.delete(f"/companies/{company['id']}").json() == {
        "id": company["id"],
        "object": "company",
        "deleted": True,
    }
    assert_error(api.get(f"/companies/{company['id']}"), 404, "company_not_found")
    assert api.get(f"/contacts/{contact['id']}").json()["companies"]["total_count"] == 0
    assert api.get(f"/contacts/{contact['id']}").status_code == 200  # the contact itself stays


def test_listing_hides_companies_without_users(api):
    lonely = _company(api, company_id="c-lonely")
    busy = _company(api, company_id="c-busy")
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    api.post(f"/contacts/{contact['id']}/companies", json={"id": busy["id"]})
    listed = api.get("/companies").json()
    assert [c["id"] for c in listed["data"]] == [busy["id"]]
    assert api.get(f"/companies/{lonely['id']}").status_code == 200
