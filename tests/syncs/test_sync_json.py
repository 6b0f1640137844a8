"""`Sync.mappings` and `Sync.options`: one serialiser (`SyncConfig.from_json`/`to_json`) reads and writes
them, round trips keep dirty values, and JSON stored by older versions reads with defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from apps.connections.intercom.catalog import Behavior, FieldType
from apps.connections.intercom.coercion import EpochUnit
from apps.syncs.engine.config import (
    EventContactKey,
    EventOptions,
    FieldMapping,
    FirstRunMode,
    NullPolicy,
    SyncConfig,
    SyncKey,
)
from apps.syncs.models import Sync
from tests.factories import SyncFactory

ROOT = Path(__file__).resolve().parents[2]

DIRTY_USERS = SyncConfig(
    "user",
    Behavior.UPSERT,
    SyncKey("courriel élève", "email"),
    mappings=(
        FieldMapping("name", FieldType.STRING, column="名前 (kanji)"),
        FieldMapping("signed_up_at", FieldType.DATE, column="inscrit·le", unit=EpochUnit.MILLISECONDS),
        FieldMapping("phone", FieldType.STRING, column="<b>tél</b>", on_null=NullPolicy.CLEAR),
        FieldMapping("plan", FieldType.STRING, constant="“pro” & <i>co</i>", custom=True),
        FieldMapping("seats", FieldType.INTEGER, constant=10**30, custom=True),
        FieldMapping("tags", FieldType.STRING, column="", custom=True),  # an empty column stays one
        FieldMapping("note", FieldType.STRING, constant=None, custom=True),
    ),
    company_id_column="société 🏢",
)
DIRTY_EVENT = SyncConfig(
    "event",
    Behavior.SEND,
    SyncKey("id", "event_id"),
    event=EventOptions(
        contact_column="e-mail",
        contact_key=EventContactKey.EMAIL,
        created_at_column="quand ⏰",
        event_name_column="événement",
        metadata_columns=("ключ", "键", 'a"b'),
        first_run=FirstRunMode.SKIP_EXISTING,
        created_at_unit=EpochUnit.MILLISECONDS,
    ),
)
DELETE = SyncConfig("contact", Behavior.DELETE, SyncKey("id", "external_id"), permanent_delete=True)


def stored(config: SyncConfig) -> dict:
    return {"object_key": config.object_key, "behavior": config.behavior.value,
            "key_column": config.sync_key.column, "key_identifier": config.sync_key.identifier}  # fmt: skip


@pytest.mark.parametrize("config", [DIRTY_USERS, DIRTY_EVENT, DELETE], ids=["users", "event", "delete"])
def test_a_config_round_trips_through_json_text(config):
    mappings, options = json.loads(json.dumps(config.to_json()))
    assert SyncConfig.from_json(**stored(config), mappings=mappings, options=options) == config
    assert SyncConfig.from_json(**stored(config), mappings=mappings, options=options).to_json() == (
        mappings,
        options,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("config", [DIRTY_USERS, DIRTY_EVENT], ids=["users", "event"])
def test_a_config_round_trips_through_the_database(config):
    mappings, options = config.to_json()
    sync = SyncFactory(**stored(config), mappings=mappings, options=options)
    assert Sync.objects.for_workspace(sync.workspace).get(pk=sync.pk).config == config


def test_defaults_are_left_out_so_old_rows_and_new_rows_store_the_same():
    mappings, options = SyncConfig(
        "user", Behavior.UPSERT, SyncKey("id", "external_id"), (FieldMapping("name", FieldType.STRING, "n"),)
    ).to_json()
    assert mappings == [{"target": "name", "field_type": "string", "custom": False, "on_null": "keep",
                         "column": "n"}]  # fmt: skip
    assert options == {}


def test_json_of_older_versions_reads_with_defaults():
    config = SyncConfig.from_json(
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        # before null policies, units and custom flags were stored; a constant with no value at all
        mappings=[{"target": "name", "field_type": "string", "column": "n"}, {"target": "plan"}],
        # before first_run, units and the contact key
        options={"event": {"contact_column": "email", "created_at_column": "at", "event_name": "x"}},
    )
    name, plan = config.mappings
    assert name == FieldMapping("name", FieldType.STRING, column="n")
    assert (name.on_null, name.unit, name.custom) == (NullPolicy.KEEP, EpochUnit.SECONDS, False)
    assert plan == FieldMapping("plan", FieldType.STRING)
    assert config.event == EventOptions("email", EventContactKey.USER_ID, "at", event_name="x")
    assert (config.event.first_run, config.event.created_at_unit) == (
        FirstRunMode.SEND_ALL,
        EpochUnit.SECONDS,
    )
    assert (config.company_id_column, config.permanent_delete) == (None, False)


def test_null_json_reads_as_no_mappings_and_no_options():
    config = SyncConfig.from_json(
        object_key="company",
        behavior="upsert",
        key_column="id",
        key_identifier="company_id",
        mappings=None,
        options=None,
    )
    assert (config.mappings, config.event, config.company_id_column) == ((), None, None)
    # an event sync whose options lost the event still reads, and says what is missing
    event = SyncConfig.from_json(
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        mappings=[],
        options={"event": {}},
    )
    assert event.event is None
    assert [p.code for p in event.validate(["id"])] == ["event_options_required"]


def test_the_columns_a_sync_reads_come_from_the_config():
    assert DIRTY_USERS.columns == {"courriel élève", "名前 (kanji)", "inscrit·le", "<b>tél</b>", "société 🏢"}
    assert DIRTY_EVENT.columns == {"id", "e-mail", "quand ⏰", "événement", "ключ", "键", 'a"b'}


# --- one reader, one writer --------------------------------------------------------------------------------

# `x.mappings` / `x.options` read off anything but a SyncConfig (`config`) or the wizard's options form.
READ = re.compile(r"\b(\w+)\.(mappings|options)\b(?!\()")
ALLOWED_RECEIVERS = {"config", "Sync"}  # `Sync.mappings` names the field (in docstrings)
# The serialiser; the model (the columns and `Sync.config`); the one write in `sync_save`; the wizard's
# options form (`FieldsStep.options`, a form, not the column), validated by the wizard's view before the
# engine's checks.
ALLOWED = {
    "apps/syncs/engine/config.py": {"self"},
    "apps/syncs/models.py": {"self"},
    "apps/syncs/services.py": {"sync"},
    "apps/syncs/wizard/forms.py": {"self"},
    "apps/syncs/wizard/views.py": {"form"},
    "templates/syncs/wizard/fields.html": {"form"},
}


def test_nothing_but_the_serialiser_reads_the_json_columns():
    found = []
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" in name:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for receiver, _ in READ.findall(line):
                if receiver not in ALLOWED_RECEIVERS | ALLOWED.get(name, set()):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_the_write_in_sync_save_is_the_serialisers():
    services = (ROOT / "apps/syncs/services.py").read_text()
    reads = [
        line.strip() for line in services.splitlines() if any(r == "sync" for r, _ in READ.findall(line))
    ]
    assert reads == ["sync.mappings, sync.options = config.to_json()"]


@pytest.mark.django_db
def test_the_sync_page_shows_old_json_through_the_config(owner_client, workspace):
    """A sync stored by an older version (no custom flag, null policy, unit, first run or contact key)
    shows its fields, company, deletion and event options as the serialiser reads them."""
    contacts = SyncFactory(
        workspace=workspace,
        object_key="user",
        key_column="id",
        key_identifier="external_id",
        mappings=[{"target": "name", "field_type": "string", "column": "nom <b>"}],
        options={"company_id_column": "société"},
    )
    deleting = SyncFactory(
        workspace=workspace,
        object_key="contact",
        behavior="delete",
        key_column="id",
        key_identifier="external_id",
        mappings=[],
        options={"permanent_delete": True},
    )
    events = SyncFactory(
        workspace=workspace,
        object_key="event",
        behavior="send",
        key_column="id",
        key_identifier="event_id",
        mappings=[],
        options={
            "event": {"contact_column": "email", "created_at_column": "at", "event_name_column": "kind"}
        },
    )

    def page(sync):
        return owner_client.get(reverse("sync_detail", args=[workspace.slug, sync.pk])).content.decode()

    html = page(contacts)
    assert "<code>nom &lt;b&gt;</code> → name" in html and "If NULL: Keep Intercom&#x27;s value" in html
    assert "Attach to the company in <code>société</code>" in html
    assert "<strong>Permanent</strong>" in page(deleting) and "<strong>Permanent</strong>" not in html
    html = page(events)
    assert "from the column <code>kind</code>" in html and "Send all existing rows" in html
    assert "numbers as epoch seconds" in html
