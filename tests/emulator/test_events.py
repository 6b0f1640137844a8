"""Data events: 202 empty body, contact lookup, metadata rules, duplicates."""

import pytest

from tests.emulator.conftest import assert_error


def _event(api, **fields):
    return api.post("/events", json={"event_name": "ordered-item", "created_at": 1700000000, **fields})


def test_event_by_user_id_is_accepted_with_an_empty_body(intercom_emulator, api, workspace):
    contact = api.post("/contacts", json={"external_id": "u-1"}).json()
    response = _event(api, user_id="u-1", metadata={"order": "A1"})
    assert response.status_code == 202 and response.content == b""
    events = intercom_emulator.events(workspace.id_code)
    assert events[0]["contact_id"] == contact["id"] and events[0]["metadata"] == {"order": "A1"}


def test_event_by_id_and_by_email(intercom_emulator, api, workspace):
    lead = api.post("/contacts", json={"role": "lead", "email": "lead@x.test"}).json()
    user = api.post("/contacts", json={"email": "user@x.test"}).json()
    assert _event(api, id=lead["id"]).status_code == 202
    assert _event(api, email="USER@x.test", event_name="other").status_code == 202
    assert [e["contact_id"] for e in intercom_emulator.events(workspace.id_code)] == [lead["id"], user["id"]]


def test_unknown_contact_is_a_404(api):
    assert_error(_event(api, user_id="nobody"), 404, "not_found", "User Not Found")
    assert_error(_event(api, email="nobody@x.test"), 404, "not_found")
    assert_error(_event(api, id="000000000000000000000000"), 404, "not_found")


def test_lead_is_not_found_by_user_id(api):
    api.post("/contacts", json={"role": "lead", "external_id": "l-1"})
    assert_error(_event(api, user_id="l-1"), 404, "not_found")


def test_created_at_is_required(api):
    api.post("/contacts", json={"external_id": "u-1"})
    assert_error(api.post("/events", json={"event_name": "x", "user_id": "u-1"}), 400, "parameter_not_found")


def test_metadata_keeps_the_first_ten_keys_in_the_order_sent(intercom_emulator, api, workspace):
    """API_NOTES.md §3: past 10 keys Intercom ignores the rest, the first 10 being those sent first."""
    api.post("/contacts", json={"external_id": "u-1"})
    names = [f"key_{i:02d}" for i in reversed(range(12))]  # not sorted: order sent is what counts
    metadata = {name: index for index, name in enumerate(names)}
    metadata["price"] = {"amount": 3400, "currency": "eur"}
    assert _event(api, user_id="u-1", metadata=metadata).status_code == 202
    kept = intercom_emulator.events(workspace.id_code)[0]["metadata"]
    assert list(kept.items()) == list(metadata.items())[:10]
    listed = api.get("/events", params={"type": "user", "user_id": "u-1"}).json()["events"][0]["metadata"]
    assert listed == kept
    assert (
        _event(api, user_id="u-1", created_at=1, metadata=dict(list(metadata.items())[:10])).status_code
        == 202
    )
    assert len(intercom_emulator.events(workspace.id_code)[1]["metadata"]) == 10  # exactly 10 stay whole


def test_metadata_takes_flat_values_rich_links_and_money(intercom_emulator, api, workspace):
    api.post("/contacts", json={"external_id": "u-1"})
    metadata = {
        "link": {"url": "https://x.test", "value": "x"},
        "paid": {"amount": 100, "currency": "usd"},
        "n": 2.5,
        "count": -3,
        "gift": True,
        "note": "=SUM(A1:A9) <b>ünïcödé</b> " + "x" * 5000,
        "signed_up_date": 1700000000,
    }
    assert _event(api, user_id="u-1", metadata=metadata).status_code == 202
    assert intercom_emulator.events(workspace.id_code)[0]["metadata"] == metadata


REFUSED_METADATA = {
    "null": None,
    "list": [1, 2],
    "nested": {"a": {"b": 1}},
    "empty object": {},
    "link without value": {"url": "https://x.test"},
    "link with more": {"url": "https://x.test", "value": "x", "target": "_blank"},
    "link url object": {"url": {"href": "https://x.test"}, "value": "x"},
    "link value null": {"url": "https://x.test", "value": None},
    "money as text": {"amount": "3400", "currency": "eur"},
    "money as float": {"amount": 34.5, "currency": "eur"},
    "money as bool": {"amount": True, "currency": "eur"},
    "money no currency": {"amount": 3400, "currency": None},
}


@pytest.mark.parametrize("value", REFUSED_METADATA.values(), ids=REFUSED_METADATA.keys())
def test_metadata_refuses_null_and_nesting_other_than_links_and_money(
    intercom_emulator, api, workspace, value
):
    api.post("/contacts", json={"external_id": "u-1"})
    response = _event(api, user_id="u-1", metadata={"order": "A1", "bad": value})
    assert_error(response, 400, "parameter_invalid", "Metadata 'bad'", field="metadata.bad")
    assert intercom_emulator.events(workspace.id_code) == []


def test_duplicates_are_ignored_but_counted(intercom_emulator, api, workspace):
    api.post("/contacts", json={"external_id": "u-1", "email": "u@x.test"})
    assert _event(api, user_id="u-1").status_code == 202
    assert _event(api, email="u@x.test").status_code == 202  # same contact, name and time
    assert _event(api, user_id="u-1", created_at=1700000001).status_code == 202
    assert len(intercom_emulator.events(workspace.id_code)) == 2
    assert intercom_emulator.duplicate_event_count(workspace.id_code) == 1
    assert intercom_emulator.duplicate_event_count() == 1


def test_a_contacts_events_are_listed_newest_first(api):
    contact = api.post("/contacts", json={"external_id": "u-1", "email": "u1@x.test"}).json()
    _event(api, user_id="u-1", created_at=100)
    _event(api, user_id="u-1", created_at=200, event_name="paid")
    for params in ({"user_id": "u-1"}, {"email": "u1@x.test"}, {"intercom_user_id": contact["id"]}):
        response = api.get("/events", params={"type": "user", **params})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["type"] == "event.list"
        assert [(e["event_name"], e["created_at"]) for e in body["events"]] == [
            ("paid", 200),
            ("ordered-item", 100),
        ]
    assert_error(api.get("/events", params={"type": "user", "user_id": "nobody"}), 404, "not_found")
    assert api.get("/events", params={"type": "user"}).status_code == 400  # no identifier
