"""Sync configuration checks, in the words users read."""

from __future__ import annotations

import pytest

from apps.common.problems import Problem
from apps.connections.intercom.catalog import OBJECTS, Behavior, FieldType
from apps.syncs.engine.config import (
    EventContactKey,
    EventOptions,
    NullPolicy,
    Option,
    SyncConfig,
    SyncKey,
    SyncPart,
    Target,
    mapping,
)

COLUMNS = ["email", "name", "seats", "org", "at"]


def event_config(**options):
    defaults = {
        "contact_column": "email",
        "contact_key": EventContactKey.EMAIL,
        "created_at_column": "at",
        "event_name": "signed-up",
    }
    return SyncConfig(
        "event", Behavior.SEND, SyncKey("name", "event_id"), event=EventOptions(**defaults | options)
    )


def test_a_good_contact_sync_has_no_problems():
    config = SyncConfig(
        "user",
        Behavior.UPSERT,
        SyncKey("email", "email"),
        mappings=(
            mapping("name", FieldType.STRING, "name"),
            mapping("seats", FieldType.INTEGER, "seats", custom=True),
        ),
        company_id_column="org",
    )
    assert config.validate(COLUMNS) == []
    assert event_config(metadata_columns=("seats", "org")).validate(COLUMNS) == []


@pytest.mark.parametrize(
    ("config", "subject", "problem"),
    [
        (
            SyncConfig("company", Behavior.UPDATE_ONLY, SyncKey("email", "company_id")),
            SyncPart.BEHAVIOR,
            "cannot use “Update Only”",
        ),
        (
            SyncConfig("company", Behavior.UPSERT, SyncKey("email", "email")),
            SyncPart.KEY_IDENTIFIER,
            "cannot be matched on “email”",
        ),
        (
            SyncConfig("user", Behavior.UPSERT, SyncKey("mail", "email")),
            SyncPart.KEY_COLUMN,
            "Column “mail” (the sync key) is not",
        ),
        (
            SyncConfig(
                "user",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("name", FieldType.STRING, "nom"),),
            ),
            Target("name"),
            "Column “nom” (field “name”) is not in the model's columns.",
        ),
        (
            SyncConfig(
                "lead",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("external_id", "string", "name"),),
            ),
            Target("external_id"),
            "“external_id” is not a field of Lead.",
        ),
        (
            SyncConfig(
                "user",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("name", FieldType.INTEGER, "seats"),),
            ),
            Target("name"),
            "Field “name” takes string, not integer.",
        ),
        (
            SyncConfig(
                "user",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("email", FieldType.STRING, "name"),),
            ),
            Target("email"),
            "already set by the sync key",
        ),
        (
            SyncConfig(
                "user",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (
                    mapping("x", FieldType.STRING, "name", custom=True),
                    mapping("x", FieldType.STRING, "org", custom=True),
                ),
            ),
            Target("x", custom=True),
            "Custom attribute “x” is mapped 2 times.",
        ),
        (
            SyncConfig(
                "user",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("seats", "integer", constant="many"),),
            ),
            Target("seats"),
            "constant for seats: “many” is not a whole number",
        ),
        (
            SyncConfig(
                "contact",
                Behavior.UPSERT,
                SyncKey("email", "email"),
                (mapping("role", "string", constant="admin"),),
            ),
            Target("role"),
            "The role must be “user” or “lead”.",
        ),
        (
            SyncConfig("company", Behavior.UPSERT, SyncKey("email", "company_id"), company_id_column="org"),
            Option("company_id_column"),
            "Only contact",
        ),
        (
            SyncConfig("user", Behavior.UPSERT, SyncKey("email", "email"), permanent_delete=True),
            Option("permanent_delete"),
            "only applies to Delete",
        ),
        (
            SyncConfig(
                "user", Behavior.DELETE, SyncKey("email", "email"), (mapping("name", "string", "name"),)
            ),
            SyncPart.MAPPINGS,
            "Delete syncs send no fields",
        ),
        (
            SyncConfig("event", Behavior.SEND, SyncKey("name", "event_id")),
            Option("event"),
            "Event syncs need the event options",
        ),
        (
            event_config(metadata_columns=tuple(COLUMNS) * 3),
            Option("metadata_columns"),
            "at most 10 metadata keys per event (15 chosen)",
        ),
        (event_config(event_name=None), Option("event_name"), "as a constant or as a column"),
        (
            event_config(created_at_column="when"),
            Option("created_at_column"),
            "Column “when” (the event time)",
        ),
        (
            SyncConfig("unknown", Behavior.UPSERT, SyncKey("email", "email")),
            SyncPart.OBJECT,
            "Unknown Intercom object",
        ),
    ],
)
def test_problems_are_reported_with_what_they_are_about(config, subject, problem):
    problems = config.validate(COLUMNS)
    assert any(problem in p.message and p.subject == subject for p in problems), problems


def test_any_column_can_be_the_sync_key():
    """Uniqueness is a property of the rows, checked when they are read (tests/syncs/engine/test_plan.py)."""
    config = SyncConfig("user", Behavior.UPSERT, SyncKey("name", "email"))
    assert config.validate(COLUMNS) == []


CLEAR = NullPolicy.CLEAR


def test_clear_is_refused_on_a_field_intercom_cannot_clear_naming_the_field():
    config = SyncConfig(
        "user",
        Behavior.UPSERT,
        SyncKey("name", "external_id"),
        (mapping("email", FieldType.STRING, "email", on_null=CLEAR), mapping("name", "string", "name")),
    )
    assert config.validate(COLUMNS) == [
        Problem(
            Target("email"),
            "cannot_clear",
            "Intercom cannot clear “email”: it does not accept null. Choose “Keep Intercom's value”.",
        )
    ]


@pytest.mark.parametrize(
    ("object_key", "identifier", "target", "custom", "refused"),
    [
        ("user", "email", "name", False, False),
        ("lead", "email", "signed_up_at", False, False),
        ("contact", "email", "role", False, True),
        ("user", "email", "seats", True, False),
        ("company", "company_id", "website", False, True),
        ("company", "company_id", "size", False, True),
        ("company", "company_id", "remote_created_at", False, True),
        ("company", "company_id", "seats", True, True),
    ],
)
def test_clear_is_accepted_exactly_where_intercom_accepts_null(
    object_key, identifier, target, custom, refused
):
    field_type = FieldType.INTEGER if custom else OBJECTS[object_key].field(target).type
    config = SyncConfig(
        object_key,
        Behavior.UPSERT,
        SyncKey("email", identifier),
        (mapping(target, field_type, "seats", custom=custom, on_null=CLEAR),),
    )
    what = f"the custom attribute “{target}”" if custom else f"“{target}”"
    expected = [f"Intercom cannot clear {what}: it does not accept null. Choose “Keep Intercom's value”."]
    assert [p.message for p in config.validate(COLUMNS)] == (expected if refused else [])
    assert all(p.subject == Target(target, custom) for p in config.validate(COLUMNS))
    assert config.sends_null(config.mappings[0]) is not refused


def test_keep_is_accepted_on_every_field_and_an_unknown_field_gets_one_problem():
    config = SyncConfig(
        "company",
        Behavior.UPSERT,
        SyncKey("email", "company_id"),
        (mapping("website", "string", "name"), mapping("colour", "string", "name", on_null=CLEAR)),
    )
    assert config.validate(COLUMNS) == [
        Problem(Target("colour"), "unknown_field", "“colour” is not a field of Company.")
    ]
