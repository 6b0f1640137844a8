"""Malformed input, unknown paths and methods: always an error.list, never a traceback."""

import socket
import time

import httpx

from tests.emulator.conftest import assert_error


def test_malformed_json(api):
    response = api.post("/contacts", content=b'{"email": ', headers={"Content-Type": "application/json"})
    assert_error(response, 400, "bad_request", "parsing the JSON")


def test_missing_body_is_validated_as_empty(api):
    assert_error(api.post("/contacts"), 400, "parameter_not_found", "email")
    assert_error(api.post("/events"), 400, "parameter_not_found", "event_name")
    assert_error(api.post("/contacts/search"), 400, "parameter_not_found", "query")


def test_body_that_is_not_an_object(api):
    response = api.post("/contacts", json=["email"])
    assert_error(response, 400, "parameter_invalid")


def test_wrong_content_type(api):
    response = api.post(
        "/contacts", content=b"email=a@x.test", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 415, "unsupported_media_type")
    response = api.post("/contacts", content=b'{"email":"a@x.test"}', headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")


def test_spec_type_errors(api):
    body = assert_error(api.post("/contacts", json={"email": 12345}), 400, "parameter_invalid")
    assert body["errors"][0]["field"] == "email"
    assert_error(api.post("/contacts", json={"name": "only a name"}), 400, "parameter_not_found")
    assert_error(api.post("/companies", json={"company_id": "c", "size": "big"}), 400, "parameter_invalid")
    assert_error(
        api.post("/events", json={"event_name": "x", "created_at": "yesterday", "user_id": "u"}),
        400,
        "parameter_invalid",
    )


def test_unknown_paths(intercom_emulator, api, workspace):
    assert_error(api.get("/nope"), 404, "not_found", "Resource Not Found")
    assert_error(api.get("/contacts/a/b/c"), 404, "not_found")
    response = httpx.get(
        f"{intercom_emulator.root_url}/contacts", headers={"Authorization": f"Bearer {workspace.token}"}
    )
    assert_error(response, 404, "not_found")  # no region prefix
    assert_error(httpx.get(f"{intercom_emulator.root_url}/"), 404, "not_found")


def test_unknown_methods(api):
    response = api.patch("/contacts", json={})
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    assert_error(api.delete("/events"), 405, "method_not_allowed")
    assert_error(api.request("PUT", "/me"), 405, "method_not_allowed")


def test_bad_intercom_version(api):
    assert_error(api.get("/me", headers={"Intercom-Version": "9.9"}), 400, "intercom_version_invalid")
    assert api.get("/me", headers={"Intercom-Version": "2.15"}).status_code == 200


def test_bad_query_parameter(api):
    assert_error(api.get("/data_attributes", params={"include_archived": "maybe"}), 422, "parameter_invalid")
    assert_error(api.get("/contacts", params={"per_page": "many"}), 400, "parameter_invalid")


def test_no_traceback_ever(intercom_emulator, api):
    payloads = [
        b"\xff\xfe",
        b"null",
        b"[]",
        b'"x"',
        b"1e999999",
        b'{"query": null}',
        b"{" * 5000,
        b"[" * 100_000 + b"]" * 100_000,
    ]
    for path in ("/contacts", "/contacts/search", "/events", "/companies", "/data_attributes"):
        for payload in payloads:
            response = api.post(path, content=payload, headers={"Content-Type": "application/json"})
            assert response.status_code in (400, 404, 415, 422), (path, payload, response.text)
            assert response.json()["type"] == "error.list"
            assert "Traceback" not in response.text
    assert intercom_emulator.request_count(status=500) == 0


def test_a_client_gone_before_its_body_arrived_is_logged_without_a_traceback(
    intercom_emulator_server, intercom_emulator, workspace
):
    """A worker killed mid-request leaves a body half sent: nobody is left to answer, and it is no
    emulator failure (the suite's teardown warns on any traceback in the emulator's log)."""
    url = httpx.URL(intercom_emulator.base_url(workspace.region))
    head = (
        f"POST {url.path}/contacts HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Authorization: Bearer {workspace.token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port)) as raw:
        raw.sendall(head.encode() + b'{"email": "ada@')  # 15 of the 100 bytes promised
    deadline = time.monotonic() + 5
    while intercom_emulator.request_count(status=499) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert intercom_emulator.request_count(status=499) == 1  # logged as "client closed the request"
    assert "Traceback" not in intercom_emulator_server.log_text()
    assert intercom_emulator.contacts(workspace.id_code) == []
