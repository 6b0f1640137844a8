"""Fingerprinted reads on each real database: the database computes the fingerprints, they tell values
apart, cover only the columns asked for, change with the salt, and pick rows out by fingerprint."""

from __future__ import annotations

import threading
import time

import pytest

from apps.connections.sources import postgres
from apps.connections.sources.base import FINGERPRINT, FingerprintSpec, PairDigest
from apps.connections.sources.errors import QueryInterrupted, UnsafeQueryError

# NULL, '', 'NULL' and 'a,b' must all fingerprint differently; rows 1 and 6 differ only in b.
SQL = (
    "SELECT 1 AS k, 'a' AS a, 'x' AS b UNION ALL SELECT 2, '', 'x' UNION ALL SELECT 3, NULL, 'x' "
    "UNION ALL SELECT 4, 'NULL', 'x' UNION ALL SELECT 5, 'a,b', 'x' UNION ALL SELECT 6, 'a', 'y'"
)


def read_all(source, spec: FingerprintSpec, only=None):
    with source.fingerprinted(SQL + " -- a trailing comment", spec) as read:
        keys = dict(pair for batch in read.keys(batch_size=2) for pair in batch)
        rows = [row for batch in read.rows(batch_size=2, only=only) for row in batch.rows]
    return keys, sorted(rows)


def test_fingerprints_tell_values_apart_and_cover_only_their_columns(backend):
    source = backend.make_source()
    keys, rows = read_all(source, FingerprintSpec("k", ("a",), "0a"))

    assert set(keys) == {1, 2, 3, 4, 5, 6}
    assert all(FINGERPRINT.fullmatch(fingerprint) for fingerprint in keys.values())
    assert len({keys[k] for k in (1, 2, 3, 4, 5)}) == 5  # 'a', '', NULL, 'NULL', 'a,b'
    assert keys[6] == keys[1]  # b is not fingerprinted
    assert [(row[0], row[-1]) for row in rows] == sorted(keys.items())  # the same fingerprint on both passes
    assert [row[:3] for row in rows][2] == (3, None, "x")

    with_b, _ = read_all(source, FingerprintSpec("k", ("a", "b"), "0a"))
    assert with_b[6] != with_b[1]
    salted, _ = read_all(source, FingerprintSpec("k", ("a",), "0b"))
    assert not set(salted.values()) & set(keys.values())


def test_rows_are_picked_out_by_fingerprint(backend):
    source = backend.make_source()
    spec = FingerprintSpec("k", ("k", "a", "b"), "1")
    keys, _ = read_all(source, spec)

    _, rows = read_all(source, spec, only=[(2, keys[2]), (5, keys[5])])

    assert [row[0] for row in rows] == [2, 5]
    _, none = read_all(source, spec, only=[])
    assert none == []


def test_user_sql_is_still_checked(backend):
    with pytest.raises(UnsafeQueryError):
        backend.make_source().fingerprinted("DELETE FROM canary", FingerprintSpec("id", ("id",), "1"))
    assert len(backend.read_canary()) == 3
    with pytest.raises(ValueError, match="hex"):
        FingerprintSpec("id", ("id",), "1'); DROP TABLE canary; --")


def test_the_digest_adds_up_the_fingerprints_the_keys_pass_gives(backend):
    """The ledger's digest sums the fingerprints it stored as text: the database's digest must be the
    same sum of the same numbers."""
    spec = FingerprintSpec("k", ("k", "a", "b"), "2")
    with backend.make_source().fingerprinted(SQL, spec) as read:
        keys = dict(pair for batch in read.keys(batch_size=10) for pair in batch)
        digest = read.digest()

    assert digest == PairDigest(rows=6, keys=6, total=sum(int(value) for value in keys.values()))


def test_a_postgresql_server_older_than_11_fingerprints_with_md5(pg_backend, monkeypatch):
    """hashtextextended came with PostgreSQL 11: an older server gets the md5 form, and the passes and
    the digest still agree (this server is made to look old)."""
    spec = FingerprintSpec("k", ("k", "a", "b"), "3")
    current, _ = read_all(pg_backend.make_source(), spec)
    monkeypatch.setattr(postgres, "HASHTEXTEXTENDED_SINCE", 10**9)
    source = pg_backend.make_source()
    with source.fingerprinted(SQL, spec) as read:
        keys = dict(pair for batch in read.keys(batch_size=10) for pair in batch)
        digest = read.digest()
        only = [(2, keys[2]), (5, keys[5])]
        picked = [row[0] for batch in read.rows(batch_size=10, only=only) for row in batch.rows]

    assert source.md5_fingerprints and all(0 <= int(value) < 2**60 for value in keys.values())
    assert not set(keys.values()) & set(current.values())
    assert digest == PairDigest(rows=6, keys=6, total=sum(int(value) for value in keys.values()))
    assert sorted(picked) == [2, 5]


# Pairs of rows a hash could mistake for one another: numbers equal but written differently, a float's
# sign of zero, text that differs in case only or in trailing spaces, JSON (no hash of its own), times.
SUBTLE = """
SELECT * FROM (VALUES
  (1, 1.0::numeric, 0.0::float8, 'Ada'::text, '{"a": 1}'::json, interval '1 day', 'x'::varchar, now()::date),
  (2, 1.00::numeric, 0.0::float8, 'Ada'::text, '{"a": 1}'::json, interval '1 day', 'x'::varchar, now()::date),
  (3, 1.0::numeric, '-0'::float8, 'Ada'::text, '{"a": 1}'::json, interval '1 day', 'x'::varchar, now()::date),
  (4, 1.0::numeric, 0.0::float8, 'ada'::text, '{"a": 1}'::json, interval '1 day', 'x'::varchar, now()::date),
  (5, 1.0::numeric, 0.0::float8, 'Ada'::text, '{"a":1}'::json, interval '1 day', 'x'::varchar, now()::date),
  (6, 1.0::numeric, 0.0::float8, 'Ada'::text, '{"a": 1}'::json, interval '24 hours', 'x'::varchar, now()::date),
  (7, 1.0::numeric, 0.0::float8, 'Ada'::text, '{"a": 1}'::json, interval '1 day', 'x '::varchar, now()::date),
  (8, 1.0::numeric, 0.0::float8, 'Ada'::text, '{"a": 1}'::json, interval '1 day', 'x'::varchar, NULL::date)
) AS t(k, n, f, t, j, i, v, d)
"""


def test_postgresql_fingerprints_hash_values_without_text_yet_tell_every_value_apart(pg_backend):
    """From PostgreSQL 14 a fingerprint hashes each value (hash_record_extended), as its binary form
    where the type's own hash calls different values equal: every row above differs from row 1 in one
    such value only, and each of them must fingerprint differently from it."""
    source = pg_backend.make_source()
    spec = FingerprintSpec("k", ("n", "f", "t", "j", "i", "v", "d"), "5")
    with source.fingerprinted(SUBTLE, spec) as read:
        assert "hash_record_extended" in read.queries.fingerprint
        fingerprints = [fp for batch in read.keys(batch_size=3) for _, fp in batch]
        digest = read.digest()
        again = {row[0]: row[-1] for batch in read.rows(batch_size=3) for row in batch.rows}

    assert len(set(fingerprints)) == 8
    assert list(again.values()) == fingerprints  # both passes agree
    assert digest.total == sum(int(fp) for fp in fingerprints)


# Text keys that need quoting, a % in the model's SQL (not a parameter), a padded char(n) key.
BY_KEY = """
SELECT * FROM (VALUES ('o''brien', 'a %s'), ('50%', 'b'), ('{x,"y"}', 'c'), ('plain', 'd')) AS t(k, v)
WHERE v LIKE '%'
"""


def test_postgresql_picks_text_and_integer_keys_out_by_key_without_fingerprinting_every_row(pg_backend):
    source = pg_backend.make_source()
    spec = FingerprintSpec("k", ("k", "v"), "6")
    with source.fingerprinted(BY_KEY, spec) as read:
        keys = dict(pair for batch in read.keys(batch_size=10) for pair in batch)
        wanted = [(key, keys[key]) for key in ("o'brien", "50%", '{x,"y"}')]
        picked = {row[0]: row[-1] for batch in read.rows(batch_size=10, only=wanted) for row in batch.rows}
        # Found by key, not by fingerprint: fingerprints that match no row still find these rows.
        stale = [(key, "1") for key, _ in wanted]
        found = {row[0] for batch in read.rows(batch_size=10, only=stale) for row in batch.rows}
    assert picked == dict(wanted)
    assert found == set(picked)


def test_postgresql_streams_the_pairs_and_an_interrupt_stops_them_within_seconds(pg_backend):
    """The pairs pass streams its rows (no server-side cursor to FETCH from): an interrupt from another
    thread, as a run's Cancel sends, ends it with QueryInterrupted while the query still has rows to give."""
    source = pg_backend.make_source(extract_timeout_seconds=600)
    # Keys of 2,000 characters: PostgreSQL sends rows once it has 8 kB of them.
    sql = (
        "SELECT lpad(n::text, 2000, '0') AS k, CASE WHEN n = 50 THEN pg_sleep(600)::text ELSE 'x' END AS a "
        "FROM generate_series(1, 60) n"
    )
    outcome: dict = {}
    first_batch = threading.Event()

    def read() -> None:
        try:
            with source.fingerprinted(sql, FingerprintSpec("k", ("a",), "7")) as pairs:
                for batch in pairs.keys(batch_size=10):
                    outcome.setdefault("keys", []).extend(key for key, _ in batch)
                    first_batch.set()
        except Exception as error:  # noqa: BLE001 - the test looks at it
            outcome["error"] = error

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert first_batch.wait(timeout=30)  # the first rows came before the slow one was computed
    asked = time.monotonic()
    while thread.is_alive() and time.monotonic() - asked < 15:
        source.interrupt()  # as the run's watcher does, every second
        thread.join(timeout=1)
    assert not thread.is_alive(), "the query went on after the interrupt"
    assert time.monotonic() - asked < 5
    assert isinstance(outcome.get("error"), QueryInterrupted), outcome
    assert [int(key) for key in outcome["keys"][:10]] == list(range(1, 11))
