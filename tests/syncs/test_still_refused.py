"""Records Intercom refuses again and again: retried by each run, but "still refused" (the same payload refused
for the same reason) is no new failure. It does not fail a run on its own, it is listed with the run it was
first refused in, the sync page counts it with "Retry now" and "Stop retrying", and alerts fire on a real
change of state only. End to end against the emulator over HTTP."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import LedgerEntry, RecordOutcome, RecordResult, RunStatus, SyncRun
from apps.syncs.runs import services as run_services
from apps.syncs.runs.execute import sync_run_execute
from apps.syncs.runs.ledger import DbLedger
from apps.syncs.runs.recorder import RETRY_STOPPED
from apps.syncs.runs.statuses import run_status
from apps.tenancy.models import Role
from tests.conftest import member_of
from tests.syncs.test_outcomes import COLUMNS, counts_of, people, user_sync

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# Intercom's "seats" is an integer attribute: a row that sends it text is refused, every time.
REFUSED = {1: "ten", 2: "four"}


@pytest.fixture
def run_now(workspace, eager_tasks, django_capture_on_commit_callbacks):
    """Run the sync as a worker would; what its end sets off (alert emails) happens too."""

    def run_now(sync):
        started = run_services.sync_run_start(workspace=workspace, sync=sync, enqueue=False)
        with django_capture_on_commit_callbacks(execute=True):
            return sync_run_execute(run_id=started.pk)

    return run_now


def results_of(run) -> dict[str, tuple[str, str, int | None]]:
    """key → (outcome, code, the run it was first refused in) of the run's listed records."""
    rows = RecordResult.objects.for_workspace(run.workspace).filter(run=run)
    return {key: tuple(rest) for key, *rest in rows.values_list("key", "outcome", "code", "first_refused_in")}


def subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


def test_retrying_the_same_refused_records_alerts_once_and_recovers_once(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace, owner_client
):
    """The flapping sequence of issue 14: a sync whose only work is retrying the same refused records."""
    sync = user_sync(workspace, warehouse, destination, people(3)[2:])  # p3 only
    first = run_now(sync)
    assert (first.status, counts_of(first)) == (
        RunStatus.SUCCEEDED,
        RunCounts(source_rows=1, created=1, api_calls=1),
    )

    # Rows 1 and 2 appear, with a value Intercom refuses: a failure, and one alert.
    warehouse.table("people", COLUMNS, people(3, seats=REFUSED))
    refused = run_now(sync)
    assert counts_of(refused) == RunCounts(source_rows=3, unchanged=1, rejected=2, api_calls=2)
    assert refused.status == RunStatus.FAILED
    name = sync.name
    assert subjects() == [f"[Syncline] Sync “{name}” failed: 2 of 2 records rejected"]
    codes = {code for _, code, _ in results_of(refused).values()}
    assert len(codes) == 1 and "" not in codes  # Intercom's own code
    assert {key: (o, since) for key, (o, _, since) in results_of(refused).items()} == {
        "p1@example.com": (RecordOutcome.REJECTED, None),  # a new refusal
        "p2@example.com": (RecordOutcome.REJECTED, None),
    }

    # Rerun with nothing changed: both retried and refused again for the same reason, still refused.
    again = run_now(sync)
    assert counts_of(again) == RunCounts(
        source_rows=3, unchanged=1, rejected=2, still_rejected=2, api_calls=2
    )
    assert again.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert again.first_error == ""
    assert {key: since for key, (_, _, since) in results_of(again).items()} == {
        "p1@example.com": refused.pk,
        "p2@example.com": refused.pk,
    }
    assert len(mail.outbox) == 1  # no second "failed", no "recovered"

    # The run page lists them with the run they were first refused in.
    page = owner_client.get(reverse("run_detail", args=[workspace.slug, again.pk])).content.decode()
    link = reverse("run_detail", args=[workspace.slug, refused.pk])
    assert page.count(f'first refused in <a href="{link}">run {refused.pk}</a>') == 2
    assert "Of the 2 rejected, 2 were refused before for the same reason (still refused)" in page
    # The sync page counts them, with the two actions.
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    assert "2 records still refused" in page and "Retry now" in page and "Stop retrying" in page

    # One other row changes: it goes through, the refused two stay refused, and nobody hears of a recovery.
    rows = people(3, seats=REFUSED)
    rows[2] = (3, "p3@example.com", "Person Three", "u-3", None)
    warehouse.table("people", COLUMNS, rows)
    changed = run_now(sync)
    assert counts_of(changed) == RunCounts(
        source_rows=3, updated=1, rejected=2, still_rejected=2, api_calls=3
    )
    assert changed.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert len(mail.outbox) == 1

    # The rows are fixed: the two go through, and the sync's one recovery is said once.
    rows[:2] = [(i, f"p{i}@example.com", f"Person {i}", f"u-{i}", None) for i in (1, 2)]
    warehouse.table("people", COLUMNS, rows)
    fixed = run_now(sync)
    assert counts_of(fixed) == RunCounts(source_rows=3, created=2, unchanged=1, api_calls=2)
    assert fixed.status == RunStatus.SUCCEEDED
    assert subjects()[1:] == [f"[Syncline] Sync “{name}” recovered: run {fixed.pk} succeeded"]
    assert run_now(sync).status == RunStatus.SUCCEEDED
    assert len(mail.outbox) == 2

    held = {c["email"]: c["name"] for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert held == {
        "p1@example.com": "Person 1",
        "p2@example.com": "Person 2",
        "p3@example.com": "Person Three",
    }
    assert (
        not LedgerEntry.objects.for_workspace(workspace).filter(sync=sync).exclude(rejected_hash="").exists()
    )


def test_a_changed_row_refused_again_is_a_new_failure(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace
):
    sync = user_sync(workspace, warehouse, destination, people(2, seats={1: "ten"}))
    first = run_now(sync)
    assert (counts_of(first), first.status) == (
        RunCounts(source_rows=2, created=1, rejected=1, api_calls=2),
        RunStatus.PARTIALLY_FAILED,
    )
    warehouse.table("people", COLUMNS, people(2, seats={1: "eleven"}))  # another payload, refused too
    second = run_now(sync)
    assert counts_of(second) == RunCounts(source_rows=2, unchanged=1, rejected=1, api_calls=1)
    assert second.status == RunStatus.FAILED  # nothing went through, and the refusal is new
    assert results_of(second)["p1@example.com"][2] is None
    entry = LedgerEntry.objects.for_workspace(workspace).get(sync=sync, key="p1@example.com")
    assert entry.first_rejected_run_id == second.pk


def test_the_same_payload_refused_with_another_code_is_a_new_refusal(
    workspace, warehouse, destination, run_now
):
    sync = user_sync(workspace, warehouse, destination, people(1))
    one, two = (SyncRun.objects.create(workspace=workspace, sync=sync) for _ in range(2))
    ledger = DbLedger(sync)
    assert ledger.record_rejection("k", "a: no", payload_hash="h", code="a", run_id=one.pk) is None
    assert ledger.record_rejection("k", "a: no", payload_hash="h", code="a", run_id=two.pk) == one.pk
    assert ledger.record_rejection("k", "b: no", payload_hash="h", code="b", run_id=two.pk) is None
    assert ledger.record_rejection("k", "b: no", payload_hash="h2", code="b", run_id=two.pk) is None
    # A failure that was no refusal (5xx, a timeout) has no code: never "still refused", not counted refused.
    assert ledger.record_rejection("k", "http_503: down", payload_hash="h2", run_id=two.pk) is None
    assert ledger.record_rejection("k", "http_503: down", payload_hash="h2", run_id=two.pk) is None
    assert (
        not LedgerEntry.objects.for_workspace(workspace).filter(sync=sync).exclude(rejected_hash="").exists()
    )


def test_an_outage_is_never_still_refused(
    workspace, warehouse, destination, run_now, intercom_emulator, intercom_workspace, settings
):
    settings.INTERCOM_CLIENT_MAX_ATTEMPTS = 1
    intercom_emulator.set_faults(error_rate=1.0, error_statuses=[503])
    sync = user_sync(workspace, warehouse, destination, people(2))
    runs = [run_now(sync), run_now(sync)]
    assert [counts_of(run) for run in runs] == [RunCounts(source_rows=2, rejected=2, api_calls=2)] * 2
    assert [run.status for run in runs] == [RunStatus.FAILED] * 2
    assert len(mail.outbox) == 1  # the failure stays raised: one email


def test_stop_retrying_skips_the_refused_records_until_their_row_changes_and_retry_now_retries_them(
    workspace,
    warehouse,
    destination,
    run_now,
    intercom_emulator,
    intercom_workspace,
    owner_client,
    django_capture_on_commit_callbacks,
):
    sync = user_sync(workspace, warehouse, destination, people(3, seats=REFUSED))
    first = run_now(sync)
    assert counts_of(first) == RunCounts(source_rows=3, created=1, rejected=2, api_calls=3)
    reasons = dict(
        RecordResult.objects.for_workspace(workspace).filter(run=first).values_list("key", "message")
    )
    codes = dict(RecordResult.objects.for_workspace(workspace).filter(run=first).values_list("key", "code"))

    stop = reverse("sync_refused_stop", args=[workspace.slug, sync.pk])
    response = owner_client.post(stop, follow=True)
    assert "Stopped retrying 2 refused records" in response.content.decode()
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    assert "2 refused records not retried" in page and "You stopped retrying them: runs skip each one" in page

    # The preview says what the run will do: nothing to send.
    page = owner_client.get(
        reverse("sync_preview", args=[workspace.slug, sync.pk]), follow=True
    ).content.decode()
    assert "2 refused records skipped: you stopped retrying them" in page
    assert "<strong>0</strong> records will call Intercom" in page

    calls = intercom_emulator.request_count()
    skipped = run_now(sync)
    assert counts_of(skipped) == RunCounts(source_rows=3, unchanged=1, skipped=2)
    assert skipped.status == RunStatus.SUCCEEDED
    assert intercom_emulator.request_count() == calls  # not one call
    listed = RecordResult.objects.for_workspace(workspace).filter(run=skipped)
    assert {r.key: (r.outcome, r.code, r.message) for r in listed} == {
        key: (
            RecordOutcome.SKIPPED,
            RETRY_STOPPED,
            f"Stopped retrying after Intercom refused it: {codes[key]}: {reasons[key]}",
        )
        for key in ("p1@example.com", "p2@example.com")
    }

    # Row 2 changes (another payload): sent again, and refused anew; row 1 is still left out.
    warehouse.table("people", COLUMNS, people(3, seats={1: "ten", 2: "five"}))
    changed = run_now(sync)
    assert counts_of(changed) == RunCounts(source_rows=3, unchanged=1, skipped=1, rejected=1, api_calls=1)
    assert results_of(changed)["p2@example.com"] == (RecordOutcome.REJECTED, codes["p2@example.com"], None)
    page = owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()
    assert (
        "1 record still refused" in page and "1 more refused record no longer retried: runs skip it" in page
    )

    # Retry now: a run that retries both, row 1 too; refused for the same reasons, both still refused.
    retry = reverse("sync_refused_retry", args=[workspace.slug, sync.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(retry)
    assert response.status_code == 302
    retried = sync.runs.order_by("-id").first()
    retried.refresh_from_db()
    assert counts_of(retried) == RunCounts(
        source_rows=3, unchanged=1, rejected=2, still_rejected=2, api_calls=2
    )
    assert retried.status == RunStatus.SUCCEEDED_WITH_WARNINGS
    assert {key: since for key, (_, _, since) in results_of(retried).items()} == {
        "p1@example.com": first.pk,
        "p2@example.com": changed.pk,
    }
    assert len(intercom_emulator.contacts(intercom_workspace.id_code)) == 1


@pytest.mark.parametrize("name", ["sync_refused_stop", "sync_refused_retry"])
def test_only_editors_act_on_refused_records(client, workspace, warehouse, destination, name):
    sync = user_sync(workspace, warehouse, destination, people(1))
    client.force_login(member_of(workspace, Role.VIEWER).user)
    assert client.post(reverse(name, args=[workspace.slug, sync.pk])).status_code == 403
    assert client.get(reverse(name, args=[workspace.slug, sync.pk])).status_code == 405
    assert not sync.runs.exists()


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        (RunCounts(unchanged=1, rejected=2, still_rejected=2), RunStatus.SUCCEEDED_WITH_WARNINGS),
        (RunCounts(rejected=2, still_rejected=2), RunStatus.SUCCEEDED_WITH_WARNINGS),
        (RunCounts(rejected=3, still_rejected=2), RunStatus.FAILED),  # one new refusal, nothing through
        (RunCounts(updated=1, rejected=3, still_rejected=2), RunStatus.PARTIALLY_FAILED),
        (RunCounts(updated=1, rejected=2, still_rejected=2), RunStatus.SUCCEEDED_WITH_WARNINGS),
    ],
)
def test_still_refused_records_only_warn(counts, status):
    assert run_status(counts) == status
