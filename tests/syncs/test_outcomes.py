"""What a run reports, end to end against the emulator over HTTP: its counts (one vocabulary, the same on
the run page, in the API and in webhooks) and the status each rule of `apps.syncs.runs.statuses` gives."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from apps.alerts.webhooks import run_event_data
from apps.api.services import api_key_create
from apps.syncs.engine.outcomes import COUNT_KEYS, LABELS, Outcome, RunCounts, Tally
from apps.syncs.models import RecordOutcome, RecordResult, RunStatus
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.statuses import run_status
from tests.fixtures.syncs import m, make_sync

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

COLUMNS = "id INTEGER, email VARCHAR, name VARCHAR, external_id VARCHAR, seats VARCHAR"
NAMES = ["id", "email", "name", "external_id", "seats"]


def people(n, *, seats=None, no_key=()):
    """n people; `seats` (a string, for an integer attribute: Intercom refuses it) on the rows it names."""
    seats = seats or {}
    return [
        (i, None if i in no_key else f"p{i}@example.com", f"Person {i}", f"u-{i}", seats.get(i))
        for i in range(1, n + 1)
    ]


def user_sync(workspace, warehouse, destination, rows, *, behavior="upsert", identifier="email", sql=None):
    warehouse.table("people", COLUMNS, rows)
    model = warehouse.model(sql or "SELECT * FROM people", "id", NAMES, unique=("email", "external_id"))
    mappings = [m("name", "string", "name"), m("seats", "string", "seats", custom=True)]
    key_column = {"email": "email", "external_id": "external_id"}[identifier]
    if identifier != "email":
        mappings.append(m("email", "string", "email"))
    return make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior=behavior,
        key_column=key_column,
        key_identifier=identifier,
        mappings=mappings,
    )


@pytest.fixture
def run_now(workspace, eager_tasks, django_capture_on_commit_callbacks):
    """Run the sync as a worker would; what its end sets off (alert emails) happens too."""

    def run_now(sync):
        started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
        with django_capture_on_commit_callbacks(execute=True):
            return sync_run_execute(run_id=started.pk)

    return run_now


def counts_of(run) -> RunCounts:
    return RunCounts.from_json(run.counts)


def outcomes_of(run) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key, outcome in (
        RecordResult.objects.for_workspace(run.workspace).filter(run=run).values_list("key", "outcome")
    ):
        found.setdefault(outcome, set()).add(key)
    return found


# --- the rules, one by one ---------------------------------------------------------------------------


def test_every_record_through_is_succeeded(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    run = run_now(user_sync(workspace, warehouse, destination, people(3)))
    assert counts_of(run) == RunCounts(source_rows=3, created=3, api_calls=3)
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    assert mail.outbox == []


def test_invalid_rows_beside_records_that_went_through_are_succeeded_with_warnings(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    run = run_now(user_sync(workspace, warehouse, destination, people(4, no_key={2})))
    assert counts_of(run) == RunCounts(source_rows=4, created=3, invalid=1, api_calls=3)
    assert run.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert outcomes_of(run) == {  # the row without a key listed, and the records sent
        RecordOutcome.INVALID: {""},
        RecordOutcome.CREATED: {"p1@example.com", "p3@example.com", "p4@example.com"},
    }
    assert mail.outbox == []  # not a failure: no alert


def test_some_records_refused_by_intercom_is_partially_failed(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    # Intercom's "seats" is an integer attribute: the rows that send it a string are refused, the others saved.
    run = run_now(user_sync(workspace, warehouse, destination, people(5, seats={2: "ten", 4: "four"})))
    assert counts_of(run) == RunCounts(source_rows=5, created=3, rejected=2, api_calls=5)
    assert run.status == RunStatus.PARTIALLY_FAILED
    assert outcomes_of(run) == {
        RecordOutcome.REJECTED: {"p2@example.com", "p4@example.com"},
        RecordOutcome.CREATED: {"p1@example.com", "p3@example.com", "p5@example.com"},
    }
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 3


def test_every_record_refused_by_intercom_is_failed_and_alerts(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace, settings
):
    settings.INTERCOM_CLIENT_MAX_ATTEMPTS = 1
    intercom_emulator.set_faults(error_rate=1.0, error_statuses=[503])
    run = run_now(user_sync(workspace, warehouse, destination, people(3)))
    assert counts_of(run) == RunCounts(source_rows=3, rejected=3, api_calls=3)
    assert run.status == RunStatus.FAILED
    assert [m.subject for m in mail.outbox] == [
        f"[Syncline] Sync “{run.sync.name}” failed: 3 of 3 records rejected"
    ]


def test_every_row_invalid_is_failed_and_alerts(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    run = run_now(user_sync(workspace, warehouse, destination, people(3, no_key={1, 2, 3})))
    assert counts_of(run) == RunCounts(source_rows=3, invalid=3)
    assert run.status == RunStatus.FAILED
    assert intercom_emulator.request_count() == 0
    assert [m.subject for m in mail.outbox] == [
        f"[Syncline] Sync “{run.sync.name}” failed: every one of its 3 records is invalid"
    ]


def test_an_error_that_stops_the_run_is_failed(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    run = run_now(user_sync(workspace, warehouse, destination, people(3), sql="SELECT * FROM no_such_table"))
    assert run.status == RunStatus.FAILED and "no_such_table" in run.first_error
    assert counts_of(run) == RunCounts()


def test_update_only_into_an_empty_workspace_is_succeeded_and_lists_each_skipped_record_with_why(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    sync = user_sync(
        workspace, warehouse, destination, people(3), behavior="update_only", identifier="external_id"
    )
    run = run_now(sync)
    assert counts_of(run) == RunCounts(source_rows=3, skipped=3, api_calls=3)  # one lookup each
    assert run.status == RunStatus.SUCCEEDED
    results = RecordResult.objects.for_workspace(workspace).filter(run=run).order_by("key")
    assert [(r.outcome, r.code, r.message) for r in results] == [
        (RecordOutcome.SKIPPED, "not_found", f"Update Only: no Intercom contact with External ID u-{i}.")
        for i in (1, 2, 3)
    ]


def test_a_create_that_finds_the_contact_in_intercom_is_counted_updated(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        for i in (1, 2, 3):
            assert (
                api.post("/contacts", json={"role": "user", "email": f"p{i}@example.com"}).status_code == 200
            )
    run = run_now(user_sync(workspace, warehouse, destination, people(3)))
    counts = counts_of(run)
    assert (counts.created, counts.updated, counts.matched_existing, counts.rejected) == (0, 3, 3, 0)
    assert run.status == RunStatus.SUCCEEDED
    held = intercom_emulator.contacts(intercom_workspace.id_code)
    assert sorted(c["name"] for c in held) == ["Person 1", "Person 2", "Person 3"]  # 3 contacts, updated


# --- one rule table, for the cases no run reaches on its own ---------------------------------------------


@pytest.mark.parametrize(
    ("counts", "error", "cancelled", "status"),
    [
        (RunCounts(), False, False, RunStatus.SUCCEEDED),  # an empty model
        (RunCounts(unchanged=5, skipped=2), False, False, RunStatus.SUCCEEDED),
        (RunCounts(created=1, rejected=1), True, False, RunStatus.FAILED),  # an error wins
        (RunCounts(created=1, rejected=1), False, True, RunStatus.CANCELLED),
        (RunCounts(unchanged=9, rejected=1), False, False, RunStatus.FAILED),  # nothing could be sent
        (RunCounts(invalid=2, rejected=1, updated=1), False, False, RunStatus.PARTIALLY_FAILED),
        (RunCounts(unchanged=3, invalid=1), False, False, RunStatus.SUCCEEDED_WITH_WARNINGS),
        (RunCounts(unchanged=1, warnings=1), False, False, RunStatus.SUCCEEDED_WITH_WARNINGS),
        (RunCounts(drift_checked=5, drift_missing=1), False, False, RunStatus.SUCCEEDED_WITH_WARNINGS),
    ],
)
def test_the_status_rules(counts, error, cancelled, status):
    assert run_status(counts, stopped_by_error=error, cancelled=cancelled) == status


def test_counts_read_old_runs_and_add_up_slices():
    old = RunCounts.from_json({"created": 2, "rejected": "1", "warnings": None, "gone": 4})  # as once stored
    assert old == RunCounts(created=2, rejected=1)
    assert old.to_json()[Tally.MATCHED_EXISTING] == 0 and set(old.to_json()) == set(COUNT_KEYS)
    both = old + RunCounts(updated=3, invalid=1, api_calls=4)
    assert (both.accepted, both.attempted, both.total, both.api_calls) == (5, 6, 7, 4)


# --- one set of counts everywhere ------------------------------------------------------------------------


def test_the_run_page_the_api_and_the_webhook_carry_the_same_counts(
    workspace, owner, owner_client, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    with intercom_emulator.client(intercom_workspace.token) as api:
        api.post("/contacts", json={"role": "user", "email": "p1@example.com"})
    rows = people(6, seats={3: "many"}, no_key={5})
    run = run_now(user_sync(workspace, warehouse, destination, rows))
    assert counts_of(run) == RunCounts(
        source_rows=6, created=3, updated=1, matched_existing=1, invalid=1, rejected=1, api_calls=6
    )

    webhook = run_event_data(run)["counts"]
    _, secret = api_key_create(workspace=workspace, user=owner, name="Airflow")
    answer = owner_client.get(f"/api/v1/sync_runs/{run.pk}", headers={"Authorization": f"Bearer {secret}"})
    api_counts = answer.json()["counts"]
    page = owner_client.get(reverse("run_detail", args=[workspace.slug, run.pk])).content.decode()
    grid = page[page.index('class="count-grid"') :]
    shown = {
        label: int(n.replace(",", ""))
        for n, label in re.findall(r"<strong>([\d,]+)</strong>([^<]+)</div>", grid)
    }
    assert webhook == api_counts == counts_of(run).to_json()
    assert shown == {label: api_counts[key] for key, label in LABELS.items()}
    assert "Of the 1 updated, 1 matched existing contacts" in page
    assert f"{api_counts[Tally.API_CALLS]} Intercom calls" in page


# --- one vocabulary ------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# Where one of these words is not a count key: Intercom's error code and the client's stats (rate_limited),
# the planner's operations, Intercom's message text and attribute fields.
NOT_COUNTS = {
    "apps/api/endpoints.py": {"rate_limited"},
    "apps/connections/intercom/client.py": {"rate_limited", "archived"},
    "apps/syncs/runs/drift.py": {"archived"},  # Intercom's contact field
    "apps/connections/intercom/attributes.py": {"archived"},
    "apps/connections/demo_warehouse.py": {"created"},
    "apps/syncs/engine/plan.py": {"unchanged", "invalid"},
    "apps/syncs/runs/recorder.py": {"rate_limited"},  # the client's stats
    "apps/tenancy/models.py": {"created", "deleted"},  # what an audit event did to an object
}


def test_no_count_key_is_spelled_outside_the_outcomes_module():
    words = "|".join(COUNT_KEYS)
    spelled = re.compile(rf"""["']({words})["']""")
    found = []
    for path in [
        *ROOT.glob("apps/**/*.py"),
        *ROOT.glob("templates/**/*.html"),
        *ROOT.glob("templates/**/*.txt"),
    ]:
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" in name or name == "apps/syncs/engine/outcomes.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for word in spelled.findall(line):
                if word not in NOT_COUNTS.get(name, ()):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_each_outcome_has_a_label_and_a_record_outcome_shares_its_word():
    assert set(Outcome) <= set(LABELS)
    assert {RecordOutcome(o.value) for o in Outcome if o.value in RecordOutcome.values} >= {
        RecordOutcome.INVALID,
        RecordOutcome.REJECTED,
        RecordOutcome.SKIPPED,
    }
