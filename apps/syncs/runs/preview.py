"""The preview: what a run would do now, planned the same way, without sending anything or changing the
ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from apps.connections.sources.base import SourceAdapter
from apps.connections.sources.errors import SourceError
from apps.syncs.engine.outcomes import Outcome, RunCounts, Tally
from apps.syncs.engine.plan import (
    Operation,
    PlannedRecord,
    summarize,
)
from apps.syncs.models import Sync
from apps.syncs.runs.ledger import DbLedger
from apps.syncs.runs.planning import sync_plan
from apps.syncs.runs.recorder import retry_stopped_refusal


@dataclass
class SyncPreview:
    counts: RunCounts  # what a run would count now
    invalid: list[PlannedRecord] = field(default_factory=list)
    samples: dict[str, list[PlannedRecord]] = field(default_factory=dict)
    calls: int = 0
    error: str = ""
    retry_stopped: int = 0  # of the skipped: refused records a user stopped retrying (their row unchanged)


# What each planned operation becomes in a run's counts, when Intercom accepts it.
PLANNED_OUTCOME = {
    Operation.CREATE: Outcome.CREATED, Operation.UPDATE: Outcome.UPDATED,
    Operation.UPDATE_IF_FOUND: Outcome.UPDATED, Operation.ARCHIVE: Outcome.ARCHIVED,
    Operation.DELETE: Outcome.DELETED, Operation.SEND: Outcome.SENT, Operation.SKIP: Outcome.SKIPPED,
    Operation.UNCHANGED: Outcome.UNCHANGED, Operation.INVALID: Outcome.INVALID,
}  # fmt: skip


def sync_preview(
    *,
    workspace,
    sync: Sync,
    full_resync: bool = False,
    sample_size: int = 5,
    adapter: SourceAdapter | None = None,
    progress: Callable[[int], None] | None = None,
) -> SyncPreview:
    """What a run would do now, without sending anything or changing the ledger. `adapter`: the one a
    watch interrupts on Cancel (preview_runs); `progress` is told the rows planned so far, record by
    record (it may raise to stop the plan)."""
    planned_rows = 0
    stopped = DbLedger(sync).retry_stopped()
    left_out = 0

    def planned() -> Iterator[PlannedRecord]:
        nonlocal left_out, planned_rows
        for record in sync_plan(sync=sync, full_resync=full_resync, preview=True, adapter=adapter):
            if progress is not None:
                planned_rows += record.rows
                progress(planned_rows)
            if refusal := retry_stopped_refusal(stopped, record):  # skipped by the run, as by RunRecorder
                left_out += 1
                record = replace(record, operation=Operation.SKIP, reason=refusal)
            yield record

    try:
        summary = summarize(planned(), sample_size=max(sample_size, 20))
    except SourceError as error:
        return SyncPreview(counts=RunCounts(), error=str(error))
    counts = Counter({Tally.SOURCE_ROWS: summary.total})
    for operation, n in summary.counts.items():
        counts[PLANNED_OUTCOME[operation]] += n
    samples: dict[str, list[PlannedRecord]] = {}
    for op, records in summary.samples.items():  # UPDATE and UPDATE_IF_FOUND are both “updated”
        records = [r for r in records if not (op is Operation.SKIP and r.reason)]  # events' skips only
        kept = samples.setdefault(PLANNED_OUTCOME[op], [])
        kept += records[: sample_size - len(kept)]
    return SyncPreview(
        counts=RunCounts.from_json(counts),
        invalid=summary.samples.get(Operation.INVALID, []),
        samples=samples,
        calls=summary.calls,
        retry_stopped=left_out,
    )
