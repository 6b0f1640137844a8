"""End to end on PostgreSQL, MariaDB and DuckDB models: a rerun planned by fingerprint plans what reading
every row plans (a row changed, one added, one removed, a duplicate key, a NULL key, a changed
configuration), the preview says what the run then does, and a rerun without changes makes no call."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

import duckdb
import psycopg
import pymysql
import pytest

from apps.connections.sources import duckdb as duckdb_source
from apps.connections.sources import mysql, postgres
from apps.connections.sources.base import FINGERPRINT
from apps.syncs import services
from apps.syncs.engine.outcomes import RunCounts
from apps.syncs.engine.plan import plan
from apps.syncs.models import LedgerEntry
from apps.syncs.runs import planning
from apps.syncs.runs.ledger import DbLedger
from apps.syncs.runs.planning import sync_extract, sync_plan
from apps.syncs.runs.preview import sync_preview
from tests.factories import SourceConnectionFactory, SqlModelFactory
from tests.fixtures.migrations import apply_migration_again
from tests.fixtures.syncs import m, make_sync
from tests.syncs.test_runs import run

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

COLUMNS = ["id", "email", "name", "plan", "seats"]
ROWS = [
    (1, "ada@example.com", "Ada", "pro", 3),
    (2, "alan@example.com", "Alan", "free", None),
    (3, "grace@example.com", "Grace", "team", 12),
]


class PostgresPeople:
    type = "postgres"

    def __init__(self):
        self.database = f"syncline_fp_test_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self.config = {"host": "127.0.0.1", "port": 5432, "database": self.database, "user": "postgres",
                       "sslmode": "disable"}  # fmt: skip

    def write(self, rows):
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={self.database}") as conn:
            conn.execute("DROP TABLE IF EXISTS people")
            conn.execute("CREATE TABLE people (id int, email text, name text, plan text, seats int)")
            with conn.cursor().copy("COPY people FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def drop(self):
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


class MariaDbPeople:
    type = "mysql"

    def __init__(self):
        self.database = f"syncline_fp_test_{uuid.uuid4().hex[:8]}"
        self._execute(f"CREATE DATABASE `{self.database}`")
        self.config = {"host": "127.0.0.1", "port": 3306, "database": self.database, "user": "root"}

    def _execute(self, sql, rows=None):
        conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        try:
            with conn.cursor() as cursor:
                cursor.executemany(sql, rows) if rows is not None else cursor.execute(sql)
        finally:
            conn.close()

    def write(self, rows):
        self._execute(f"DROP TABLE IF EXISTS `{self.database}`.people")
        self._execute(
            f"CREATE TABLE `{self.database}`.people (id int, email varchar(100), name varchar(100), "
            "plan varchar(20), seats int) ENGINE=InnoDB"
        )
        self._execute(f"INSERT INTO `{self.database}`.people VALUES (%s, %s, %s, %s, %s)", rows)  # noqa: S608

    def drop(self):
        self._execute(f"DROP DATABASE IF EXISTS `{self.database}`")


class DuckDbPeople:
    type = "duckdb"

    def __init__(self, path):
        self.path = path
        self.config = {"path": str(path)}

    def write(self, rows):
        with duckdb.connect(str(self.path)) as conn:
            conn.execute(
                "CREATE OR REPLACE TABLE people (id INTEGER, email VARCHAR, name VARCHAR, plan VARCHAR, "
                "seats INTEGER)"
            )
            conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?)", rows)

    def drop(self):
        pass


@pytest.fixture(params=["postgres", "mariadb", "duckdb"])
def people(request, tmp_path):
    database = {"postgres": PostgresPeople, "mariadb": MariaDbPeople}.get(request.param)
    database = database() if database else DuckDbPeople(tmp_path / "people.duckdb")
    yield database
    database.drop()


MAPPINGS = [m("name", "string", "name"), m("plan", "string", "plan", custom=True),
            m("seats", "integer", "seats", custom=True)]  # fmt: skip


def people_sync(people, workspace, destination):
    """The people table holding ROWS, its model, and a User sync of it keyed by email."""
    people.write(ROWS)
    source = SourceConnectionFactory(workspace=workspace, type=people.type, config=people.config)
    model = SqlModelFactory(
        workspace=workspace,
        source=source,
        sql="SELECT * FROM people",
        primary_key="email",
        columns=[{"name": c, "db_type": "", "kind": "string"} for c in COLUMNS],
    )
    sync = make_sync(
        workspace,
        model,
        destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=MAPPINGS,
    )
    return model, sync


def every_row_plan(sync):
    """The plan as it was made before fingerprints: every row read and built."""
    columns, batches = sync_extract(sync=sync)
    config = sync.config
    return plan(list(batches), columns, config, DbLedger(sync, with_payloads=True))


def outcome(records) -> Counter:
    """How many rows are unchanged (the fingerprinted plan counts them without building them, as one
    record); every other record in full."""
    out: Counter = Counter()
    for r in records:
        if r.operation == "unchanged":
            out["unchanged rows"] += r.rows
        else:
            out[
                (
                    r.key,
                    r.operation,
                    repr(r.payload),
                    r.payload_hash,
                    r.destination_id,
                    repr(r.changes),
                    r.reason,
                )
            ] += 1
    return out


def test_reruns_by_fingerprint_plan_what_reading_every_row_plans(
    people, workspace, destination, intercom_emulator, intercom_workspace
):
    model, sync = people_sync(people, workspace, destination)
    first = run(workspace, sync)
    assert (first.counts["created"], first.counts["rejected"]) == (3, 0), first.first_error

    calls = intercom_emulator.request_count()
    assert sync_preview(workspace=workspace, sync=sync).counts == RunCounts(source_rows=3, unchanged=3)
    rerun = run(workspace, sync)
    assert rerun.counts["unchanged"] == 3 and intercom_emulator.request_count() == calls

    # Alan changed, Grace removed, Linus added; a key in two rows and a row without a key.
    people.write(
        [
            ROWS[0],
            (2, "alan@example.com", "Alan", "pro", 1),
            (4, "linus@example.com", "Linus", None, 2),
            (5, "marie@example.com", "Marie", "free", 1),
            (6, None, "Nobody", "free", 1),
            (7, "Marie@Example.com", "Marie C.", "free", 1),
        ]
    )
    assert outcome(sync_plan(sync=sync, full_resync=False, preview=True)) == outcome(every_row_plan(sync))
    preview = sync_preview(workspace=workspace, sync=sync)
    assert preview.counts == RunCounts(source_rows=6, unchanged=1, updated=1, created=1, invalid=3)
    changed = run(workspace, sync)
    assert RunCounts.from_json(changed.counts) == replace(
        preview.counts, api_calls=changed.counts["api_calls"], rate_limited=changed.counts["rate_limited"]
    )
    state = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert state["alan@example.com"]["custom_attributes"]["plan"] == "pro"
    assert state["linus@example.com"]["name"] == "Linus"

    # A changed configuration changes every payload: every valid row is read and updated.
    sync = services.sync_save(
        workspace=workspace,
        user=None,
        name=sync.name,
        model=model,
        destination=destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[*MAPPINGS[:2], m("seats", "integer", constant=7, custom=True)],
        options={},
        sync=sync,
    )
    assert outcome(sync_plan(sync=sync, full_resync=False, preview=True)) == outcome(every_row_plan(sync))
    assert run(workspace, sync).counts["updated"] == 3

    # Mappings reordered: new fingerprints, same payloads. No call; the next rerun skips every row again.
    sync = services.sync_save(
        workspace=workspace,
        user=None,
        name=sync.name,
        model=model,
        destination=destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[m("seats", "integer", constant=7, custom=True), *MAPPINGS[:2]],
        options={},
        sync=sync,
    )
    ledger = DbLedger(sync)
    before = row_hashes(ledger, ["ada@example.com", "alan@example.com", "linus@example.com"])
    calls = intercom_emulator.request_count()
    reordered = run(workspace, sync)
    assert reordered.counts["unchanged"] == 3 and intercom_emulator.request_count() == calls
    after = row_hashes(ledger, list(before))
    assert len(after) == 3 and not set(after.values()) & set(before.values())
    records = list(sync_plan(sync=sync, full_resync=False))
    assert [(r.rows, r.payload) for r in records if r.operation == "unchanged"] == [(3, None)]  # none rebuilt


DIRTY = [
    (1, "ada@example.com", "<b>Ada</b>", "=SUM(A1)", 2147483647),
    (2, " Grace.Hopper+tag@Example.COM ", "Grace 🚀 Zoë", None, -2147483648),
    (3, "linus@example.com", None, "'; DROP TABLE x;--", None),
    (4, None, "Nobody", None, None),
    (5, "not-an-email", "X", "free", 1),
]


def test_a_dirty_rerun_whose_duplicates_hide_among_unchanged_rows_sends_nothing_and_says_so(
    people, workspace, destination, intercom_emulator, intercom_workspace
):
    """HTML, formulas, extreme integers, odd emails and NULLs; then a rerun where an unchanged row comes
    twice and another unchanged row's key comes again, in another case, with other values: every row of
    those keys is invalid (the first pass never reads an unchanged row's key), and Intercom keeps what it had."""
    model, sync = people_sync(people, workspace, destination)
    people.write(DIRTY)
    first = run(workspace, sync)
    assert (first.counts["created"], first.counts["invalid"]) == (3, 2), first.first_error
    before = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert before["ada@example.com"]["name"] == "<b>Ada</b>"
    assert before["ada@example.com"]["custom_attributes"]["plan"] == "=SUM(A1)"

    people.write([*DIRTY, DIRTY[0], (6, "GRACE.HOPPER+TAG@example.com", "Someone else", "pro", 0)])
    assert outcome(sync_plan(sync=sync, full_resync=False, preview=True)) == outcome(every_row_plan(sync))
    preview = sync_preview(workspace=workspace, sync=sync)
    assert preview.counts == RunCounts(source_rows=7, unchanged=1, invalid=6)
    calls = intercom_emulator.request_count()
    rerun = run(workspace, sync)
    assert RunCounts.from_json(rerun.counts) == replace(
        preview.counts, api_calls=rerun.counts["api_calls"], rate_limited=rerun.counts["rate_limited"]
    )
    assert intercom_emulator.request_count() == calls  # nothing sent
    after = {c["email"]: c for c in intercom_emulator.contacts(intercom_workspace.id_code)}
    assert after == before
    reasons = Counter(rerun.record_results.filter(outcome="invalid").values_list("message", flat=True))
    assert sum(n for reason, n in reasons.items() if "appears in 2 rows" in (reason or "")) == 4


@pytest.fixture
def reads(monkeypatch):
    """Counts the row-by-row reads of fingerprinted models ((key, fingerprint) pairs, full rows)."""
    made = Counter()
    for read in (postgres._FingerprintedRead, mysql._FingerprintedRead, duckdb_source._FingerprintedRead):
        for name in ("keys", "rows"):
            monkeypatch.setattr(read, name, _counting(getattr(read, name), name, made))
    return made


def _counting(method, name, made):
    def counted(self, *args, **kwargs):
        made[name] += 1
        return method(self, *args, **kwargs)

    return counted


def row_by_row_counts(sync, monkeypatch):
    """The preview's counts when the model is planned row by row, as before the shortcut."""
    with monkeypatch.context() as patched:
        patched.setattr(planning, "unchanged_as_a_whole", lambda read, ledger: 0)
        return sync_preview(workspace=sync.workspace, sync=sync).counts


@pytest.mark.postgres_only(
    reason="the ledger's digest of unchanged pairs is computed by PostgreSQL (DbLedger.unchanged_digest); on SQLite every rerun is planned row by row"
)
def test_a_rerun_of_an_unchanged_model_is_proven_unchanged_in_two_queries(
    people, workspace, destination, intercom_emulator, reads, monkeypatch
):
    model, sync = people_sync(people, workspace, destination)
    assert run(workspace, sync).counts["created"] == 3

    # No change: one record for the three rows, and neither the pairs nor the rows were read.
    reads.clear()
    assert [(r.operation, r.rows) for r in sync_plan(sync=sync, full_resync=False)] == [("unchanged", 3)]
    preview = sync_preview(workspace=workspace, sync=sync)
    assert not reads
    assert preview.counts == row_by_row_counts(sync, monkeypatch) == RunCounts(source_rows=3, unchanged=3)
    assert reads["keys"] == 1  # the row-by-row plan reads the pairs, once: duplicates and fingerprints
    calls, reads_before = intercom_emulator.request_count(), sum(reads.values())
    rerun = run(workspace, sync)
    assert (rerun.status, rerun.counts["source_rows"], rerun.counts["unchanged"]) == ("succeeded", 3, 3)
    assert intercom_emulator.request_count() == calls and sum(reads.values()) == reads_before

    def falls_through(expected):
        reads.clear()
        counts = sync_preview(workspace=workspace, sync=sync).counts
        assert reads["keys"] == 1, "planned row by row: not proven unchanged as a whole"
        assert counts == row_by_row_counts(sync, monkeypatch) == RunCounts.from_json(expected)

    changed = (2, "alan@example.com", "Alan", "pro", None)
    people.write([ROWS[0], changed, ROWS[2]])
    falls_through({"source_rows": 3, "unchanged": 2, "updated": 1})
    people.write([*ROWS, (4, "linus@example.com", "Linus", None, 2)])
    falls_through({"source_rows": 4, "unchanged": 3, "created": 1})
    people.write(ROWS[:2])
    falls_through({"source_rows": 2, "unchanged": 2})
    people.write([ROWS[0], ROWS[1], ROWS[0]])  # as many rows as the ledger has, one key twice
    falls_through({"source_rows": 3, "unchanged": 1, "invalid": 2})
    people.write([ROWS[0], ROWS[1], (3, None, "Grace", "team", 12)])
    falls_through({"source_rows": 3, "unchanged": 2, "invalid": 1})

    people.write(ROWS)
    ledger = DbLedger(sync)
    ledger.record_rejection("alan@example.com", "400: try again")
    falls_through({"source_rows": 3, "unchanged": 3})
    ledger.record_accepted(
        "alan@example.com",
        payload_hash=ledger.get_many(["alan@example.com"])["alan@example.com"].payload_hash,
        destination_id=None,
        row_hash=row_hashes(ledger, ["alan@example.com"])["alan@example.com"],
    )
    reads.clear()
    assert sync_preview(workspace=workspace, sync=sync).counts == RunCounts(source_rows=3, unchanged=3)
    assert not reads

    sync = services.sync_save(
        workspace=workspace,
        user=None,
        name=sync.name,
        model=model,
        destination=destination,
        object_key="user",
        behavior="upsert",
        key_column="email",
        key_identifier="email",
        mappings=[*MAPPINGS[:2], m("seats", "integer", constant=7, custom=True)],
        options={},
        sync=sync,
    )
    falls_through({"source_rows": 3, "updated": 3})


@pytest.mark.postgres_only(
    reason="the ledger's digest of unchanged pairs is computed by PostgreSQL (DbLedger.unchanged_digest); on SQLite every rerun is planned row by row"
)
def test_fingerprints_stored_as_md5s_by_earlier_versions_cost_one_read_and_no_call(
    people, workspace, destination, intercom_emulator, reads
):
    """Before fingerprints were integers the ledger kept md5s in hex. Migration 0008 forgets them: the
    next run reads every row, sends nothing and stores the new fingerprints; the run after it is proven
    unchanged as a whole again."""
    _, sync = people_sync(people, workspace, destination)
    assert run(workspace, sync).counts["created"] == 3
    entries = LedgerEntry.objects.for_workspace(workspace).filter(sync=sync)
    entries.update(row_hash="0123456789abcdef0123456789abcdef")

    apply_migration_again("syncs", "0008_fingerprints_as_integers")
    assert set(entries.values_list("row_hash", flat=True)) == {""}

    calls = intercom_emulator.request_count()
    reads.clear()
    assert run(workspace, sync).counts["unchanged"] == 3
    assert reads["rows"] == 1 and intercom_emulator.request_count() == calls
    assert all(FINGERPRINT.fullmatch(value) for value in entries.values_list("row_hash", flat=True))
    reads.clear()
    assert [(r.operation, r.rows) for r in sync_plan(sync=sync, full_resync=False)] == [("unchanged", 3)]
    assert not reads

    # An older worker still finishing a run during the upgrade stores an md5 after the migration ran.
    entries.filter(key="ada@example.com").update(row_hash="0123456789abcdef0123456789abcdef")
    rerun = run(workspace, sync)
    assert (rerun.status, rerun.counts["unchanged"]) == ("succeeded", 3), rerun.first_error
    assert intercom_emulator.request_count() == calls
    assert FINGERPRINT.fullmatch(entries.get(key="ada@example.com").row_hash)


def row_hashes(ledger: DbLedger, keys: list[str]) -> dict[str, str]:
    return {key: entry.row_hash for key, entry in ledger.get_many(keys).items() if entry.row_hash}
