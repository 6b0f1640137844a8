"""Contact search: operators, nested groups, custom attributes, cursor pages, sort, and the index lag."""

import time

import pytest

from tests.emulator.conftest import assert_error


@pytest.fixture
def people(api, intercom_emulator):
    rows = [
        {
            "external_id": "u-1",
            "email": "ann@alpha.test",
            "name": "Ann",
            "custom_attributes": {"plan_tier": "pro", "seats": 5},
        },
        {
            "external_id": "u-2",
            "email": "bob@beta.test",
            "name": "Bob",
            "custom_attributes": {"plan_tier": "free", "seats": 1},
        },
        {
            "external_id": "u-3",
            "email": "cid@alpha.test",
            "name": "Cid",
            "custom_attributes": {"plan_tier": "pro", "seats": 20},
        },
        {"role": "lead", "email": "dee@gamma.test", "name": "Dee"},
    ]
    created = {row.get("external_id", "lead"): api.post("/contacts", json=row).json() for row in rows}
    intercom_emulator.wait_for_search()
    return created


def _search(api, query, **extra):
    response = api.post("/contacts/search", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _names(result):
    return sorted(c["name"] for c in result["data"])


def test_single_field_operators(api, people):
    assert _names(_search(api, {"field": "email", "operator": "=", "value": "ANN@alpha.test"})) == ["Ann"]
    assert _names(_search(api, {"field": "external_id", "operator": "!=", "value": "u-1"})) == [
        "Bob",
        "Cid",
        "Dee",
    ]
    assert _names(_search(api, {"field": "external_id", "operator": "IN", "value": ["u-1", "u-3"]})) == [
        "Ann",
        "Cid",
    ]
    assert _names(_search(api, {"field": "external_id", "operator": "NIN", "value": ["u-1", "u-3"]})) == [
        "Bob",
        "Dee",
    ]
    assert _names(_search(api, {"field": "email", "operator": "~", "value": "alpha"})) == ["Ann", "Cid"]
    assert _names(_search(api, {"field": "name", "operator": "^", "value": "b"})) == ["Bob"]
    assert _names(_search(api, {"field": "email", "operator": "$", "value": ".test"})) == [
        "Ann",
        "Bob",
        "Cid",
        "Dee",
    ]
    assert _names(_search(api, {"field": "role", "operator": "=", "value": "lead"})) == ["Dee"]
    assert _names(_search(api, {"field": "id", "operator": "=", "value": people["u-2"]["id"]})) == ["Bob"]


def test_number_and_date_comparisons(api, people):
    assert _names(_search(api, {"field": "custom_attributes.seats", "operator": ">", "value": 4})) == [
        "Ann",
        "Cid",
    ]
    assert _names(_search(api, {"field": "custom_attributes.seats", "operator": "<", "value": 5})) == ["Bob"]
    created = people["u-1"]["created_at"]
    assert (
        len(_search(api, {"field": "created_at", "operator": ">", "value": str(created - 100)})["data"]) == 4
    )
    assert _search(api, {"field": "updated_at", "operator": "<", "value": created - 100})["data"] == []


def test_custom_attribute_and_nested_groups(api, people):
    query = {
        "operator": "AND",
        "value": [
            {"field": "custom_attributes.plan_tier", "operator": "=", "value": "pro"},
            {
                "operator": "OR",
                "value": [
                    {"field": "name", "operator": "=", "value": "Cid"},
                    {"field": "custom_attributes.seats", "operator": "<", "value": 2},
                ],
            },
        ],
    }
    assert _names(_search(api, query)) == ["Cid"]
    either = {
        "operator": "OR",
        "value": [
            {"field": "name", "operator": "=", "value": "Ann"},
            {"field": "role", "operator": "=", "value": "lead"},
        ],
    }
    assert _names(_search(api, either)) == ["Ann", "Dee"]


def test_null_value_matches_missing_fields(api, people):
    assert _names(_search(api, {"field": "phone", "operator": "=", "value": None})) == [
        "Ann",
        "Bob",
        "Cid",
        "Dee",
    ]
    assert _names(_search(api, {"field": "phone", "operator": "!=", "value": None})) == []


def test_cursor_pagination_and_sort(api, people):
    first = _search(
        api,
        {"field": "email", "operator": "~", "value": "."},
        pagination={"per_page": 2},
        sort={"field": "name", "order": "ascending"},
    )
    assert [c["name"] for c in first["data"]] == ["Ann", "Bob"]
    assert first["total_count"] == 4 and first["pages"]["total_pages"] == 2
    cursor = first["pages"]["next"]["starting_after"]
    second = _search(
        api,
        {"field": "email", "operator": "~", "value": "."},
        pagination={"per_page": 2, "starting_after": cursor},
        sort={"field": "name", "order": "ascending"},
    )
    assert [c["name"] for c in second["data"]] == ["Cid", "Dee"]
    assert "next" not in second["pages"]


def test_empty_result_shape(api):
    result = _search(api, {"field": "email", "operator": "=", "value": "none@x.test"})
    assert result == {"type": "list", "data": [], "total_count": 0, "pages": result["pages"]}
    assert result["pages"]["total_pages"] == 0


def test_bad_queries(api, people):
    assert_error(api.post("/contacts/search", json={}), 400, "parameter_not_found")
    bad_op = {"query": {"field": "email", "operator": "==", "value": "x"}}
    assert_error(api.post("/contacts/search", json=bad_op), 400, "parameter_invalid")
    bad_sort = {
        "query": {"field": "email", "operator": "=", "value": "x"},
        "sort": {"field": "name", "order": "desc"},
    }
    assert_error(
        api.post("/contacts/search", json=bad_sort), 400, "invalid_sort_order", "Invalid sort order 'desc'"
    )
    bad_field = {"query": {"field": "favourite_colour", "operator": "=", "value": "x"}}
    assert_error(api.post("/contacts/search", json=bad_field), 400, "parameter_invalid")
    leaf = {"field": "name", "operator": "=", "value": "x"}
    too_deep = {
        "query": {
            "operator": "AND",
            "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}],
        }
    }
    assert_error(api.post("/contacts/search", json=too_deep), 400, "parameter_invalid")
    too_wide = {"query": {"operator": "OR", "value": [leaf] * 16}}
    assert_error(api.post("/contacts/search", json=too_wide), 400, "parameter_invalid")
    bad_cursor = {"query": leaf, "pagination": {"starting_after": "garbage"}}
    assert_error(api.post("/contacts/search", json=bad_cursor), 400, "parameter_invalid")


def test_search_lag_hides_new_and_changed_contacts(intercom_emulator, api):
    intercom_emulator.set_search_lag(0.6)
    contact = api.post("/contacts", json={"external_id": "u-1", "name": "Old"}).json()
    by_id = {"field": "external_id", "operator": "=", "value": "u-1"}
    assert _search(api, by_id)["data"] == []  # not yet indexed
    # The product's path: search misses, create answers 409 with the id.
    assert_error(api.post("/contacts", json={"external_id": "u-1"}), 409, "conflict", contact["id"])
    time.sleep(0.7)
    assert [c["name"] for c in _search(api, by_id)["data"]] == ["Old"]
    api.put(f"/contacts/{contact['id']}", json={"name": "New"})
    assert [c["name"] for c in _search(api, by_id)["data"]] == ["Old"]  # the index still has the old copy
    time.sleep(0.7)
    assert [c["name"] for c in _search(api, by_id)["data"]] == ["New"]


def test_lagged_index_follows_changed_identifiers(intercom_emulator, api):
    intercom_emulator.set_search_lag(0.4)
    contact = api.post("/contacts", json={"external_id": "u-1", "email": "old@x.test"}).json()
    time.sleep(0.5)
    api.put(f"/contacts/{contact['id']}", json={"external_id": "u-9", "email": "new@x.test"})
    old = {"field": "external_id", "operator": "=", "value": "u-1"}
    new = {"operator": "AND", "value": [{"field": "email", "operator": "=", "value": "NEW@x.test"}]}
    assert [c["id"] for c in _search(api, old)["data"]] == [contact["id"]]  # the index still has the old copy
    assert _search(api, new)["data"] == []
    time.sleep(0.5)
    assert _search(api, old)["data"] == []
    assert [c["external_id"] for c in _search(api, new)["data"]] == ["u-9"]


def test_deleted_contacts_leave_search_at_once(api):
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    api.delete(f"/contacts/{contact['id']}")
    assert _search(api, {"field": "external_id", "operator": "=", "value": "u-1"})["data"] == []
