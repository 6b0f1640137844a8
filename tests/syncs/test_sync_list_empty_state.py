"""The Syncs page with no sync says what a first sync still needs, and only that: it once said a model and
a connection were missing when both existed."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import IntercomConnectionFactory, SqlModelFactory

pytestmark = pytest.mark.django_db


def empty_state(client, workspace) -> str:
    html = client.get(reverse("sync_list", args=[workspace.slug])).content.decode()
    section = re.search(r'<section class="empty-state">(.*?)</section>', html, re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_with_a_model_and_a_connection_nothing_is_said_missing(owner_client, workspace):
    SqlModelFactory(workspace=workspace)
    IntercomConnectionFactory(workspace=workspace)
    text = empty_state(owner_client, workspace)
    assert "ready: create the first sync" in text
    assert "need" not in text.lower()


def test_with_nothing_both_are_named(owner_client, workspace):
    text = empty_state(owner_client, workspace)
    assert "A sync needs a model and an Intercom connection: write a model and connect Intercom ." in text


def test_with_a_model_only_the_connection_is_named(owner_client, workspace):
    SqlModelFactory(workspace=workspace)
    text = empty_state(owner_client, workspace)
    assert "A sync also needs an Intercom connection: connect Intercom ." in text
    assert "write a model" not in text


def test_with_a_connection_only_the_model_is_named(owner_client, workspace):
    IntercomConnectionFactory(workspace=workspace)
    text = empty_state(owner_client, workspace)
    assert "A sync also needs a model: write a model" in text
    assert "connect Intercom" not in text
