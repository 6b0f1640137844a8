"""Data events: 202 empty body, contact lookup, metadata rules, duplicates."""

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


def test_metadata_keeps_the_first_ten_keys(intercom_emulator, api, workspace):
    api.post("/contacts", json={"external_id": "u-1"})
    metadata = {f"key_{i:02d}": i for i in range(12)}
    metadata["price"] = {"amount": 3400, "currency": "eur"}
    assert _event(api, user_id="u-1", metadata=metadata).status_code == 202
    kept = intercom_emulator.events(workspace.id_code)[0]["metadata"]
    assert list(kept) == [f"key_{i:02d}" for i in range(10)]


def test_metadata_rich_values_are_accepted_but_nesting_is_not(api):
    api.post("/contacts", json={"external_id": "u-1"})
    rich = {
        "link": {"url": "https://x.test", "value": "x"},
        "paid": {"amount": 100, "currency": "usd"},
        "n": 2.5,
    }
    assert _event(api, user_id="u-1", metadata=rich).status_code == 202
    assert_error(
        _event(api, user_id="u-1", created_at=1, metadata={"deep": {"a": {"b": 1}}}), 400, "parameter_invalid"
    )
    assert_error(
        _event(api, user_id="u-1", created_at=2, metadata={"list": [1, 2]}), 400, "parameter_invalid"
    )


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
