"""The Content-Security-Policy: strict, sent by every page in every environment (production included),
and the templates need nothing it forbids (no inline script, handler, javascript: link or style attribute).
Browsers enforce it in tests/browser, where any violation fails the test (conftest.py)."""

import re
from pathlib import Path

import pytest

from apps.syncs.models import RecordResult
from tests.factories import SyncRunFactory
from tests.test_settings import manage

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # Pico's icons are data: SVGs in its stylesheet
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# What a page's HTML must not carry for the policy to hold without breaking it.
FORBIDDEN = {
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
}


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sorted(values) for name, *values in parts}


def problems_in(html: str) -> list[str]:
    return [f"{what}: {m.group(0)[:120]}" for what, rx in FORBIDDEN.items() for m in rx.finditer(html)]


@pytest.mark.django_db
def test_every_page_sends_the_strict_policy(client, owner_client, workspace, settings):
    settings.INTERCOM_APP_BASE_URLS = {
        "US": "https://app.intercom.com",
        "EU": "https://app.eu.intercom.com/x",
    }
    for answer in (client.get("/accounts/login/"), owner_client.get(f"/w/{workspace.slug}/syncs/")):
        policy = directives(answer["Content-Security-Policy"])
        assert {k: policy.get(k) for k in STRICT} == {k: sorted(v) for k, v in STRICT.items()}
        # Forms post here, and the Intercom connect form's answer redirects to the consent page.
        assert policy["form-action"] == sorted(
            ["'self'", "https://app.intercom.com", "https://app.eu.intercom.com"]
        )
        assert not any("unsafe" in value for values in policy.values() for value in values)


def test_production_settings_send_the_policy():
    code = (
        "from django.test import Client; "
        "r = Client().get('/api/v1/openapi.json', secure=True, HTTP_HOST='syncline.example.com'); "
        "print(r.headers.get('Content-Security-Policy'))"
    )
    result = manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    policy = directives(result.stdout.strip())
    assert {k: policy.get(k) for k in STRICT} == {k: sorted(v) for k, v in STRICT.items()}


def test_no_template_needs_what_the_policy_forbids():
    # Emails are read in mail clients, where inline styles are the norm and this policy does not apply.
    found = {
        str(path.relative_to(TEMPLATES)): problems
        for path in TEMPLATES.rglob("*.html")
        if "emails" not in path.parts and (problems := problems_in(path.read_text()))
    }
    assert found == {}


@pytest.mark.django_db
def test_pages_drawn_by_code_carry_no_inline_style_either(owner_client, workspace):
    """The sync page's chart (SVG drawn by apps/syncs/charts.py) and the run page's records table."""
    run = SyncRunFactory(workspace=workspace, counts={"source_rows": 3, "created": 2, "rejected": 1})
    RecordResult.objects.create(
        workspace=workspace, run=run, key="7", outcome="rejected", code="x", message="No."
    )
    for url in (f"/w/{workspace.slug}/syncs/{run.sync_id}/", f"/w/{workspace.slug}/runs/{run.pk}/"):
        answer = owner_client.get(url)
        assert answer.status_code == 200
        assert problems_in(answer.content.decode()) == [], url
