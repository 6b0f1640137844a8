"""Waiting for a run's end: `POST /syncs/{id}/trigger?wait=` and `GET /sync_runs/{id}?wait=`, with a real
Celery worker running the sync against the Intercom emulator; and a wait that runs out answers cleanly."""

import time

import pytest

from apps.api import waiting
from apps.syncs.models import RunStatus, SyncRun
from config.celery import app as celery_app
from tests.factories import SyncFactory, SyncRunFactory
from tests.fixtures.celery import WorkerProcess
from tests.fixtures.syncs import m, make_sync


def trigger_url(sync_id, wait=None):
    return f"/api/v1/syncs/{sync_id}/trigger" + (f"?wait={wait}" if wait is not None else "")


def run_url(run_id, wait=None):
    return f"/api/v1/sync_runs/{run_id}" + (f"?wait={wait}" if wait is not None else "")


@pytest.fixture
def worker(celery_queue, intercom_emulator, intercom_workspace):
    """One real worker process on this test's queue, talking to the emulator."""
    saved, celery_app.conf.task_default_queue = celery_app.conf.task_default_queue, celery_queue
    env = {f"INTERCOM_API_BASE_URL_{region}": url for region, url in intercom_emulator.base_urls.items()}
    process = WorkerProcess(celery_queue).start(concurrency=2, pool="threads", env=env)
    yield process
    process.stop()
    celery_app.conf.task_default_queue = saved


def users_sync(workspace, warehouse, destination, count):
    warehouse.table(
        "users",
        "id INTEGER, email VARCHAR, name VARCHAR",
        [(n, f"user{n}@example.com", f"Zoë «{n}»") for n in range(1, count + 1)],
    )
    model = warehouse.model("SELECT * FROM users", "id", ["id", "email", "name"], unique=("email",))
    return make_sync(
        workspace, model, destination, object_key="user", behavior="upsert", key_column="email",
        key_identifier="email", mappings=[m("name", "string", "name")],
    )  # fmt: skip


@pytest.mark.embedded  # ./syncline run waits the same way on its SQLite file, the worker writing beside it
@pytest.mark.django_db(transaction=True)
def test_trigger_with_wait_answers_when_the_run_has_ended(
    api, workspace, warehouse, destination, intercom_emulator, intercom_workspace, worker
):
    sync = users_sync(workspace, warehouse, destination, 3)
    started = time.monotonic()
    response = api.post(trigger_url(sync.pk, wait=120))
    elapsed = time.monotonic() - started

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["finished_at"] is not None
    assert body["counts"]["source_rows"] == 3 and body["counts"]["created"] == 3
    assert elapsed < 60  # answered at the end of the run, not at the end of the wait
    contacts = intercom_emulator.contacts(intercom_workspace.id_code)
    assert sorted(c["email"] for c in contacts) == [f"user{n}@example.com" for n in (1, 2, 3)]
    assert {c["name"] for c in contacts} == {"Zoë «1»", "Zoë «2»", "Zoë «3»"}

    # The long poll on a run: triggered without waiting, then waited on.
    warehouse.table("users", "id INTEGER, email VARCHAR, name VARCHAR", [(1, "user1@example.com", "Ada")])
    queued = api.post(trigger_url(sync.pk))
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    ended = api.get(run_url(queued.json()["id"], wait=120))
    assert ended.status_code == 200 and ended.json()["status"] == "succeeded"
    assert ended.json()["counts"]["updated"] == 1 and ended.json()["counts"]["unchanged"] == 0
    names = {c["email"]: c["name"] for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert names["user1@example.com"] == "Ada"


@pytest.mark.django_db
def test_a_wait_that_runs_out_answers_the_run_as_it_is(api, workspace):
    """No worker: the run stays queued, and both waits end at their time with the queued run, not an error."""
    sync = SyncFactory(workspace=workspace)
    started = time.monotonic()
    response = api.post(trigger_url(sync.pk, wait=1))
    assert 1 <= time.monotonic() - started < 5
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert response.json()["finished_at"] is None and response["Location"] == response.json()["url"]

    started = time.monotonic()
    polled = api.get(run_url(response.json()["id"], wait=1))
    assert 1 <= time.monotonic() - started < 5
    assert polled.status_code == 200 and polled.json()["status"] == "queued"


@pytest.mark.django_db
def test_an_ended_run_answers_at_once(api, workspace):
    run = SyncRunFactory(
        workspace=workspace, status=RunStatus.FAILED, first_error="Intercom refused the token."
    )
    started = time.monotonic()
    response = api.get(run_url(run.pk, wait=300))
    assert time.monotonic() - started < 1
    assert response.json()["status"] == "failed" and response.json()["error"] == "Intercom refused the token."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wait", "code"), [(301, "less_than_equal"), (-1, "greater_than_equal"), ("soon", "int_parsing")]
)
def test_a_wait_out_of_bounds_is_422_and_starts_nothing(api, workspace, wait, code):
    sync = SyncFactory(workspace=workspace)
    for response in (api.post(trigger_url(sync.pk, wait=wait)), api.get(run_url(1, wait=wait))):
        assert response.status_code == 422
        assert (
            response.json()["problems"][0]["field"] == "wait"
            and response.json()["problems"][0]["code"] == code
        )
    assert not SyncRun.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_wait_on_another_workspaces_run_is_404_at_once(api):
    theirs = SyncRunFactory(status=RunStatus.RUNNING)
    started = time.monotonic()
    assert api.get(run_url(theirs.pk, wait=30)).status_code == 404
    assert time.monotonic() - started < 1


def test_the_wait_reads_the_run_with_a_growing_pause_not_a_busy_loop(monkeypatch):
    """Five minutes on a run that never ends: about 160 reads, each pause at most 2 s, the last one cut to
    end exactly at the deadline; and it returns at the first read that finds the run ended."""
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds):
        pauses.append(seconds)
        now[0] += seconds

    class Run:
        pk, is_active = 1, True

    reads = []
    monkeypatch.setattr(waiting.run_selectors, "run_get", lambda **kwargs: reads.append(now[0]) or Run())
    waiting.run_wait(workspace=None, run=Run(), seconds=300, sleep=sleep, clock=lambda: now[0])
    assert now[0] == pytest.approx(300)
    assert pauses[:4] == pytest.approx([0.25, 0.375, 0.5625, 0.84375]) and max(pauses) == 2.0
    assert 150 <= len(reads) <= 160

    ended = type("Ended", (), {"pk": 1, "is_active": False})()
    reads.clear()
    monkeypatch.setattr(waiting.run_selectors, "run_get", lambda **kwargs: reads.append(now[0]) or ended)
    now[0] = 0.0
    assert (
        waiting.run_wait(workspace=None, run=Run(), seconds=300, sleep=sleep, clock=lambda: now[0]) is ended
    )
    assert len(reads) == 1 and now[0] == 0.25


def test_the_wait_is_bounded_even_if_asked_for_more(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(
        waiting.run_selectors, "run_get", lambda **kwargs: type("R", (), {"pk": 1, "is_active": True})()
    )
    sleep = lambda s: now.__setitem__(0, now[0] + s)  # noqa: E731
    waiting.run_wait(
        workspace=None,
        run=type("R", (), {"pk": 1, "is_active": True})(),
        seconds=10_000,
        sleep=sleep,
        clock=lambda: now[0],
    )
    assert now[0] == pytest.approx(waiting.MAX_WAIT_SECONDS)


@pytest.mark.django_db
def test_a_key_may_hold_only_so_many_waits_at_once(api, workspace, settings, api_key_and_secret):
    """The waits a key already holds (here: two, taken as another web thread would) refuse a third with 429,
    before a run is started; a call without wait is not concerned, and a freed slot is usable again."""
    settings.API_WAITS_PER_KEY = 2
    sync = SyncFactory(workspace=workspace)
    api_key = api_key_and_secret[0]
    with waiting.wait_slot(api_key), waiting.wait_slot(api_key):
        refused = api.post(trigger_url(sync.pk, wait=30))
        assert refused.status_code == 429 and refused.json()["error"] == "too_many_waits"
        assert refused["Retry-After"] == "10" and "already has 2 calls waiting" in refused.json()["message"]
        assert not SyncRun.objects.for_workspace(workspace).exists()  # nothing was started
        queued = api.post(trigger_url(sync.pk))
        assert queued.status_code == 202
        assert api.get(run_url(queued.json()["id"], wait=30)).status_code == 429
        assert api.get(run_url(queued.json()["id"])).status_code == 200
    started = time.monotonic()
    assert api.get(run_url(queued.json()["id"], wait=1)).status_code == 200
    assert time.monotonic() - started >= 1  # the slot is free again: it waited
