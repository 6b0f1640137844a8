"""Absurd numbers on a source form (1e300 seconds, NaN, a negative port) are refused next to their field,
with the sane range, before anything connects; never a 500, never stored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.connections.models import Connection
from apps.connections.sources.errors import InvalidSourceConfig
from apps.connections.sources.registry import clean_config

MYSQL = {"type": "mysql", "name": "Shop", "host": "127.0.0.1", "port": "3306", "database": "mysql", "user": "root",
         "password": "", "ssl_mode": "disabled", "preview_timeout_seconds": "30", "extract_timeout_seconds": "3600",
         "connect_timeout_seconds": "5"}  # fmt: skip
SECONDS = "must be between 1 second and 24 hours (86,400 seconds)"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("preview_timeout_seconds", "1e300", f"Preview time limit (seconds) {SECONDS}."),
        ("extract_timeout_seconds", "1e300", f"Sync extraction time limit (seconds) {SECONDS}."),
        ("connect_timeout_seconds", "1e300", "must be between 1 second and 5 minutes (300 seconds)."),
        ("preview_timeout_seconds", "-5", SECONDS),
        ("preview_timeout_seconds", "0", SECONDS),
        ("extract_timeout_seconds", "86401", SECONDS),
        ("preview_timeout_seconds", "NaN", "Enter a number."),
        ("preview_timeout_seconds", "inf", "Enter a number."),
        ("preview_timeout_seconds", "1" * 400, "Enter a number."),  # a float overflows to infinity
        ("port", "70000", "Port must be between 1 and 65535."),
        ("port", "-1", "Port must be between 1 and 65535."),
        ("port", "1e300", "Enter a whole number."),
    ],
)
def test_absurd_numbers_are_refused_next_to_their_field(owner_client, workspace, field, value, words):
    response = owner_client.post(reverse("source_create", args=[workspace.slug]), MYSQL | {field: value})
    assert response.status_code == 422
    assert words in " ".join(response.context["form"].errors[field])
    assert 'value="Shop"' in response.content.decode()  # the rest is kept
    assert not Connection.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_the_edges_of_the_range_are_accepted(owner_client, workspace):
    data = MYSQL | {
        "preview_timeout_seconds": "1",
        "extract_timeout_seconds": "86400",
        "connect_timeout_seconds": "300",
    }
    assert owner_client.post(reverse("source_create", args=[workspace.slug]), data).status_code == 302


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"preview_timeout_seconds": 1e300}, SECONDS),
        ({"preview_timeout_seconds": float("nan")}, "must be a number"),
        ({"extract_timeout_seconds": "inf"}, "must be a number"),
        ({"connect_timeout_seconds": 0.5}, "between 1 second and 5 minutes"),
        ({"port": 1e300}, "Port must be between 1 and 65535"),
        ({"port": float("inf")}, "Port must be a number"),
        ({"port": 0}, "Port must be between 1 and 65535"),
    ],
)
def test_the_registry_refuses_them_too(values, words):
    """What is stored is cleaned by the registry as well, whatever form or import it came from."""
    with pytest.raises(InvalidSourceConfig, match=words.replace("(", r"\(").replace(")", r"\)")):
        clean_config("mysql", {"host": "h", "database": "d", "user": "u"} | values)
