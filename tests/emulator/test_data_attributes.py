"""Data attributes: list, create (name rules, uniqueness across models, types), archive."""

from tests.emulator.conftest import assert_error


def test_list_has_standard_and_custom_attributes(api):
    listed = api.get("/data_attributes", params={"model": "contact"}).json()
    assert listed["type"] == "list"
    by_name = {a["name"]: a for a in listed["data"]}
    assert by_name["email"]["custom"] is False and by_name["email"]["api_writable"] is True
    assert by_name["created_at"]["api_writable"] is False
    assert (
        by_name["plan_tier"]["custom"] is True
        and by_name["plan_tier"]["full_name"] == "custom_attributes.plan_tier"
    )
    assert "tier" not in by_name  # a company attribute
    companies = {a["name"] for a in api.get("/data_attributes", params={"model": "company"}).json()["data"]}
    assert {"company_id", "tier", "industry_size"} <= companies
    everything = api.get("/data_attributes").json()["data"]
    assert {a["model"] for a in everything} == {"contact", "company"}


def test_conversation_model_is_a_422(api):
    assert_error(api.get("/data_attributes", params={"model": "conversation"}), 422, "parameter_invalid")


def test_create_each_type(api):
    for data_type in ("string", "integer", "float", "boolean", "date", "datetime"):
        response = api.post(
            "/data_attributes", json={"name": f"attr_{data_type}", "model": "contact", "data_type": data_type}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["custom"] is True and isinstance(body["id"], int) and body["api_writable"] is True
    options = {
        "name": "size band",
        "model": "company",
        "data_type": "options",
        "options": [{"value": "1-10"}, {"value": "11-50"}],
    }
    body = api.post("/data_attributes", json=options).json()
    assert body["options"] == ["1-10", "11-50"]


def test_new_attribute_can_be_written(api):
    api.post("/data_attributes", json={"name": "score", "model": "contact", "data_type": "integer"})
    response = api.post("/contacts", json={"external_id": "u-1", "custom_attributes": {"score": 9}})
    assert response.json()["custom_attributes"] == {"score": 9}


def test_name_rules(api):
    for name in ("bad.name", "bad[name]", "  ", 'quote"d'):
        response = api.post(
            "/data_attributes", json={"name": name, "model": "contact", "data_type": "string"}
        )
        assert_error(response, 400, "parameter_invalid", "alphanumeric")
    for name in ("Mithril Shirt", "cost-€", "snake_case_1"):
        assert (
            api.post(
                "/data_attributes", json={"name": name, "model": "contact", "data_type": "string"}
            ).status_code
            == 200
        )


def test_names_are_unique_across_models(api):
    api.post("/data_attributes", json={"name": "The One Ring", "model": "company", "data_type": "string"})
    response = api.post(
        "/data_attributes", json={"name": "The One Ring", "model": "contact", "data_type": "string"}
    )
    body = assert_error(response, 400, "parameter_invalid")
    assert body["errors"][0]["message"] == (
        "You already have 'The One Ring' in your company data. To save this as new people data, use a different name."
    )
    assert_error(
        api.post(
            "/data_attributes", json={"name": "the one ring", "model": "company", "data_type": "string"}
        ),
        400,
        "parameter_invalid",
    )


def test_bad_types_and_options(api):
    assert_error(
        api.post("/data_attributes", json={"name": "x", "model": "contact", "data_type": "mithril"}),
        400,
        "parameter_invalid",
    )
    one_option = {"name": "x", "model": "contact", "data_type": "options", "options": [{"value": "only"}]}
    assert_error(api.post("/data_attributes", json=one_option), 400, "parameter_invalid")
    assert_error(
        api.post("/data_attributes", json={"name": "x", "model": "ticket", "data_type": "string"}),
        400,
        "parameter_invalid",
    )
    assert_error(
        api.post("/data_attributes", json={"model": "contact", "data_type": "string"}),
        400,
        "parameter_not_found",
    )


def test_archive_hides_unless_asked(api):
    created = api.post(
        "/data_attributes", json={"name": "old", "model": "contact", "data_type": "string"}
    ).json()
    archived = api.put(f"/data_attributes/{created['id']}", json={"archived": True}).json()
    assert archived["archived"] is True
    names = {a["name"] for a in api.get("/data_attributes", params={"model": "contact"}).json()["data"]}
    assert "old" not in names
    listed = api.get("/data_attributes", params={"model": "contact", "include_archived": "true"}).json()[
        "data"
    ]
    assert any(a["name"] == "old" and a["archived"] for a in listed)
    assert_error(api.put("/data_attributes/99999", json={"archived": True}), 404, "field_not_found")


def test_standard_names_are_taken_within_their_model(api):
    body = assert_error(
        api.post("/data_attributes", json={"name": "email", "model": "contact", "data_type": "string"}),
        400,
        "parameter_invalid",
    )
    assert "in your people data" in body["errors"][0]["message"]
    # "plan" is a standard company attribute, and a common custom attribute on people.
    assert (
        api.post(
            "/data_attributes", json={"name": "plan", "model": "contact", "data_type": "string"}
        ).status_code
        == 200
    )
