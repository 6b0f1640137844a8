"""Contacts: create, retrieve, update, uniqueness (409), leads, archive, delete, list, custom attributes."""

import re
from urllib.parse import quote

from tests.emulator.conftest import assert_error


def test_create_and_retrieve_a_user(api, workspace):
    response = api.post(
        "/contacts",
        json={
            "role": "user",
            "external_id": "u-1",
            "email": "Jane@Example.com",
            "name": "Jane",
            "signed_up_at": 1700000000,
            "custom_attributes": {"plan_tier": "pro", "seats": 3, "mrr": 12.5, "paid": True},
        },
    )
    assert response.status_code == 200
    created = response.json()
    assert created["type"] == "contact" and created["role"] == "user"
    assert re.fullmatch(r"[0-9a-f]{24}", created["id"])
    assert created["workspace_id"] == workspace.id_code
    assert created["email_domain"] == "Example.com"
    assert created["custom_attributes"] == {"plan_tier": "pro", "seats": 3, "mrr": 12.5, "paid": True}
    fetched = api.get(f"/contacts/{created['id']}").json()
    assert fetched["external_id"] == "u-1" and fetched["name"] == "Jane"


def test_role_defaults_to_user(api):
    assert api.post("/contacts", json={"email": "a@x.test"}).json()["role"] == "user"


def test_update_merges_custom_attributes_per_key(api):
    contact = api.post(
        "/contacts", json={"external_id": "u-1", "custom_attributes": {"plan_tier": "pro", "seats": 2}}
    )
    contact_id = contact.json()["id"]
    response = api.put(f"/contacts/{contact_id}", json={"name": "New", "custom_attributes": {"seats": 5}})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New"
    assert body["custom_attributes"] == {"plan_tier": "pro", "seats": 5}
    cleared = api.put(f"/contacts/{contact_id}", json={"custom_attributes": {"plan_tier": None}}).json()
    assert cleared["custom_attributes"] == {"seats": 5}


def test_update_can_change_email_and_external_id(api):
    contact_id = api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"}).json()["id"]
    body = api.put(f"/contacts/{contact_id}", json={"external_id": "u-2", "email": "b@x.test"}).json()
    assert (body["external_id"], body["email"]) == ("u-2", "b@x.test")


def test_update_unknown_contact_is_404(api):
    assert_error(
        api.put("/contacts/000000000000000000000000", json={"name": "x"}), 404, "not_found", "User Not Found"
    )
    assert_error(api.get("/contacts/000000000000000000000000"), 404, "not_found")


def test_duplicate_external_id_is_a_409_with_the_existing_id(api):
    first = api.post("/contacts", json={"external_id": "u-1"}).json()
    response = api.post("/contacts", json={"external_id": "u-1", "email": "other@x.test"})
    body = assert_error(response, 409, "conflict")
    assert (
        body["errors"][0]["message"]
        == f"A contact matching those details already exists with id={first['id']}"
    )


def test_duplicate_user_email_is_a_409_case_insensitively(api):
    first = api.post("/contacts", json={"email": "jane@x.test"}).json()
    body = assert_error(
        api.post("/contacts", json={"email": "JANE@x.test", "external_id": "u-9"}), 409, "conflict"
    )
    assert body["errors"][0]["message"].endswith(f"id={first['id']}")


def test_archived_match_gets_the_archived_variant(api):
    first = api.post("/contacts", json={"external_id": "u-1"}).json()
    assert api.post(f"/contacts/{first['id']}/archive").json() == {
        "type": "contact",
        "id": first["id"],
        "external_id": "u-1",
        "archived": True,
    }
    body = assert_error(api.post("/contacts", json={"external_id": "u-1"}), 409, "conflict")
    assert body["errors"][0]["message"] == (
        f"An archived contact matching those details already exists with id={first['id']}"
    )


def test_update_into_another_users_identifiers_is_a_409(api):
    api.post("/contacts", json={"external_id": "u-1", "email": "one@x.test"})
    second = api.post("/contacts", json={"external_id": "u-2"}).json()
    assert_error(api.put(f"/contacts/{second['id']}", json={"external_id": "u-1"}), 409, "conflict")
    assert_error(api.put(f"/contacts/{second['id']}", json={"email": "ONE@x.test"}), 409, "conflict")


def test_leads_drop_external_id_and_may_share_an_email(api):
    lead = api.post("/contacts", json={"role": "lead", "external_id": "l-1", "email": "lead@x.test"}).json()
    assert lead["role"] == "lead" and lead["external_id"] is None
    again = api.post("/contacts", json={"role": "lead", "email": "lead@x.test"})
    assert again.status_code == 200 and again.json()["id"] != lead["id"]
    updated = api.put(f"/contacts/{lead['id']}", json={"external_id": "l-2"}).json()
    assert updated["external_id"] is None


def test_lead_can_become_a_user_but_not_back(api):
    lead = api.post("/contacts", json={"role": "lead", "email": "lead@x.test"}).json()
    user = api.put(f"/contacts/{lead['id']}", json={"role": "user", "external_id": "u-7"}).json()
    assert (user["role"], user["external_id"]) == ("user", "u-7")
    assert_error(api.put(f"/contacts/{lead['id']}", json={"role": "lead"}), 400, "parameter_invalid")


def test_invalid_role_is_refused(api):
    assert_error(api.post("/contacts", json={"role": "visitor"}), 400, "parameter_invalid")


def test_find_by_external_id_finds_users_only(api):
    user = api.post("/contacts", json={"external_id": "u-1"}).json()
    assert api.get("/contacts/find_by_external_id/u-1").json()["id"] == user["id"]
    assert_error(api.get("/contacts/find_by_external_id/l-1"), 404, "not_found")
    api.post("/contacts", json={"role": "lead", "external_id": "l-1"})
    assert_error(api.get("/contacts/find_by_external_id/l-1"), 404, "not_found")


def test_archive_hides_and_unarchive_restores(api):
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    api.post(f"/contacts/{contact['id']}/archive")
    assert_error(api.get(f"/contacts/{contact['id']}"), 404, "not_found")
    assert_error(api.put(f"/contacts/{contact['id']}", json={"name": "x"}), 404, "not_found")
    assert api.get("/contacts").json()["total_count"] == 0
    assert api.post(f"/contacts/{contact['id']}/unarchive").json()["archived"] is False
    assert api.put(f"/contacts/{contact['id']}", json={"name": "back"}).json()["name"] == "back"


def test_delete_frees_the_identifiers(api):
    contact = api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"}).json()
    assert api.delete(f"/contacts/{contact['id']}").json() == {
        "type": "contact",
        "id": contact["id"],
        "external_id": "u-1",
        "deleted": True,
    }
    assert_error(api.get(f"/contacts/{contact['id']}"), 404, "not_found")
    assert_error(api.delete(f"/contacts/{contact['id']}"), 404, "not_found")
    assert api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"}).status_code == 200


def test_list_pages_with_a_cursor(api):
    ids = {api.post("/contacts", json={"external_id": f"u-{i}"}).json()["id"] for i in range(7)}
    seen = []
    page = api.get("/contacts", params={"per_page": 3}).json()
    assert page["total_count"] == 7 and page["pages"]["total_pages"] == 3
    seen += [c["id"] for c in page["data"]]
    while "next" in page["pages"]:
        cursor = page["pages"]["next"]["starting_after"]
        page = api.get("/contacts", params={"per_page": 3, "starting_after": cursor}).json()
        seen += [c["id"] for c in page["data"]]
    assert len(seen) == 7 and set(seen) == ids


def test_unknown_custom_attribute_is_a_400(api):
    response = api.post("/contacts", json={"external_id": "u-1", "custom_attributes": {"nope": "x"}})
    body = assert_error(response, 400, "parameter_not_found", "Custom attribute 'nope' does not exist")
    assert body["errors"][0]["field"] == "custom_attributes.nope"
    contact_id = api.post("/contacts", json={"external_id": "u-1"}).json()["id"]
    assert_error(
        api.put(f"/contacts/{contact_id}", json={"custom_attributes": {"nope": 1}}),
        400,
        "parameter_not_found",
    )


def test_company_attributes_are_not_contact_attributes(api):
    response = api.post("/contacts", json={"external_id": "u-1", "custom_attributes": {"tier": "gold"}})
    assert_error(response, 400, "parameter_not_found")


def test_wrong_typed_custom_attribute_is_a_400(api):
    cases = [
        {"seats": "three"},
        {"seats": 1.5},
        {"paid": "yes"},
        {"plan_tier": 5},
        {"renewal_at": "2024-01-01"},
        {"mrr": True},
    ]
    for custom in cases:
        response = api.post("/contacts", json={"external_id": "u-1", "custom_attributes": custom})
        assert_error(response, 400, "parameter_invalid")
    ok = api.post(
        "/contacts", json={"external_id": "u-1", "custom_attributes": {"mrr": 3, "renewal_at": 1700000000}}
    )
    assert ok.status_code == 200


def test_archived_custom_attribute_cannot_be_written(intercom_emulator, api, workspace):
    attribute = next(a for a in workspace.raw["data_attributes"] if a["name"] == "plan_tier")
    assert api.put(f"/data_attributes/{attribute['id']}", json={"archived": True}).status_code == 200
    response = api.post("/contacts", json={"external_id": "u-1", "custom_attributes": {"plan_tier": "x"}})
    assert_error(response, 400, "parameter_not_found")


def test_email_verified_needs_an_email(api):
    assert_error(
        api.post("/contacts", json={"external_id": "u-1", "email_verified": True}), 400, "parameter_invalid"
    )
    assert api.post("/contacts", json={"email": "a@x.test", "email_verified": True}).status_code == 200


def test_external_ids_with_reserved_characters_round_trip(api):
    for external_id in ("a/b", "ann@acme.test", "with space", "100%"):
        created = api.post("/contacts", json={"external_id": external_id}).json()
        response = api.get("/contacts/find_by_external_id/" + quote(external_id, safe=""))
        assert response.status_code == 200, (external_id, response.text)
        assert response.json()["id"] == created["id"]
