"""Fuzzing the dashboard: every page of a workspace, as its owner, is sent hostile values (NUL bytes, huge
numbers, odd unicode, very long strings, and the choices the page itself offers) in its query string and in
every form it shows; no answer may be a 5xx (an exception in a view fails the test with its traceback).

The pages come from the URLconf (tests/urlwalk.py), so a page added later is fuzzed too; its forms are read
from its own HTML. Each example runs in a savepoint that is rolled back, so a delete or a role change in one
example never changes the pages the next one sees. Bounded: EXAMPLES per page and per form target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.alerts.models import WebhookEndpoint
from apps.api.services import api_key_create
from apps.models.models import SqlModel
from apps.syncs.models import RecordResult, SyncPreviewRun
from apps.syncs.runs.preview_runs import preview_config
from apps.syncs.wizard.views import STEP_KEYS
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.factories import DbtModelFactory, SqlModelFactory, SyncFactory, SyncRunFactory
from tests.urlwalk import all_routes

EXAMPLES = 8  # per page or form target; twice as many for a form with fields

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1f\r\n\t",
    "0",
    "-1",
    "1e300",
    "-1e300",
    "9" * 400,
    "NaN",
    "inf",
    "3.5",
    "名前",
    "🙂" * 50,
    "\u202etxt.exe",
    "\ufeff",
    "x" * 20_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "2026-13-45",
    "25:61",
    "a@b",
    "{}",
    "[]",
]
# Sent in every field and query parameter of every target at once, before the random examples: the values
# that have broken pages before (a NUL reaching PostgreSQL, a number no field can hold, a page of text, SQL
# nested deeper than a recursive parser goes).
SWEEP = ["a\x00b", "1e300", "9" * 400, "x" * 20_000, "🙂\u202e名", "SELECT " + "(" * 3000 + "1" + ")" * 3000]
# Text without lone surrogates, which cannot be sent as UTF-8 at all.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
# Names of query parameters that views read themselves (not through a form).
QUERY_NAMES = ["page", "q", "outcome", "code", "type", "full_resync", "state", "error", "next"]


def value_strategy(options: set[str]) -> st.SearchStrategy:
    hostile = st.one_of(st.sampled_from(HOSTILE), TEXT, st.integers().map(str))
    if not options:
        return hostile
    return st.one_of(st.sampled_from(sorted(options)), hostile)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, set[str]] = field(default_factory=dict)


class FormReader(HTMLParser):
    """The forms of a page (action, method, field names and the values the page offers for each), and the
    URLs that htmx posts to outside a form."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url, self.forms, self.current, self.select = page_url, [], None, None
        self.variants: set[str] = set()  # links to this page with a query (`?type=postgres`): more pages

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def _form_for(self, attrs: dict) -> Form | None:
        if self.current is not None:
            return self.current
        target = attrs.get("hx-post")  # an htmx element outside a form (hx-include brings the fields)
        if target:
            form = Form(urljoin(self.page_url, target), "post")
            self.forms.append(form)
            return form
        return None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = attrs.get("hx-post") or attrs.get("action") or self.page_url
            method = "post" if attrs.get("hx-post") else (attrs.get("method") or "get").lower()
            self.current = Form(urljoin(self.page_url, action), method)
            self.forms.append(self.current)
            return
        if tag == "a" and attrs.get("href", "").startswith("?"):
            self.variants.add(urljoin(self.page_url, attrs["href"]))
        if tag not in ("input", "select", "textarea", "button", "option"):
            if "hx-post" in attrs and self.current is None:
                self._form_for(attrs)
            return
        if tag == "option" and self.select is not None:
            self.select[1].add(attrs.get("value", ""))
            return
        form = self._form_for(attrs)
        name = attrs.get("name")
        if form is None or not name or name == "csrfmiddlewaretoken":
            return
        options = form.fields.setdefault(name, set())
        if attrs.get("value"):
            options.add(attrs["value"])
        if tag == "select":
            self.select = (name, options)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


@pytest.fixture
def full_workspace(owner_membership, destination):
    """A workspace with one of everything a page can show; its Intercom is the emulator's."""
    workspace, owner = owner_membership.workspace, owner_membership.user
    model = SqlModelFactory(workspace=workspace)
    sync = SyncFactory(workspace=workspace, model=model, destination=destination)
    run = SyncRunFactory(
        workspace=workspace, sync=sync, counts={"source_rows": 2, "created": 1, "rejected": 1}
    )
    RecordResult.objects.create(
        workspace=workspace, run=run, key="7", outcome="rejected", code="x", message="No"
    )
    editor = member_of(workspace, Role.EDITOR)
    invitation = tenancy_services.invitation_create(
        workspace=workspace, invited_by=owner, email="new@example.com", role=Role.VIEWER
    )
    webhook = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/", signing={"secret": "whsec_x"}, secret_hint="x"
    )
    api_key, _ = api_key_create(workspace=workspace, user=owner, name="CI")
    preview = SyncPreviewRun.objects.create(workspace=workspace, sync=sync, config=preview_config(sync))
    dbt_model = DbtModelFactory(workspace=workspace, project__source=model.source)
    ids = {
        "workspace_slug": workspace.slug,
        "membership_id": editor.pk,
        "invitation_id": invitation.pk,
        "connection_id": model.source_id,
        "destination_id": destination.pk,
        "model_id": model.pk,
        "sync_id": sync.pk,
        "run_id": run.pk,
        "webhook_id": webhook.pk,
        "api_key_id": api_key.pk,
        "preview_id": preview.pk,
        "dbt_project_id": dbt_model.project_id,
        "dbt_model_id": dbt_model.pk,
    }
    return workspace, owner, ids


def dashboard_urls(ids: dict) -> list[str]:
    """Every page of the workspace (wizard steps included), and creating a workspace."""
    urls = [reverse("workspace_create")]
    for route in all_routes():
        if not route.is_workspace_scoped:
            continue
        if "step" in route.kwargs:
            urls += [
                reverse(route.name, kwargs={k: ids.get(k, step) for k in route.kwargs}) for step in STEP_KEYS
            ]
        else:
            urls.append(reverse(route.name, kwargs={k: ids[k] for k in route.kwargs}))
    return urls


class RolledBack(Exception):
    pass


def answer_in_a_savepoint(client, method: str, url: str, data: dict, htmx: bool):
    """The answer to one request, whose writes (and the session it changes) are undone afterwards."""
    cookies = client.cookies
    headers = {"HX-Request": "true"} if htmx else {}
    answer = None
    try:
        with transaction.atomic():
            answer = getattr(client, method)(url, data, headers=headers)
            raise RolledBack
    except RolledBack:
        pass
    finally:
        client.cookies = cookies.__class__(cookies)
    return answer


def _shown(data: dict) -> str:
    return repr({k: v if len(v) < 80 else f"{v[:40]}… ({len(v)} characters)" for k, v in data.items()})


def check(client, method: str, url: str, data: dict, htmx: bool):
    request = f"{method.upper()} {url}{' (htmx)' if htmx else ''} with {_shown(data)}"
    try:
        answer = answer_in_a_savepoint(client, method, url, data, htmx)
    except Exception as error:  # the view raised: Django would have answered 500
        raise AssertionError(f"{request} raised {error!r}") from error
    assert answer.status_code < 500, f"{request} → {answer.status_code}"


def fuzz(client, method: str, url: str, fields: dict[str, set[str]]):
    for value in SWEEP:
        check(client, method, url, dict.fromkeys([*fields, *QUERY_NAMES], value), htmx=False)

    @given(
        data=st.fixed_dictionaries(
            {name: value_strategy(options) for name, options in fields.items()},
            optional={name: value_strategy(set()) for name in QUERY_NAMES if name not in fields},
        ),
        htmx=st.booleans(),
    )
    @settings(
        max_examples=EXAMPLES * (2 if fields else 1),
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: CI passes or fails for a reason
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def no_server_error(data, htmx):
        check(client, method, url, data, htmx)

    no_server_error()


def read_targets(client, pages: list[str]) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(method, url) → fields, from every page and its `?…` variants (the source type picker's links)."""
    targets: dict[tuple[str, str], dict[str, set[str]]] = {}
    queue, seen = list(pages), set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        page = client.get(url)
        assert page.status_code < 500, url
        targets.setdefault(("get", url), {})
        targets.setdefault(("post", url), {})
        if "html" not in page.get("Content-Type", ""):
            continue
        reader = FormReader(url)
        reader.feed(page.content.decode())
        queue += sorted(reader.variants - seen) if url in pages else []  # one level of variants
        for form in reader.forms:
            parts = urlsplit(form.action)
            if parts.netloc or parts.path.startswith("/accounts/"):
                continue  # another site (Intercom), or the sidebar's log-out form
            fields = targets.setdefault((form.method, form.action), {})
            for name, options in form.fields.items():
                fields.setdefault(name, set()).update(options)
    return targets


@pytest.mark.django_db
def test_no_page_or_form_of_the_dashboard_answers_a_server_error(client, full_workspace):
    workspace, owner, ids = full_workspace
    client.force_login(owner)
    pages = dashboard_urls(ids)
    assert len(pages) > 40
    targets = read_targets(client, pages)
    assert ("post", f"/w/{workspace.slug}/connections/sources/new/?type=postgres") in targets
    for (method, url), fields in sorted(targets.items()):
        fuzz(client, method, url, fields)


def test_the_form_reader_finds_fields_options_and_htmx_targets():
    html = """<form method="post" action="save/"><input name="csrfmiddlewaretoken" value="t">
    <input name="name" value="A"><select name="kind"><option value="x">X</option><option value="y">Y</option>
    </select><button name="action" value="preview">Preview</button></form>
    <form action="?"><input name="q"></form><button hx-post="/w/a/run/">Run</button>"""
    reader = FormReader("/w/a/page/")
    reader.feed(html)
    assert [(f.action, f.method, f.fields) for f in reader.forms] == [
        ("/w/a/page/save/", "post", {"name": {"A"}, "kind": {"x", "y"}, "action": {"preview"}}),
        ("/w/a/page/", "get", {"q": set()}),
        ("/w/a/run/", "post", {}),
    ]


# What the fuzzing found, each pinned by a plain test.


@pytest.mark.django_db
def test_a_nul_character_in_the_run_pages_search_is_not_sent_to_the_database(owner_client, workspace):
    run = SyncRunFactory(workspace=workspace)
    RecordResult.objects.create(
        workspace=workspace, run=run, key="ab", outcome="rejected", code="x", message=""
    )
    for query in ("q=%00", "code=%00", "q=a%00b&code=x%00"):
        answer = owner_client.get(f"/w/{workspace.slug}/runs/{run.pk}/?{query}")
        assert answer.status_code == 200, query
    assert (
        "<code>ab</code>" in owner_client.get(f"/w/{workspace.slug}/runs/{run.pk}/?q=a%00b").content.decode()
    )


@pytest.mark.django_db
def test_deleting_a_model_that_syncs_read_is_refused_with_their_names(owner_client, workspace):
    sync = SyncFactory(workspace=workspace, name="People")
    answer = owner_client.post(f"/w/{workspace.slug}/models/{sync.model_id}/delete/", follow=True)
    assert answer.status_code == 200
    assert f"“{sync.model.name}” is used by the syncs “People”: delete them first." in answer.content.decode()
    assert SqlModel.objects.for_workspace(workspace).filter(pk=sync.model_id).exists()


@pytest.mark.django_db
def test_an_access_token_that_cannot_travel_in_a_header_is_refused_in_words(owner_client, workspace):
    for token in ("名前", "tok en", "tok\x7fen"):
        answer = owner_client.post(
            f"/w/{workspace.slug}/connections/intercom/new/",
            {"method": "token", "token-region": "US", "token-token": token},
        )
        assert answer.status_code == 422, token
        assert "This is not an Intercom access token" in answer.content.decode()
