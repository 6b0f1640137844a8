"""Contacts: create, retrieve, update, uniqueness (409), leads, archive, delete, list, custom attributes."""

import re
import time
from urllib.parse import quote

import pytest

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


# --- Behaviours recorded from real Intercom (2.3 traffic); see the emulator README's evidence table. ------
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NOT_RESTORABLE = "User has been marked for permanent deletion and is not restorable."


def test_update_may_share_an_email_or_take_an_archived_users_external_id(intercom_emulator, workspace, api):
    one = api.post("/contacts", json={"external_id": "u-1", "email": "one@x.test"}).json()
    two = api.post("/contacts", json={"external_id": "u-2"}).json()
    shared = api.put(f"/contacts/{two['id']}", json={"email": "ONE@x.test"})
    assert shared.status_code == 200, shared.text
    old = api.post("/contacts", json={"external_id": "u-old"}).json()
    api.post(f"/contacts/{old['id']}/archive")
    taken = api.put(f"/contacts/{two['id']}", json={"external_id": "u-old"})
    assert taken.status_code == 200 and taken.json()["external_id"] == "u-old", taken.text
    held = {c["id"]: (c["email"], c["external_id"]) for c in intercom_emulator.contacts(workspace.id_code)}
    assert held[one["id"]] == ("one@x.test", "u-1")
    assert held[two["id"]] == ("ONE@x.test", "u-old")
    assert held[old["id"]][1] == "u-old"
    # Not recorded, assumed: taking a live user's external_id is still refused.
    assert_error(api.put(f"/contacts/{two['id']}", json={"external_id": "u-1"}), 409, "conflict", one["id"])


def test_leads_get_an_intercom_uuid_as_external_id_and_may_share_an_email(intercom_emulator, workspace, api):
    sent = api.post("/contacts", json={"role": "lead", "external_id": "l-1", "email": "lead@x.test"}).json()
    bare = api.post("/contacts", json={"role": "lead", "email": "lead@x.test"}).json()
    assert sent["id"] != bare["id"]
    assert UUID.match(sent["external_id"]) and UUID.match(bare["external_id"])
    assert sent["external_id"] != bare["external_id"]
    updated = api.put(f"/contacts/{sent['id']}", json={"external_id": "l-2"}).json()
    assert updated["external_id"] == sent["external_id"]
    stored = {c["id"]: c["external_id"] for c in intercom_emulator.contacts(workspace.id_code)}
    assert stored == {sent["id"]: sent["external_id"], bare["id"]: bare["external_id"]}
    assert_error(api.get("/contacts/find_by_external_id/l-1"), 404, "not_found")


def test_lead_can_become_a_user_but_not_back(api):
    lead = api.post("/contacts", json={"role": "lead", "email": "lead@x.test"}).json()
    user = api.put(f"/contacts/{lead['id']}", json={"role": "user", "external_id": "u-7"}).json()
    assert (user["role"], user["external_id"]) == ("user", "u-7")
    body = assert_error(api.put(f"/contacts/{lead['id']}", json={"role": "lead"}), 400, "client_error")
    assert body["errors"][0]["message"] == "Contact with user role can't be converted to a lead"


def test_deleted_contact_keeps_blocking_its_identifiers(intercom_emulator, workspace, api):
    contact = api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"}).json()
    assert api.delete(f"/contacts/{contact['id']}").json() == {
        "type": "contact",
        "id": contact["id"],
        "external_id": "u-1",
        "deleted": True,
    }
    assert_error(api.get(f"/contacts/{contact['id']}"), 404, "not_found")
    assert_error(api.put(f"/contacts/{contact['id']}", json={"name": "x"}), 404, "not_found")
    assert_error(api.delete(f"/contacts/{contact['id']}"), 404, "not_found")
    archived = f"An archived contact matching those details already exists with id={contact['id']}"
    for body in ({"external_id": "u-1"}, {"email": "A@x.test"}, {"external_id": "u-1", "email": "a@x.test"}):
        conflict = assert_error(api.post("/contacts", json=body), 409, "conflict")
        assert conflict["errors"][0]["message"] == archived
    refused = assert_error(api.post(f"/contacts/{contact['id']}/unarchive"), 400, "not_restorable")
    assert refused["errors"][0]["message"] == NOT_RESTORABLE
    assert intercom_emulator.contacts(workspace.id_code) == []
    # A lead has no user identifiers to hold: another lead with that email is fine.
    assert api.post("/contacts", json={"role": "lead", "email": "a@x.test"}).status_code == 200


def test_deleted_identifiers_are_freed_when_the_hold_ends(intercom_emulator, api):
    intercom_emulator.set_deleted_hold(0.3)
    contact = api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"}).json()
    api.delete(f"/contacts/{contact['id']}")
    assert_error(api.post("/contacts", json={"external_id": "u-1"}), 409, "conflict", contact["id"])
    time.sleep(0.4)
    assert_error(api.post(f"/contacts/{contact['id']}/unarchive"), 404, "not_found")
    again = api.post("/contacts", json={"external_id": "u-1", "email": "a@x.test"})
    assert again.status_code == 200 and again.json()["id"] != contact["id"]


def test_list_lags_like_search_and_is_oldest_first(intercom_emulator, api):
    intercom_emulator.set_search_lag(0.4)
    ids = [api.post("/contacts", json={"external_id": f"u-{i}"}).json()["id"] for i in range(7)]
    assert api.get("/contacts").json()["total_count"] == 0  # not listed yet
    time.sleep(0.5)
    seen = []
    page = api.get("/contacts", params={"per_page": 3}).json()
    assert page["total_count"] == 7 and page["pages"]["total_pages"] == 3 and page["pages"]["page"] == 1
    seen += [c["id"] for c in page["data"]]
    while "next" in page["pages"]:
        cursor = page["pages"]["next"]["starting_after"]
        page = api.get("/contacts", params={"per_page": 3, "starting_after": cursor}).json()
        seen += [c["id"] for c in page["data"]]
    assert seen == ids  # oldest first
    api.post(f"/contacts/{ids[0]}/archive")
    assert ids[0] in [c["id"] for c in api.get("/contacts").json()["data"]]  # archived, still listed
    time.sleep(0.5)
    assert ids[0] not in [c["id"] for c in api.get("/contacts").json()["data"]]


def test_search_without_sort_is_oldest_first_and_an_empty_one_is_page_1(intercom_emulator, api):
    ids = [api.post("/contacts", json={"external_id": f"u-{i}", "name": "N"}).json()["id"] for i in range(4)]
    intercom_emulator.wait_for_search()
    found = api.post("/contacts/search", json={"query": {"field": "name", "operator": "=", "value": "N"}})
    assert [c["id"] for c in found.json()["data"]] == ids
    empty = api.post("/contacts/search", json={"query": {"field": "name", "operator": "=", "value": "none"}})
    assert empty.json()["total_count"] == 0 and empty.json()["pages"]["page"] == 1
    assert empty.json()["pages"]["total_pages"] == 0


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/tags"), ("POST", "/tags"), ("POST", "/contacts/{id}/tags")]
)
def test_tag_endpoints_are_not_served(api, method, path):
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    response = api.request(method, path.format(id=contact["id"]), json={"name": "vip"})
    assert_error(response, 404, "not_found")
    assert not any(name.lower().startswith("x-ratelimit") for name in response.headers)
