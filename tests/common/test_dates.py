"""Dates read one way on every page: "just now" rather than "0 minutes ago", and the exact moment in one
format, in the workspace's time zone."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.common.templatetags.dates import ago, exact, when
from tests.factories import SqlModelFactory

NOW = datetime(2026, 12, 3, 13, 5, 9, tzinfo=UTC)
NBSP = "\xa0"


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=-59), "just now"),
        (timedelta(seconds=30), "in under a minute"),
        (timedelta(minutes=-1), f"1{NBSP}minute ago"),
        (timedelta(minutes=-5, seconds=-40), f"5{NBSP}minutes ago"),
        (timedelta(hours=-3, minutes=-59), f"3{NBSP}hours ago"),
        (timedelta(hours=2, minutes=1), f"in 2{NBSP}hours"),
        (timedelta(days=-400), f"1{NBSP}year ago"),
    ],
)
def test_ago_says_just_now_and_the_largest_unit(delta, said):
    assert ago(NOW + delta, NOW) == said
    assert "0" + NBSP not in ago(NOW + delta, NOW)  # never "0 minutes ago"


def test_exact_is_one_format_in_the_current_zone():
    with timezone.override("Europe/Paris"):
        assert exact(NOW) == "Dec 3, 2026, 14:05 CET"
        html = when(NOW)
    assert 'datetime="2026-12-03T14:05:09+01:00"' in html and 'title="Dec 3, 2026, 14:05 CET"' in html
    with timezone.override("America/New_York"):
        assert exact(NOW) == "Dec 3, 2026, 08:05 EST"


@pytest.mark.django_db
def test_a_model_saved_seconds_ago_says_just_now_with_the_exact_time_in_the_workspace_zone(
    owner_client, workspace
):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    with time_machine.travel(NOW, tick=False):
        SqlModelFactory(workspace=workspace, name="People")
    with time_machine.travel(NOW + timedelta(seconds=20), tick=False):
        html = owner_client.get(reverse("model_list", args=[workspace.slug])).content.decode()
    assert "0 minutes" not in html and f"0{NBSP}minutes" not in html
    assert re.search(
        r'<time datetime="2026-12-03T22:05:09\+09:00" title="Dec 3, 2026, 22:05 JST">just now</time>', html
    )
