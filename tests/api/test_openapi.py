"""The served OpenAPI description is valid, and the API's real answers match it."""

from html import escape

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_spec_validator import validate

from apps.syncs.models import RunStatus
from tests.factories import SyncFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def description(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_served_description_is_valid_openapi(description):
    validate(description)
    assert description["openapi"].startswith("3.")
    assert set(description["paths"]) == {
        "/api/v1/syncs",
        "/api/v1/syncs/{sync_id}",
        "/api/v1/syncs/{sync_id}/trigger",
        "/api/v1/syncs/{sync_id}/schedule",
        "/api/v1/sync_runs/{run_id}",
        "/api/v1/schedules",
        "/api/v1/models",
        "/api/v1/models/{model_id}",
    }
    assert description["components"]["securitySchemes"]["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}


def test_every_answer_matches_the_description(description, api, client, workspace, settings):
    """Each documented status of each operation, produced for real and checked against the description."""
    spec = OpenAPI.from_dict(description)
    sync = SyncFactory(workspace=workspace)
    idle = SyncFactory(workspace=workspace)
    finished = SyncRunFactory(workspace=workspace, sync=idle, status=RunStatus.SUCCEEDED)
    answers = [
        api.get("/api/v1/syncs"),
        api.get(f"/api/v1/sync_runs/{finished.pk}"),
        api.get("/api/v1/sync_runs/999999"),
        api.post(f"/api/v1/syncs/{sync.pk}/trigger", {"full_resync": True}),
        api.post(f"/api/v1/syncs/{sync.pk}/trigger"),
        api.post("/api/v1/syncs/999999/trigger"),
        api.post(f"/api/v1/syncs/{idle.pk}/trigger", {"full_resync": "maybe"}),
        api.client.post(
            f"/api/v1/syncs/{idle.pk}/trigger", "{", content_type="application/json", headers=api.headers
        ),
        client.get("/api/v1/syncs"),
    ]
    settings.API_RATE_LIMIT = (
        f"{len(answers) - 1}/min"  # the key has made that many requests: one more is 429
    )
    answers += [
        api.get("/api/v1/syncs"),
        api.get(f"/api/v1/sync_runs/{finished.pk}"),
        api.post(f"/api/v1/syncs/{sync.pk}/trigger"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 202, 409, 404, 422, 400, 401, 429, 429, 429]
    for answer in answers:
        request = DjangoOpenAPIRequest(answer.wsgi_request)
        spec.validate_response(request, DjangoOpenAPIResponse(answer))
        if answer.status_code < 400:
            spec.validate_request(request)


def test_a_wrong_answer_would_be_caught(description, api, workspace):
    """The check above can fail: an answer that breaks the description is refused."""
    from openapi_core.validation.response.exceptions import InvalidData

    spec = OpenAPI.from_dict(description)
    SyncFactory(workspace=workspace)
    answer = api.get("/api/v1/syncs")
    answer.content = answer.content.replace(b'"paused": false', b'"paused": "no"')
    with pytest.raises(InvalidData):
        spec.validate_response(DjangoOpenAPIRequest(answer.wsgi_request), DjangoOpenAPIResponse(answer))


def test_the_reference_page_describes_every_operation(client, description):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    for path, item in description["paths"].items():
        for method, operation in item.items():
            assert f"<code>{method.upper()} {path}</code>" in html
            assert escape(operation["summary"]) in html
    assert "Authorization: Bearer" in html and 'href="/api/v1/openapi.json"' in html
    assert "<script" not in html.split("</head>", 1)[1]  # a plain page, readable without JavaScript
    assert "full_resync" in html and "<code>409</code>" in html
    # The parameters (the wait), what a viewer key may do, and the one shape of a 422.
    trigger = html[html.index('id="trigger_sync"') :]
    assert (
        '<td><code>wait</code> <small class="muted">(optional)</small></td><td>query</td><td>integer</td>'
        in trigger
    )
    assert "<strong>viewer</strong> key" in html and '"problems": [{"field": "key_column"' in html
    create_sync = html[html.index('id="create_sync"') :]
    assert "<h3>JSON body</h3>" in create_sync  # required: not marked optional
    assert (
        '<td><code>mappings</code> <small class="muted">(optional)</small></td><td>list of Mapping</td>'
        in create_sync
    )
