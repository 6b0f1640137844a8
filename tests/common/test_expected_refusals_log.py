"""A viewer's 403 is an expected answer: the web log gets one INFO line for it, never an ERROR, a WARNING
or a traceback (Django logs PermissionDenied with its exception, which filled the log with tracebacks)."""

import json
import logging

import pytest
from django.urls import reverse

from apps.tenancy.models import Role
from tests.conftest import member_of


@pytest.mark.django_db
def test_a_viewers_403_writes_no_error_and_no_traceback_to_the_log(client, workspace, caplog):
    viewer = member_of(workspace, Role.VIEWER).user
    client.force_login(viewer)
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.post(reverse("intercom_new", args=[workspace.slug]), {"method": "oauth"})
    assert response.status_code == 403

    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", f"Forbidden (Permission denied): /w/{workspace.slug}/connections/intercom/new/")
    ]
    assert records[0].exc_info is None
    # The line as the web log's handler writes it (the configured JSON formatter): one line, no traceback.
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    written = console.format(records[0])
    assert "Traceback" not in written and "PermissionDenied" not in written and "\n" not in written
    assert json.loads(written)["level"] == "INFO"


@pytest.mark.django_db
def test_other_refusals_stay_warnings(client, workspace, caplog):
    """Only the expected 403 is quietened: a 404 is still logged as Django logs it."""
    client.force_login(member_of(workspace, Role.VIEWER).user)
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.get(f"/w/{workspace.slug}/no-such-page/").status_code == 404
    assert [r.levelname for r in caplog.records if r.name == "django.request"] == ["WARNING"]
