"""Every status that the served description documents for every operation is produced for real, and every
answer (and every request that was accepted) is validated against that description by openapi-core."""

import re

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from apps.api.routes import runs
from apps.models.dbt.services import dbt_manifest_upload, dbt_model_use
from apps.models.models import DbtModel
from apps.syncs.models import RunStatus, SyncRun
from tests.api.conftest import ApiClient
from tests.factories import IntercomConnectionFactory, SqlModelFactory, SyncFactory, SyncRunFactory
from tests.models.dbt_manifests import CUSTOMERS, build_warehouse, manifest_bytes, project_models

pytestmark = pytest.mark.django_db

MISSING = 999_999


@pytest.fixture
def description(client):
    return client.get("/api/v1/openapi.json").json()


def documented(description) -> set[tuple[str, str, int]]:
    return {
        (method.upper(), path, int(status))
        for path, item in description["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


def any_id(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "{id}", template)


def run_ends_during_the_wait(*, workspace, run, seconds):
    """Stands in for a worker that finishes the run while the trigger waits (the real one: test_wait.py)."""
    SyncRun.objects.for_workspace(workspace).filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    return SyncRun.objects.for_workspace(workspace).get(pk=run.pk)


def test_every_documented_answer_of_every_operation(
    description, api, viewer_api, workspace, warehouse, settings, monkeypatch
):
    spec = OpenAPI.from_dict(description)
    nobody = ApiClient(None)
    warehouse.table("users", "id INTEGER, email VARCHAR", [(1, "ada@example.com")])
    destination = IntercomConnectionFactory(workspace=workspace)
    model = SqlModelFactory(workspace=workspace, source=warehouse.source, name="Users",
                            sql="SELECT * FROM users", columns=[{"name": "id"}, {"name": "email"}])  # fmt: skip
    catalog = build_warehouse(warehouse.path)
    dbt_manifest_upload(workspace=workspace, user=None, source=warehouse.source,
                        content=manifest_bytes(project_models(catalog)))  # fmt: skip
    dbt_backed = dbt_model_use(
        workspace=workspace, user=None, name="Customers", primary_key="customer_id",
        dbt_model=DbtModel.objects.for_workspace(workspace).get(name=CUSTOMERS),
    )  # fmt: skip
    busy = SyncFactory(workspace=workspace, model=model, destination=destination, name="Busy")
    SyncRunFactory(workspace=workspace, sync=busy, status=RunStatus.RUNNING)
    idle = SyncFactory(workspace=workspace, model=model, destination=destination, name="Idle")
    finished = SyncRunFactory(workspace=workspace, sync=idle, status=RunStatus.SUCCEEDED)
    new_model = {
        "name": "Emails",
        "source_id": warehouse.source.pk,
        "sql": "SELECT * FROM users",
        "primary_key": "id",
    }
    new_sync = {"name": "New", "model_id": model.pk, "destination_id": destination.pk, "object": "company",
                "behavior": "upsert", "key_column": "id", "key_identifier": "company_id",
                "mappings": [{"target": "name", "field_type": "string", "column": "email"}]}  # fmt: skip

    def raw(client, method, path, text):
        return client.client.generic(
            method, path, text, content_type="application/json", headers=client.headers
        )

    def body_for(method, template):
        if method == "POST" and template.endswith("/models"):
            return new_model
        if method == "POST" and template.endswith("/syncs"):
            return new_sync
        if method in ("PUT", "PATCH"):
            return (
                {"kind": "manual"}
                if "schedule" in template
                else {"description": "x"}
                if "models" in template
                else {"paused": False}
            )
        return None

    produced = []  # (method, path template, answer)

    def call(method, template, client=None, data=None, *, text=None, **ids):
        client = client or api
        path = "/api/v1" + template.format(**ids)
        if text is not None:
            answer = raw(client, method, path, text)
        else:
            send = getattr(client, method.lower())
            answer = send(path, data) if data is not None else send(path)
        produced.append((method, "/api/v1" + template, answer))
        return answer

    # Reads.
    call("GET", "/syncs")
    call("GET", "/syncs/{i}", i=idle.pk)
    call("GET", "/syncs/{i}/schedule", i=idle.pk)
    call("GET", "/schedules")
    call("GET", "/models")
    call("GET", "/models/{i}", i=model.pk)
    call("GET", "/models/{i}", i=dbt_backed.pk)  # with its `dbt` reference
    call("GET", "/sync_runs/{i}", i=finished.pk)
    call("GET", "/sync_runs/{i}?wait=1", i=finished.pk)
    # Writes that succeed.
    created_model = call("POST", "/models", data=new_model).json()
    call("PATCH", "/models/{i}", data={"description": "All emails"}, i=created_model["id"])
    created = call("POST", "/syncs", data=new_sync).json()
    call("PATCH", "/syncs/{i}", data={"paused": True}, i=created["id"])
    call("PUT", "/syncs/{i}/schedule", data={"kind": "interval", "every_minutes": 15}, i=created["id"])
    call("PATCH", "/syncs/{i}/schedule", data={"every_minutes": 30}, i=created["id"])
    call("DELETE", "/syncs/{i}/schedule", i=created["id"])
    call("POST", "/syncs/{i}/trigger", data={"full_resync": True}, i=created["id"])  # 202
    call("DELETE", "/syncs/{i}", i=created["id"])  # 409: its run is queued
    SyncRun.objects.for_workspace(workspace).filter(sync_id=created["id"]).update(status=RunStatus.CANCELLED)
    call("DELETE", "/syncs/{i}", i=created["id"])
    call("DELETE", "/models/{i}", i=created_model["id"])
    call("DELETE", "/models/{i}", i=model.pk)  # 409: syncs read it
    call("POST", "/syncs/{i}/trigger", i=busy.pk)  # 409 with the run
    with monkeypatch.context() as patched:
        patched.setattr(runs, "run_wait", run_ends_during_the_wait)
        call("POST", "/syncs/{i}/trigger?wait=60", i=idle.pk)  # 200: the run ended within the wait
    # Bad input: 422 (a body, an id that is no number, a wait out of bounds) and 400 (not JSON).
    call("POST", "/models", data=new_model | {"primary_key": "nope"})
    call("POST", "/syncs", data=new_sync | {"key_column": "nope"})
    call(
        "PATCH",
        "/syncs/{i}",
        data={"mappings": [{"target": "nope", "field_type": "string", "column": "id"}]},
        i=idle.pk,
    )
    call("PATCH", "/models/{i}", data={"sql": "DROP TABLE users"}, i=model.pk)
    call("PATCH", "/models/{i}", data={"sql": "SELECT 1 AS customer_id"}, i=dbt_backed.pk)  # follows dbt
    call("PUT", "/syncs/{i}/schedule", data={"kind": "cron", "cron": "every day"}, i=idle.pk)
    call("PATCH", "/syncs/{i}/schedule", data={"kind": "hourly", "minute": 60}, i=idle.pk)
    call("GET", "/sync_runs/{i}?wait=301", i=finished.pk)
    for method, template in [("GET", "/syncs/{i}"), ("PATCH", "/syncs/{i}"), ("DELETE", "/syncs/{i}"),
                             ("GET", "/syncs/{i}/schedule"), ("PUT", "/syncs/{i}/schedule"),
                             ("PATCH", "/syncs/{i}/schedule"), ("DELETE", "/syncs/{i}/schedule"),
                             ("POST", "/syncs/{i}/trigger"), ("GET", "/sync_runs/{i}"), ("GET", "/models/{i}"),
                             ("PATCH", "/models/{i}"), ("DELETE", "/models/{i}")]:  # fmt: skip
        call(method, template, data=body_for(method, template), i="abc")  # 422
        call(method, template, data=body_for(method, template), i=MISSING)  # 404
    for method, template in [("POST", "/models"), ("PATCH", "/models/{i}"), ("POST", "/syncs"),
                             ("PATCH", "/syncs/{i}"), ("PUT", "/syncs/{i}/schedule"),
                             ("PATCH", "/syncs/{i}/schedule"), ("POST", "/syncs/{i}/trigger")]:  # fmt: skip
        call(method, template, text="{", i=model.pk if "models" in template else idle.pk)  # 400
    # Roles, keys and limits: every operation with a viewer key (writes 403, before the body is read),
    # without a key (401), and past the key's limit (429).
    operations = sorted({(m, p) for m, p, _ in documented(description)})
    ids = {"sync_id": idle.pk, "run_id": finished.pk, "model_id": model.pk}

    for client in (viewer_api, nobody):
        for method, path in operations:
            call(method, path.removeprefix("/api/v1"), client, body_for(method, path), **ids)
    settings.API_RATE_LIMIT = "1/min"
    for method, path in operations:
        call(method, path.removeprefix("/api/v1"), api, body_for(method, path), **ids)

    for _, _, answer in produced:
        request = DjangoOpenAPIRequest(answer.wsgi_request)
        spec.validate_response(request, DjangoOpenAPIResponse(answer))
        if answer.status_code < 400:
            spec.validate_request(request)
    seen = {(method, any_id(template.split("?")[0]), a.status_code) for method, template, a in produced}
    wanted = {(method, any_id(path), status) for method, path, status in documented(description)}
    assert wanted - seen == set(), "documented but never produced"
    assert seen - wanted == set(), "produced but not documented"
