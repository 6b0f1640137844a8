"""Every way of writing through a preview or an extraction is refused with a clear message, on each real
database, and the canary table is left exactly as it was."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from apps.connections.sources.errors import UnsafeQueryError

from .conftest import CANARY_ROWS

PWNED = Path(f"/tmp/syncline_src_test_pwned_{uuid.uuid4().hex}")

ATTACKS = {
    "insert": "INSERT INTO canary VALUES (99, 'intruder')",
    "update": "UPDATE canary SET note = 'overwritten'",
    "delete": "DELETE FROM canary",
    "drop": "DROP TABLE canary",
    "create": "CREATE TABLE intruder (id int)",
    "copy_to_program": f"COPY canary TO PROGRAM 'touch {PWNED}'",
    "select_then_drop": "SELECT 1; DROP TABLE canary",
    "commit_then_delete": "COMMIT; DELETE FROM canary",
    "read_write_then_delete": "SET default_transaction_read_only = off; DELETE FROM canary",
    "set_read_write": "SET default_transaction_read_only = off",
    "writable_cte": "WITH gone AS (DELETE FROM canary RETURNING *) SELECT * FROM gone",
    "block_comment_prefixed_write": "/* just a select */ DELETE FROM canary",
    "line_comment_prefixed_write": "-- monthly report\nDELETE FROM canary",
    "call_writing_procedure": "CALL writer_proc()",
    "select_into": "SELECT * INTO intruder FROM canary",
    "trailing_statement_after_comment": "SELECT 1 -- ; \n; DELETE FROM canary",
}


def assert_untouched(backend) -> None:
    assert backend.read_canary() == CANARY_ROWS
    assert not backend.table_exists("intruder")
    assert not PWNED.exists()


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_preview_refuses_writes(backend, attack):
    source = backend.make_source()
    with pytest.raises(UnsafeQueryError) as refused:
        source.preview(attack)
    message = str(refused.value)
    assert "refused" in message.lower() or "only one statement" in message.lower()
    assert "read-only query" in message or "one statement" in message
    assert_untouched(backend)


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_stream_and_describe_refuse_writes(backend, attack):
    source = backend.make_source()
    with pytest.raises(UnsafeQueryError):
        list(source.stream(attack))
    with pytest.raises(UnsafeQueryError):
        source.describe(attack)
    assert_untouched(backend)


def test_the_refusal_names_the_reason(backend):
    source = backend.make_source()
    with pytest.raises(UnsafeQueryError, match="DELETE removes rows"):
        source.preview("/* harmless */ DELETE FROM canary")
    with pytest.raises(UnsafeQueryError, match="found 2"):
        source.preview("SELECT 1; DROP TABLE canary")


def test_reading_still_works(backend):
    preview = backend.make_source().preview("SELECT id, note FROM canary ORDER BY id")
    assert [tuple(row) for row in preview.rows] == CANARY_ROWS
