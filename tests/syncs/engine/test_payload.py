"""Payload shapes per object, and the hash that the ledger compares."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.connections.intercom.catalog import OBJECTS, Behavior, FieldType
from apps.syncs.engine.config import EventContactKey, EventOptions, NullPolicy, SyncConfig, SyncKey, mapping
from apps.syncs.engine.payload import InvalidValue, PayloadBuilder, payload_hash


def build(config, columns, row, key="k"):
    return PayloadBuilder(config, columns).build(row, key)


def test_contact_role_from_a_column_must_be_user_or_lead():
    config = SyncConfig(
        "contact",
        Behavior.UPSERT,
        SyncKey("id", "external_id"),
        mappings=(
            mapping("role", FieldType.STRING, "role"),
            mapping("signed_up_at", FieldType.DATE, "at", on_null=NullPolicy.CLEAR),
        ),
    )
    columns = ["id", "role", "at"]
    assert build(config, columns, ("u1", "lead", dt.date(2026, 1, 1)), "u1").payload == {
        "external_id": "u1",
        "role": "lead",
        "signed_up_at": 1_767_225_600,
    }
    assert build(config, columns, ("u1", None, None), "u1").payload == {
        "external_id": "u1",
        "signed_up_at": None,
    }
    with pytest.raises(InvalidValue, match="role: “admin” is not a role"):
        build(config, columns, ("u1", "admin", None), "u1")


def test_constants_are_coerced_once_and_sent_for_every_row():
    config = SyncConfig(
        "company",
        Behavior.UPSERT,
        SyncKey("id", "company_id"),
        mappings=(
            mapping("plan", FieldType.STRING, constant="pro"),
            mapping("vip", FieldType.BOOLEAN, constant="yes", custom=True),
        ),
    )
    assert build(config, ["id"], ("c1",), "c1").payload == {
        "company_id": "c1",
        "plan": "pro",
        "custom_attributes": {"vip": True},
    }


def test_event_payload_is_flat_with_unix_seconds():
    config = SyncConfig(
        "event",
        Behavior.SEND,
        SyncKey("id", "event_id"),
        event=EventOptions(
            contact_column="who",
            contact_key=EventContactKey.ID,
            created_at_column="at",
            event_name="paid-invoice",
            metadata_columns=("amount", "due_date", "note"),
        ),
    )
    columns = ["id", "who", "at", "amount", "due_date", "note"]
    row = (
        "e1",
        "6762f0dd",
        dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC),
        Decimal("9.50"),
        dt.date(2026, 2, 1),
        None,
    )
    assert build(config, columns, row).payload == {
        "event_name": "paid-invoice",
        "created_at": 1_767_229_200,
        "id": "6762f0dd",
        "metadata": {"amount": 9.5, "due_date": 1_769_904_000},
    }
    with pytest.raises(InvalidValue, match="note: .* is not a flat value"):
        build(config, columns, (*row[:5], {"nested": 1}))


def test_hash_is_sha256_of_canonical_json():
    payload = {"name": "Zoë", "custom_attributes": {"b": 1, "a": None}}
    canonical = '{"custom_attributes":{"a":null,"b":1},"name":"Zoë"}'
    assert payload_hash(payload) == hashlib.sha256(canonical.encode()).hexdigest()
    assert payload_hash(payload, "acme") != payload_hash(payload)


json_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
payloads = st.dictionaries(
    st.text(max_size=5), st.one_of(json_values, st.dictionaries(st.text(max_size=5), json_values)), max_size=6
)


@settings(max_examples=60)  # cheap property; generating nested text is the slow part
@given(payloads, st.randoms())
def test_hash_does_not_depend_on_dict_order(payload, random):
    def shuffled(value):
        if not isinstance(value, dict):
            return value
        items = list(value.items())
        random.shuffle(items)
        return {k: shuffled(v) for k, v in items}

    assert payload_hash(shuffled(payload)) == payload_hash(payload)
    assert json.loads(json.dumps(payload)) == payload  # the ledger stores it as JSON unchanged


def test_hash_tells_types_apart():
    assert payload_hash({"v": 1}) != payload_hash({"v": "1"})
    assert payload_hash({"v": True}) != payload_hash({"v": 1})
    assert payload_hash({"v": None}) != payload_hash({})


# --- NULLs: each mapping's null policy -----------------------------------------------------------------


def user_config(on_null: NullPolicy) -> SyncConfig:
    return SyncConfig(
        "user",
        Behavior.UPSERT,
        SyncKey("id", "external_id"),
        mappings=(
            mapping("name", FieldType.STRING, "name", on_null=on_null),
            mapping("email", FieldType.STRING, "email", on_null=on_null),
            mapping("plan", FieldType.STRING, "plan", custom=True, on_null=on_null),
        ),
    )


def test_keep_leaves_a_null_out_of_the_body():
    built = build(
        user_config(NullPolicy.KEEP), ["id", "name", "email", "plan"], ("u1", None, None, None), "u1"
    )
    assert built.payload == {"external_id": "u1", "role": "user"}


def test_keep_is_the_default():
    assert mapping("name", FieldType.STRING, "name").on_null is NullPolicy.KEEP


def test_clear_sends_null_where_intercom_accepts_it_and_never_to_email():
    built = build(
        user_config(NullPolicy.CLEAR), ["id", "name", "email", "plan"], ("u1", None, None, None), "u1"
    )
    assert built.payload == {
        "external_id": "u1",
        "role": "user",
        "name": None,
        "custom_attributes": {"plan": None},
    }


def test_values_are_sent_whatever_the_policy():
    row = ("u1", "  Zoë <b>x</b> =1+1 ", "ada@example.com", "x" * 5000)
    for policy in NullPolicy:
        built = build(user_config(policy), ["id", "name", "email", "plan"], row, "u1")
        assert built.payload["name"] == row[1] and built.payload["email"] == row[2]
        assert built.payload["custom_attributes"] == {"plan": row[3]}


EVERY_FIELD = [
    pytest.param(obj.key, field, id=f"{obj.key}.{field.name}")
    for obj in OBJECTS.values()
    for field in obj.fields
]


@pytest.mark.parametrize(("object_key", "field"), EVERY_FIELD)
def test_under_clear_a_null_is_sent_exactly_to_the_fields_intercom_lets_clear(object_key, field):
    identifier = {"company": "company_id"}.get(object_key, "id")
    config = SyncConfig(
        object_key,
        Behavior.UPSERT,
        SyncKey("key", identifier),
        mappings=(mapping(field.name, field.type, "value", on_null=NullPolicy.CLEAR),),
    )
    payload = build(config, ["key", "value"], ("k1", None), "k1").payload
    assert (field.name in payload) is field.nullable
    if field.nullable:
        assert payload[field.name] is None


@pytest.mark.parametrize(
    ("object_key", "clears"), [("user", True), ("lead", True), ("contact", True), ("company", False)]
)
def test_custom_attributes_are_cleared_on_contacts_only(object_key, clears):
    identifier = "company_id" if object_key == "company" else "id"
    config = SyncConfig(
        object_key,
        Behavior.UPSERT,
        SyncKey("key", identifier),
        mappings=(mapping("tier", FieldType.STRING, "value", custom=True, on_null=NullPolicy.CLEAR),),
    )
    payload = build(config, ["key", "value"], ("k1", None), "k1").payload
    assert payload.get("custom_attributes") == ({"tier": None} if clears else None)
