"""The client against the emulator over HTTP: outcomes, the 409 recipe, retries, 401, every endpoint."""

from __future__ import annotations

import pytest

from apps.connections.intercom.client import Accepted, AuthFailure, Rejected, TransientFailure
from apps.connections.intercom.reconnect import clear_needs_reconnect, mark_needs_reconnect
from apps.connections.models import ConnectionStatus
from tests.factories import SourceConnectionFactory


def _live_contacts(intercom_emulator, workspace, **match):
    return [
        contact
        for contact in intercom_emulator.contacts(workspace.id_code)
        if all(contact.get(key) == value for key, value in match.items())
    ]


def test_me_names_the_workspace(intercom, client_workspace):
    outcome = intercom.me()
    assert isinstance(outcome, Accepted)
    assert outcome.body["app"]["id_code"] == client_workspace.id_code
    assert outcome.body["app"]["region"] == "US"


def test_create_then_409_on_existing_contact_updates_the_one_contact(
    intercom, intercom_emulator, client_workspace
):
    first = intercom.create_contact({"role": "user", "external_id": "u-1", "email": "ada@example.com"})
    assert isinstance(first, Accepted) and first.intercom_id

    again = intercom.create_contact(
        {
            "role": "user",
            "external_id": "u-1",
            "name": "Ada Lovelace",
            "custom_attributes": {"plan_tier": "pro"},
        }
    )

    assert again == Accepted(
        first.intercom_id, again.body, matched_existing=True
    )  # the loader counts an update
    assert first.matched_existing is False
    assert again.body["name"] == "Ada Lovelace"
    contacts = _live_contacts(intercom_emulator, client_workspace, external_id="u-1")
    assert len(contacts) == 1
    assert contacts[0]["name"] == "Ada Lovelace"
    assert contacts[0]["custom_attributes"]["plan_tier"] == "pro"
    assert intercom_emulator.request_count("POST /contacts", 409) == 1
    assert intercom_emulator.request_count("PUT /contacts/{contact_id}") == 1


def test_409_on_archived_contact_unarchives_then_updates(intercom, intercom_emulator, client_workspace):
    first = intercom.create_contact({"role": "user", "external_id": "u-2", "email": "bob@example.com"})
    assert isinstance(intercom.archive_contact(first.intercom_id), Accepted)
    assert intercom.get_contact(first.intercom_id) is None  # archived contacts are hidden

    again = intercom.create_contact({"role": "user", "external_id": "u-2", "name": "Bob"})

    assert isinstance(again, Accepted) and again.intercom_id == first.intercom_id
    contacts = _live_contacts(intercom_emulator, client_workspace, external_id="u-2")
    assert len(contacts) == 1
    assert contacts[0]["archived"] is False and contacts[0]["name"] == "Bob"
    assert intercom_emulator.request_count("POST /contacts/{contact_id}/unarchive") == 1
    assert intercom.find_contact("id", first.intercom_id).intercom_id == first.intercom_id


def test_409_on_a_permanently_deleted_contact_is_rejected_after_two_calls(
    intercom, intercom_emulator, client_workspace
):
    first = intercom.create_contact({"role": "user", "external_id": "u-9", "email": "gone@example.com"})
    assert isinstance(intercom.delete_contact(first.intercom_id), Accepted)

    for body in ({"role": "user", "external_id": "u-9"}, {"role": "user", "email": "gone@example.com"}):
        before = intercom_emulator.request_count()
        outcome = intercom.create_contact(body)
        assert isinstance(outcome, Rejected) and outcome.status == 400
        assert outcome.code == "permanently_deleted"
        assert f"id {first.intercom_id}" in outcome.message
        assert "wait until Intercom frees them" in outcome.message
        assert "User has been marked for permanent deletion and is not restorable." in outcome.message
        assert intercom_emulator.request_count() - before == 2  # POST 409, unarchive 400: no retry
    assert _live_contacts(intercom_emulator, client_workspace) == []


def test_unknown_custom_attribute_is_rejected_with_intercoms_words(intercom, intercom_emulator):
    outcome = intercom.create_contact(
        {"role": "user", "external_id": "u-3", "custom_attributes": {"nope": "x"}}
    )
    assert isinstance(outcome, Rejected)
    assert outcome.status == 400
    assert outcome.code == "parameter_not_found"
    assert outcome.message == "Custom attribute 'nope' does not exist"
    assert outcome.field == "custom_attributes.nope"
    assert intercom_emulator.request_count("POST /contacts") == 1  # a rejection is not retried


def test_server_errors_are_retried_until_they_succeed(make_client, intercom_emulator):
    client = make_client(max_attempts=30)
    intercom_emulator.set_faults(error_rate=0.5, error_statuses=[500, 502, 503])
    outcomes = [client.create_contact({"role": "user", "external_id": f"r-{n}"}) for n in range(10)]
    assert all(isinstance(outcome, Accepted) for outcome in outcomes)
    served = intercom_emulator.requests(limit=0)["by_status"]
    assert sum(served.get(str(status), 0) for status in (500, 502, 503)) > 0  # faults did happen
    assert len({outcome.intercom_id for outcome in outcomes}) == 10


def test_exhausted_retries_raise_transient_failure(make_client, intercom_emulator):
    client = make_client(max_attempts=3)
    intercom_emulator.set_faults(error_rate=1.0, error_statuses=[503])
    with pytest.raises(TransientFailure) as failure:
        client.me()
    assert failure.value.attempts == 3 and failure.value.status == 503
    assert "service_unavailable" in str(failure.value)
    assert intercom_emulator.request_count("GET /me") == 3


def test_connection_errors_are_retried_then_fail(intercom_emulator, client_workspace):
    from apps.connections.intercom.client import IntercomClient
    from apps.connections.intercom.ratelimit import LocalRateLimiter

    # A port nobody listens on: every attempt is refused.
    client = IntercomClient(
        "http://127.0.0.1:9/us", "tok", "nowhere", LocalRateLimiter(), backoff_base=0.01, max_attempts=2
    )
    with pytest.raises(TransientFailure) as failure:
        client.me()
    assert failure.value.attempts == 2 and "could not connect" in str(failure.value)


def test_timeouts_are_retried(make_client, intercom_emulator):
    client = make_client(timeout=(1.0, 0.3), max_attempts=2)
    intercom_emulator.set_faults(latency_ms=1000)
    with pytest.raises(TransientFailure) as failure:
        client.me()
    assert failure.value.attempts == 2 and "timed out" in str(failure.value)
    intercom_emulator.set_faults(latency_ms=0)
    assert isinstance(client.me(), Accepted)


@pytest.mark.django_db
def test_revoked_token_is_an_auth_failure_and_stops_the_client(
    make_client, intercom_emulator, client_workspace
):
    client = make_client()
    assert isinstance(client.me(), Accepted)
    intercom_emulator.revoke_token(client_workspace.token)

    with pytest.raises(AuthFailure) as failure:
        client.create_contact({"role": "user", "external_id": "u-4"})
    assert failure.value.code == "token_revoked"
    sent = intercom_emulator.request_count()

    for call in (client.me, lambda: client.send_event({"event_name": "x", "created_at": 1, "user_id": "u"})):
        with pytest.raises(AuthFailure):
            call()
    assert intercom_emulator.request_count() == sent  # nothing more was sent
    assert client.auth_failure is not None

    connection = SourceConnectionFactory(
        kind="destination", type="intercom", status=ConnectionStatus.CONNECTED
    )
    mark_needs_reconnect(connection, str(failure.value))
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "token_revoked" in connection.status_message

    clear_needs_reconnect(connection, "Reconnected")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED and connection.status_message == "Reconnected"


def test_find_contact_by_each_identifier(intercom, intercom_emulator):
    created = intercom.create_contact({"role": "user", "external_id": "u-5", "email": "cy@example.com"})
    assert intercom.find_contact("email", "cy@example.com") is None  # search lags writes, as Intercom's does
    intercom_emulator.wait_for_search()
    assert intercom.find_contact("email", "cy@example.com").intercom_id == created.intercom_id
    assert intercom.find_contact("external_id", "u-5").intercom_id == created.intercom_id
    assert intercom.find_contact("id", created.intercom_id).intercom_id == created.intercom_id
    assert intercom.find_contact_by_external_id("u-5").intercom_id == created.intercom_id
    assert intercom.find_contact("email", "nobody@example.com") is None
    assert intercom.find_contact_by_external_id("nobody") is None
    with pytest.raises(ValueError):
        intercom.find_contact("phone", "1")


def test_update_and_delete_contact(intercom, intercom_emulator, client_workspace):
    created = intercom.create_contact({"role": "user", "external_id": "u/6?x", "email": "d@example.com"})
    updated = intercom.update_contact(created.intercom_id, {"custom_attributes": {"seats": 4}})
    assert isinstance(updated, Accepted) and updated.body["custom_attributes"]["seats"] == 4
    assert intercom.find_contact_by_external_id("u/6?x").intercom_id == created.intercom_id
    assert isinstance(intercom.delete_contact(created.intercom_id), Accepted)
    assert intercom.get_contact(created.intercom_id) is None
    missing = intercom.update_contact(created.intercom_id, {"name": "x"})
    assert isinstance(missing, Rejected) and missing.status == 404


def test_companies_upsert_find_attach_delete(intercom, intercom_emulator, client_workspace):
    contact = intercom.create_contact({"role": "user", "external_id": "u-7"})
    company = intercom.upsert_company(
        {"company_id": "c-1", "name": "Acme", "custom_attributes": {"tier": "gold"}}
    )
    assert isinstance(company, Accepted) and company.intercom_id
    again = intercom.upsert_company({"company_id": "c-1", "name": "Acme Ltd"})
    assert again.intercom_id == company.intercom_id
    assert isinstance(intercom.attach_contact_to_company(contact.intercom_id, company.intercom_id), Accepted)

    found = intercom.find_company("c-1")
    assert found.intercom_id == company.intercom_id and found.body["name"] == "Acme Ltd"
    assert intercom.find_company("c-missing") is None
    assert len(intercom_emulator.companies(client_workspace.id_code)) == 1

    assert isinstance(intercom.delete_company(company.intercom_id), Accepted)
    assert isinstance(intercom.delete_company("no-such-company"), Rejected)


def test_send_event_is_accepted_without_a_body(intercom, intercom_emulator, client_workspace):
    intercom.create_contact({"role": "user", "external_id": "u-8"})
    event = {
        "event_name": "ordered-item",
        "created_at": 1_700_000_000,
        "user_id": "u-8",
        "metadata": {"n": 2},
    }
    assert intercom.send_event(event) == Accepted(None, None)
    unknown = intercom.send_event({**event, "user_id": "nobody"})
    assert isinstance(unknown, Rejected) and unknown.status == 404
    assert len(intercom_emulator.events(client_workspace.id_code)) == 1


def test_data_attributes_list_and_create(intercom):
    listed = intercom.list_data_attributes("contact")
    names = {attribute["name"] for attribute in listed.body["data"]}
    assert {"plan_tier", "seats", "email"} <= names

    created = intercom.create_data_attribute(
        "size_band", "contact", "options", options=["1-10", "11-50"], description="From the warehouse"
    )
    assert isinstance(created, Accepted) and created.body["name"] == "size_band"
    assert created.body["options"] == ["1-10", "11-50"]
    duplicate = intercom.create_data_attribute("tier", "contact", "string")  # "tier" exists on companies
    assert isinstance(duplicate, Rejected) and duplicate.code == "parameter_invalid"
    company_names = {a["name"] for a in intercom.list_data_attributes("company").body["data"]}
    assert "tier" in company_names
