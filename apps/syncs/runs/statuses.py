"""How a run ends: its status follows from its counts by the rules below, and nowhere else.

The README's "Run statuses" table says the same for users; a test runs each rule end to end.
"""

from __future__ import annotations

from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.models import RunStatus

# Runs that read the whole model and got records through: a sync that has one is past its first run, and
# its rows read are the yardstick of the next run's progress.
COMPLETED = (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS, RunStatus.PARTIALLY_FAILED)
# Runs after which the records are in Intercom as asked: sequences go on, webhooks say run.succeeded.
SUCCEEDED = (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS)
# Runs that need someone's attention (the home page's failing syncs).
FAILED = (RunStatus.FAILED, RunStatus.PARTIALLY_FAILED)


def run_status(counts: RunCounts, *, stopped_by_error: bool = False, cancelled: bool = False) -> RunStatus:
    """The status a run ends with. The first rule that holds decides:

    ==================================================  =======================  ================================
    When                                                Status                   e.g.
    ==================================================  =======================  ================================
    an error stopped the run                            Failed                   warehouse down, token revoked
    a user cancelled it                                 Cancelled
    Intercom refused new records and took none          Failed                   0 accepted, 2,000 rejected
    every record read was invalid                       Failed                   no row has a key
    Intercom refused new records and took others        Partially failed         1,990 updated, 10 rejected
    some rows invalid, the others went through          Succeeded with warnings  1,995 created, 5 invalid
    a record went through with a warning                Succeeded with warnings  saved; company not attached yet
    the only refusals are records still refused         Succeeded with warnings  2 rejected, both still refused
    records checked in Intercom were missing there      Succeeded with warnings  drift: 3 of 5 sampled missing
    otherwise                                           Succeeded                all unchanged; an empty model
    ==================================================  =======================  ================================

    A record "still refused" is one Intercom refused before, the same payload for the same reason
    (`Tally.STILL_REJECTED`): each run retries it, and listing it again is no new failure, so the rules
    read the newly rejected records (`RunCounts.newly_rejected`), and still refused ones only warn.

    Skipped records (Update Only and no such contact; nothing to remove) are the behavior's choice, not a
    failure: they change no status. Invalid rows beside records that went through are listed on the run
    and leave it succeeded, with warnings (as Census shows them). So does drift (records of the ledger
    checked in Intercom and missing there: the records counted unchanged may be missing too)."""
    if stopped_by_error:
        return RunStatus.FAILED
    if cancelled:
        return RunStatus.CANCELLED
    if counts.newly_rejected and not counts.accepted:
        return RunStatus.FAILED
    if counts.invalid and counts.invalid == counts.total:
        return RunStatus.FAILED
    if counts.newly_rejected:
        return RunStatus.PARTIALLY_FAILED
    if counts.invalid or counts.warnings or counts.still_rejected or counts.drift_missing:
        return RunStatus.SUCCEEDED_WITH_WARNINGS
    return RunStatus.SUCCEEDED
