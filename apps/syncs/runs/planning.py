"""What a run (or a preview) will do: the model's rows read from the warehouse and planned against the
sync's ledger (`sync_plan`), the fingerprint path where the warehouse can compute fingerprints."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings

from apps.connections.services import source_adapter
from apps.connections.sources.base import FingerprintedRead, FingerprintSpec, SourceAdapter
from apps.connections.sources.errors import SourceError
from apps.syncs.engine.config import SyncConfig
from apps.syncs.engine.plan import (
    PlannedRecord,
    duplicate_keys,
    fingerprint_columns,
    fingerprint_salt,
    plan,
    plan_by_fingerprint,
    unchanged_rows,
    uses_fingerprints,
)
from apps.syncs.models import Sync
from apps.syncs.runs.ledger import DbLedger
from apps.syncs.runs.statuses import COMPLETED

_END = object()
T = TypeVar("T")


def sync_extract(
    *, sync: Sync, adapter: SourceAdapter | None = None
) -> tuple[list[str], Iterator[list[tuple]]]:
    """The model's columns and its rows in batches, streamed from the warehouse."""
    adapter = adapter or source_adapter(sync.model.source)
    stream = iter(adapter.stream(sync.model.sql, batch_size=settings.SYNC_BATCH_SIZE))
    first = next(stream, None)
    if first is None:
        return sync.model.column_names, iter(())
    columns = [c.name for c in first.columns]
    return columns, (batch.rows for batch in itertools.chain([first], stream))


def _is_first_run(sync: Sync) -> bool:
    if sync.pk is None:  # an unsaved sync (the wizard's draft) has never run
        return True
    return not sync.runs.filter(status__in=COMPLETED).exists()


def sync_plan(
    *, sync: Sync, full_resync: bool, preview: bool = False, adapter: SourceAdapter | None = None
) -> Iterator[PlannedRecord]:
    """The plan of a run (or of a preview: the same plan, so the same counts).

    Where the warehouse can fingerprint rows, a rerun first asks whether the model's (key, fingerprint)
    pairs are the ledger's as a whole (then every row is unchanged, one record says so), else reads the
    pairs and then only the rows that changed (engine.plan's docstring); otherwise, and on first runs and
    full resyncs, every row. A run passes its own `adapter`, the one its watch interrupts on Cancel.
    """
    config = sync.config
    # NULLs that keep Intercom's value plan over the last accepted payloads, in runs as in previews.
    ledger = DbLedger(sync, with_payloads=preview or config.needs_previous_payloads)
    first_run = _is_first_run(sync)
    adapter = adapter or source_adapter(sync.model.source)
    if getattr(adapter, "fingerprints", False) and uses_fingerprints(config):
        described = [(column.name, column.db_type) for column in adapter.describe(sync.model.sql)]
        _check_columns(config, [name for name, _ in described])
        spec = _fingerprint_spec(config, described)
        if spec is not None:
            columns = [name for name, _ in described]
            opened = adapter.fingerprinted(sync.model.sql, spec)
            return _plan_fingerprinted(
                opened, columns, config, ledger, full_resync=full_resync, first_run=first_run
            )
    # Two reads of the model: its keys first (a key in several rows makes each of them invalid, whatever
    # their order), then its rows.
    columns, batches = sync_extract(sync=sync, adapter=adapter)
    _check_columns(config, columns)
    key_index = columns.index(config.sync_key.column)
    duplicates = duplicate_keys(([row[key_index] for row in batch] for batch in batches), config)
    columns, batches = sync_extract(sync=sync, adapter=adapter)
    return plan(
        batches, columns, config, ledger, duplicates=duplicates, full_resync=full_resync, first_run=first_run
    )


class ModelColumnsChanged(SourceError):
    """The model no longer has a column the sync reads: its SQL changed after the sync was saved."""


def _check_columns(config: SyncConfig, columns: list[str]) -> None:
    """Refuse to plan when the model no longer has a column the sync reads (its SQL changed since the sync
    was saved): every row would be wrong, so the run fails before reading them, saying which column."""
    if problems := config.validate(columns):
        raise ModelColumnsChanged(
            f"The model's columns no longer fit this sync: {' '.join(problem.message for problem in problems)} "
            "Edit the sync's mappings, or put the column back in the model."
        )


def _fingerprint_spec(config: SyncConfig, described: list[tuple[str, str]]) -> FingerprintSpec | None:
    """What the warehouse fingerprints, salted with the sync's configuration and the columns' types;
    None when the model's columns cannot be named one by one (two columns with the same name)."""
    types = dict(described)
    columns = fingerprint_columns(config)
    if len(types) != len(described) or not set(columns) <= set(types):
        return None
    salt = fingerprint_salt(config, [(name, types[name]) for name in columns])
    return FingerprintSpec(key_column=config.sync_key.column, columns=columns, salt=salt)


def _plan_fingerprinted(
    opened, columns: list[str], config: SyncConfig, ledger: DbLedger, *, full_resync: bool, first_run: bool
) -> Iterator[PlannedRecord]:
    batch_size = settings.SYNC_BATCH_SIZE
    with opened as read:

        def rows_of(only):
            return (batch.rows for batch in read.rows(batch_size, only))

        def duplicates():  # the keys first: see `plan`
            return duplicate_keys((batch.values for batch in read.keys(batch_size * 4)), config)

        if first_run or full_resync:  # nothing to skip: read every row, with the fingerprint to store
            yield from plan(
                rows_of(None),
                columns,
                config,
                ledger,
                duplicates=duplicates(),
                full_resync=full_resync,
                first_run=first_run,
                fingerprinted=True,
            )
        elif unchanged := unchanged_as_a_whole(read, ledger):
            yield unchanged_rows(unchanged)
        else:  # two short values a row: bigger batches, read while the ones before are planned
            with ReadAhead(read.keys(batch_size * 4)) as pairs:
                yield from plan_by_fingerprint(pairs, rows_of, columns, config, ledger)


def unchanged_as_a_whole(read: FingerprintedRead, ledger: DbLedger) -> int:
    """How many rows the model has when every one of them is unchanged, else 0: one aggregate query on
    each side, at once. The model's (key, fingerprint) pairs, with no NULL key, are exactly the pairs of
    the ledger's accepted, unrejected records (so no key is duplicated: the ledger has each key once):
    each row's fingerprint is the one the ledger keeps for its key. A fingerprint covers the key's value too, so the key the planner would
    derive from the row is the ledger's, and the pairs' digest can be the fingerprints' digest. Any
    difference (a row changed, added or removed, a duplicate or NULL key, a rejection to retry, a changed
    configuration: new fingerprints) leaves it to the row-by-row plan."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest") as pool:
        model = pool.submit(read.digest)  # the warehouse and the app database work at once
        stored = ledger.unchanged_digest()
        digest = model.result()
    if stored is not None and stored.rows and digest.rows == digest.keys and digest == stored:
        return digest.rows
    return 0


class ReadAhead(Iterator[T]):
    """The batches, read by a thread up to `depth` ahead of the caller from the moment it is made: the
    warehouse computes a rerun's pairs while the ledger's fingerprints are read, and the next batches
    while this one is planned. The read's error is raised in the caller's thread; `close` (a caller that
    stops early) stops the thread after the batch it is reading, and the read is closed in that thread."""

    def __init__(self, batches: Iterable[T], depth: int = 8) -> None:
        self._ready: queue.Queue = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(batches,), name="read-ahead", daemon=True)
        self._thread.start()

    def _hand_over(self, item) -> bool:
        while not self._stopped.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, batches: Iterable[T]) -> None:  # the stream, dropped when this returns, is closed here
        try:
            for batch in batches:
                if not self._hand_over((batch, None)):
                    return
            self._hand_over((_END, None))
        except BaseException as error:  # raised in the caller's thread
            self._hand_over((_END, error))

    def __next__(self) -> T:
        if self._stopped.is_set():
            raise StopIteration
        batch, error = self._ready.get()
        if batch is _END:
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return batch

    def close(self) -> None:
        self._stopped.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
