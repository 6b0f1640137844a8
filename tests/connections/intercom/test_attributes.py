"""The custom-attribute catalog of an Intercom destination, against the emulator over HTTP."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.connections.intercom import attributes
from apps.tenancy.models import Role
from tests.conftest import member_of

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def names(rows):
    return {(a.model, a.name, a.field_type) for a in rows}


def test_lists_custom_writable_unarchived_attributes_of_both_models(destination, intercom_emulator):
    rows = attributes.attribute_list(destination)
    assert names(rows) == {
        ("contact", "plan", "string"),
        ("contact", "mrr", "float"),
        ("contact", "seats", "integer"),
        ("company", "tier", "string"),
    }
    destination.refresh_from_db()
    assert destination.attributes_fetched_at is not None
    assert [a["name"] for a in destination.attributes_cache["company"]] == ["tier"]


def test_the_cache_is_used_until_it_is_stale(destination, intercom_emulator):
    attributes.attribute_list(destination)
    calls = intercom_emulator.request_count("GET /data_attributes")
    attributes.attribute_list(destination)
    assert intercom_emulator.request_count("GET /data_attributes") == calls
    destination.attributes_fetched_at = timezone.now() - timedelta(minutes=11)
    attributes.attribute_list(destination)
    assert intercom_emulator.request_count("GET /data_attributes") == calls + 2  # contact + company


def test_create_then_the_cache_holds_it(destination, intercom_emulator, intercom_workspace):
    created = attributes.attribute_create(destination, name="churn_risk", model="contact", data_type="float")
    assert created.name == "churn_risk"
    assert ("contact", "churn_risk", "float") in names(attributes.attribute_list(destination))


def test_a_rejected_create_says_what_intercom_said(destination, intercom_emulator):
    with pytest.raises(attributes.AttributesUnavailable, match="already have 'plan'"):
        attributes.attribute_create(destination, name="plan", model="company", data_type="string")


def test_card_lists_refreshes_and_creates(client, workspace, destination, intercom_emulator):
    client.force_login(member_of(workspace, Role.EDITOR).user)
    page = client.get(reverse("intercom_detail", args=[workspace.slug, destination.pk]))
    assert "Not read from Intercom yet" in page.content.decode()

    url = reverse("intercom_attributes_refresh", args=[workspace.slug, destination.pk])
    card = client.post(url, headers=HTMX).content.decode()
    assert card.lstrip().startswith('<section id="attributes"')
    assert "<code>seats</code>" in card and "<code>tier</code>" in card

    url = reverse("intercom_attribute_create", args=[workspace.slug, destination.pk])
    card = client.post(url, {"name": "health", "model": "company", "data_type": "integer"}, headers=HTMX)
    assert "<code>health</code>" in card.content.decode()

    refused = client.post(url, {"name": "bad/name", "model": "contact", "data_type": "string"}, headers=HTMX)
    assert refused.status_code == 422
    assert "alphanumeric characters" in refused.content.decode()
    assert 'value="bad/name"' in refused.content.decode()  # what was typed stays


def test_viewer_sees_the_attributes_but_no_buttons(client, workspace, destination, intercom_emulator):
    attributes.attributes_refresh(destination)
    client.force_login(member_of(workspace, Role.VIEWER).user)
    html = client.get(reverse("intercom_detail", args=[workspace.slug, destination.pk])).content.decode()
    assert "<code>mrr</code>" in html
    assert "Create in Intercom" not in html and ">Refresh<" not in html


def test_refresh_of_a_disconnected_destination_says_so(owner_client, workspace, destination):
    destination.credentials = None
    destination.save()
    url = reverse("intercom_attributes_refresh", args=[workspace.slug, destination.pk])
    card = owner_client.post(url, headers=HTMX)
    assert card.status_code == 502
    assert "is disconnected: reconnect Intercom" in card.content.decode()
