"""The control API and the read-only dashboard."""

import httpx

from tests.emulator.conftest import assert_error


def test_state_shows_records_per_workspace(intercom_emulator, api, workspace):
    contact = api.post(
        "/contacts", json={"external_id": "u-1", "custom_attributes": {"plan_tier": "pro"}}
    ).json()
    company = api.post("/companies", json={"company_id": "c-1", "name": "Acme"}).json()
    api.post(f"/contacts/{contact['id']}/companies", json={"id": company["id"]})
    api.post("/events", json={"event_name": "signed-up", "created_at": 1700000000, "user_id": "u-1"})
    state = intercom_emulator.workspace_state(workspace.id_code)
    assert state["region"] == "US" and state["tokens"][0]["token"] == workspace.token
    assert state["contacts"][0]["id"] == contact["id"] and state["contacts"][0]["archived"] is False
    assert state["companies"][0]["user_count"] == 1
    assert state["events"][0]["event_name"] == "signed-up"
    assert {a["name"] for a in state["data_attributes"]} >= {"plan_tier", "tier"}


def test_request_log_counts_per_endpoint_and_status(intercom_emulator, api):
    api.post("/contacts", json={"external_id": "u-1"})
    api.post("/contacts", json={"external_id": "u-1"})
    api.get("/me")
    assert intercom_emulator.request_count() == 3
    assert intercom_emulator.request_count("POST /contacts") == 2
    assert intercom_emulator.request_count("POST /contacts", 409) == 1
    assert intercom_emulator.request_count(status=200) == 2
    log = intercom_emulator.requests()
    assert [entry["status"] for entry in log["recent"]] == [200, 409, 200]
    assert log["recent"][0]["endpoint"] == "POST /contacts" and log["recent"][0]["region"] == "US"
    assert log["by_endpoint"]["GET /me"] == 1


def test_contact_paths_are_logged_by_template(intercom_emulator, api):
    contact_id = api.post("/contacts", json={"external_id": "u-1"}).json()["id"]
    api.put(f"/contacts/{contact_id}", json={"name": "x"})
    assert intercom_emulator.request_count("PUT /contacts/{contact_id}") == 1


def test_reset_clears_everything(intercom_emulator, api):
    api.post("/contacts", json={"external_id": "u-1"})
    intercom_emulator.reset()
    state = intercom_emulator.state()
    assert state["workspaces"] == {} and intercom_emulator.request_count() == 0


def test_seeding_errors_are_error_lists(intercom_emulator):
    response = intercom_emulator.control.post("/workspaces", json={"name": "Mars", "region": "MARS"})
    assert_error(response, 400, "parameter_invalid")
    intercom_emulator.seed_workspace(id_code="dup")
    assert_error(
        intercom_emulator.control.post("/workspaces", json={"id_code": "dup"}), 400, "parameter_invalid"
    )
    assert_error(intercom_emulator.control.post("/tokens/nope/revoke"), 404, "not_found")
    assert_error(intercom_emulator.control.get("/nothing-here"), 404, "not_found")
    assert_error(intercom_emulator.control.put("/faults", json={"colour": "red"}), 400, "parameter_invalid")


def test_seed_with_given_tokens_and_extra_tokens(intercom_emulator):
    seeded = intercom_emulator.seed_workspace(name="Fixed", tokens=["tok-a", "tok-b"])
    assert seeded.tokens == ["tok-a", "tok-b"]
    extra = intercom_emulator.add_token(seeded.id_code)
    for token in ("tok-a", "tok-b", extra):
        with intercom_emulator.client(token) as client:
            assert client.get("/me").status_code == 200


def test_settings_round_trip(intercom_emulator):
    assert intercom_emulator.set_faults(latency_ms=5)["latency_ms"] == 5
    assert intercom_emulator.set_rate_limit(window_seconds=2)["window_seconds"] == 2
    intercom_emulator.set_search_lag(3)
    settings = intercom_emulator.state()["settings"]
    assert settings["search_lag_seconds"] == 3 and settings["validate_requests"] is True


def test_dashboard_shows_workspaces_contacts_companies_and_events(intercom_emulator, api, workspace):
    api.post("/contacts", json={"external_id": "u-42", "email": "ann@acme.test", "name": "Ann <b>"})
    api.post("/companies", json={"company_id": "c-9", "name": "Acme Corp"})
    api.post("/events", json={"event_name": "placed-order", "created_at": 1700000000, "user_id": "u-42"})
    page = httpx.get(intercom_emulator.dashboard_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in (
        "Acme",
        workspace.id_code,
        "u-42",
        "ann@acme.test",
        "c-9",
        "Acme Corp",
        "placed-order",
        "Ann &lt;b&gt;",
    ):
        assert text in html
    assert "Ann <b>" not in html  # escaped
