"""Request bodies Intercom would refuse are found before any call (apps/connections/intercom/request_checks.py),
against the vendored request schemas (Intercom's OpenAPI 2.16 file + API_NOTES.md)."""

from __future__ import annotations

import json
from decimal import Decimal
from types import MappingProxyType

import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest

from apps.connections.intercom.catalog import EVENT_CONTACT_KEYS, OBJECTS, FieldType
from apps.connections.intercom.request_checks import (
    SCHEMAS_PATH,
    RequestKind,
    check_request,
    is_nullable,
    request_fields,
)
from tests.fixtures.intercom_requests import relaxed_openapi, spec_path
from tools.intercom_request_schemas import build, render

K = RequestKind
LONG = "x" * 5000
CONTACT = {
    "role": "user",
    "external_id": "u-1",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "phone": "+353871234567",
    "avatar": "https://example.com/ada.png",
    "signed_up_at": 1571672154,
    "last_seen_at": 1571672154,
    "owner_id": "321",
    "unsubscribed_from_emails": False,
    "email_verified": True,
    "custom_attributes": {"plan": "pro", "mrr": 155.5, "seats": 12, "paid": True, "churn_risk": None},
}
COMPANY = {
    "company_id": "acme-1",
    "name": "Acme",
    "plan": "Enterprise",
    "size": 2**31 - 1,
    "website": "https://acme.example",
    "industry": "Manufacturing",
    "remote_created_at": 1394531169,
    "monthly_spend": -(2**31),
    "update_last_request_at": True,
    "custom_attributes": {"tier": "gold", "paid_subscriber": True, "monthly_spend": 155.5, "team_mates": 9},
}
EVENT = {
    "event_name": "invited-friend",
    "created_at": 1671028894,
    "user_id": "314159",
    "metadata": {
        "invite_code": "ADDAFRIEND",
        "seats": 3,
        "ratio": 0.5,
        "trial": False,
        "renewal_date": 1671028894,
        "page": "https://example.com/invite",
        "article": {"url": "https://example.com/a", "value": "An article"},
        "price": {"amount": 34999, "currency": "eur"},
        "big": 2**63 - 1,
        "low": -(2**63),
    },
}

GOOD = [
    pytest.param(K.CREATE_CONTACT, CONTACT, id="contact-every-field"),
    pytest.param(K.CREATE_CONTACT, {"email": "ada@example.com"}, id="contact-email-only"),
    pytest.param(K.CREATE_CONTACT, {"external_id": "u-1"}, id="contact-external-id-only"),
    pytest.param(K.CREATE_CONTACT, {"role": "lead"}, id="contact-role-only"),
    pytest.param(
        K.CREATE_CONTACT,
        {
            "email": "ada@example.com",
            **dict.fromkeys(("phone", "name", "avatar", "signed_up_at")),
            "custom_attributes": None,
        },
        id="contact-nullable-fields-null",
    ),
    pytest.param(
        K.CREATE_CONTACT,
        {
            "role": "user",
            "name": LONG,
            "owner_id": '=HYPERLINK("x")',
            "custom_attributes": {"bio": "<b>Zoë 日本</b>"},
        },
        id="contact-dirty-but-valid-text",
    ),
    pytest.param(
        K.CREATE_CONTACT, {"email": "a@example.com", "custom_attributes": {}}, id="contact-empty-map"
    ),
    pytest.param(K.UPDATE_CONTACT, {}, id="update-nothing"),
    pytest.param(K.UPDATE_CONTACT, {"name": None, "custom_attributes": {"plan": None}}, id="update-clears"),
    pytest.param(K.UPDATE_CONTACT, {k: v for k, v in CONTACT.items() if k != "email_verified"}, id="update"),
    pytest.param(K.UPSERT_COMPANY, COMPANY, id="company-every-field-at-int32-edges"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1"}, id="company-id-only"),
    pytest.param(K.SEND_EVENT, EVENT, id="event-every-metadata-kind"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 0, "id": "abc"}, id="event-by-intercom-id"),
    pytest.param(
        K.SEND_EVENT, {"event_name": "x", "created_at": 0, "email": "a@example.com"}, id="event-by-email"
    ),
    pytest.param(K.CREATE_CONTACT, MappingProxyType({"email": "a@example.com"}), id="any-mapping"),
]

BIG = 3_000_000_000
# (kind, body, path, rule, what the message must say)
BAD = [
    # contacts: the spec's types, nullability and anyOf
    pytest.param(K.CREATE_CONTACT, {"name": "Ada"}, (), "required",
                 "A contact needs “email”, “external_id” or “role”; this one has none of them", id="contact-no-identity"),
    pytest.param(K.CREATE_CONTACT, {"email": None}, ("email",), "not_nullable",
                 "Intercom does not accept null for “email”: it cannot be cleared", id="contact-null-email"),
    pytest.param(K.UPDATE_CONTACT, {"external_id": None}, ("external_id",), "not_nullable",
                 "Intercom does not accept null for “external_id”: it cannot be cleared", id="update-null-external-id"),
    pytest.param(K.CREATE_CONTACT, {"email": 12345}, ("email",), "type",
                 "“email” must be text (got 12345)", id="contact-email-number"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "unsubscribed_from_emails": "yes"},
                 ("unsubscribed_from_emails",), "type",
                 "“unsubscribed_from_emails” must be true, false or null (got “yes”)", id="contact-bool-text"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "signed_up_at": 1571672154.5}, ("signed_up_at",),
                 "type", "“signed_up_at” must be a whole number or null (got 1571672154.5)", id="contact-date-float"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "signed_up_at": Decimal("99.5")}, ("signed_up_at",),
                 "type", "“signed_up_at” must be a whole number or null (got 99.5)", id="contact-date-decimal"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "last_seen_at": 2**63}, ("last_seen_at",),
                 "integer_range",
                 "“last_seen_at” must be a whole number between −9,223,372,036,854,775,808 and "
                 "9,223,372,036,854,775,807 (got 9223372036854775808)", id="contact-int64-overflow"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "last_seen_at": float("nan")}, ("last_seen_at",),
                 "not_finite", "“last_seen_at” must be a finite number: Intercom takes no NaN or infinity (got NaN)",
                 id="contact-nan-date"),
    # API_NOTES §1: role is user or lead; email_verified needs email
    pytest.param(K.CREATE_CONTACT, {"role": "admin"}, ("role",), "enum",
                 "“role” must be “user” or “lead” (got “admin”)", id="contact-role"),
    pytest.param(K.UPDATE_CONTACT, {"email_verified": True}, ("email_verified",), "dependency",
                 "“email_verified” can only be sent together with “email”", id="update-email-verified-alone"),
    # API_NOTES §1: custom attribute values are flat scalars; numbers must be sendable
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "custom_attributes": {"tags": ["a", "b"]}},
                 ("custom_attributes", "tags"), "type",
                 "custom attribute “tags” must be one flat value: text, a number, a boolean or null (got [\"a\", \"b\"])",
                 id="contact-custom-list"),
    pytest.param(K.UPDATE_CONTACT, {"custom_attributes": {"geo": {"lat": 1}}}, ("custom_attributes", "geo"), "type",
                 "custom attribute “geo” must be one flat value", id="update-custom-object"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "custom_attributes": {"a.b": [1]}},
                 ("custom_attributes", "a.b"), "type", "custom attribute “a.b”", id="custom-key-with-a-dot"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "custom_attributes": {"mrr": float("inf")}},
                 ("custom_attributes", "mrr"), "not_finite",
                 "custom attribute “mrr” must be a finite number: Intercom takes no NaN or infinity (got Infinity)",
                 id="contact-custom-inf"),
    pytest.param(K.UPDATE_CONTACT, {"custom_attributes": {"mrr": Decimal("NaN")}}, ("custom_attributes", "mrr"),
                 "not_finite", "(got NaN)", id="update-custom-decimal-nan"),
    pytest.param(K.UPDATE_CONTACT, {"custom_attributes": {"visits": -(2**63) - 1}}, ("custom_attributes", "visits"),
                 "integer_range", "(got -9223372036854775809)", id="update-custom-int64-underflow"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "custom_attributes": "gold"}, ("custom_attributes",),
                 "type", "“custom_attributes” must be an object of keys and values or null (got “gold”)",
                 id="contact-custom-not-a-map"),
    pytest.param(K.CREATE_CONTACT, {"email": "a@example.com", "companies": ["acme"]}, ("companies",),
                 "unknown_field", "Intercom has no field “companies” on a contact", id="contact-unknown-field"),
    # companies: signed 32-bit size / monthly_spend; custom attributes scalar but not null (spec)
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "size": BIG}, ("size",), "integer_range",
                 "“size” must be a whole number between −2,147,483,648 and 2,147,483,647 (got 3000000000)",
                 id="company-size-int32"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "monthly_spend": -(2**31) - 1}, ("monthly_spend",),
                 "integer_range", "(got -2147483649)", id="company-spend-int32"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "monthly_spend": Decimal("99.5")}, ("monthly_spend",),
                 "type", "“monthly_spend” must be a whole number (got 99.5)", id="company-spend-decimal"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "website": None}, ("website",), "not_nullable",
                 "Intercom does not accept null for “website”: it cannot be cleared", id="company-null-website"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "size": float("-inf")}, ("size",), "not_finite",
                 "(got -Infinity)", id="company-size-minus-inf"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "custom_attributes": {"tier": None}},
                 ("custom_attributes", "tier"), "not_nullable",
                 "Intercom does not accept null for custom attribute “tier”", id="company-custom-null"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "custom_attributes": {"ids": [1, 2]}},
                 ("custom_attributes", "ids"), "type", "one flat value: text, a number or a boolean (got [1, 2])",
                 id="company-custom-list"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "custom_attributes": {"arr": float("nan")}},
                 ("custom_attributes", "arr"), "not_finite", "(got NaN)", id="company-custom-nan"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": "acme-1", "test": "x"}, ("test",), "unknown_field",
                 "Intercom has no field “test” on a company", id="company-unknown-field"),
    pytest.param(K.UPSERT_COMPANY, {"company_id": 42}, ("company_id",), "type", "“company_id” must be text (got 42)",
                 id="company-id-number"),
    # events: required fields, non-blank name, metadata limit and shapes
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1}, (), "required",
                 "An event needs “id”, “user_id” or “email”; this one has none of them", id="event-no-contact"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "user_id": "u"}, ("created_at",), "required",
                 "An event needs “created_at”", id="event-no-time"),
    pytest.param(K.SEND_EVENT, {"created_at": 1, "user_id": "u"}, ("event_name",), "required",
                 "An event needs “event_name”", id="event-no-name"),
    pytest.param(K.SEND_EVENT, {"event_name": " \t", "created_at": 1, "user_id": "u"}, ("event_name",), "empty",
                 "“event_name” must not be empty (got “ \\t”)", id="event-blank-name"),
    pytest.param(K.SEND_EVENT, {"event_name": "", "created_at": 1, "user_id": "u"}, ("event_name",), "empty",
                 "“event_name” must not be empty", id="event-empty-name"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {f"k{i}": i for i in range(11)}},
                 ("metadata",), "metadata_keys",
                 "An event takes at most 10 metadata keys (got 11): Intercom would keep the first 10 and drop the rest",
                 id="event-11-keys"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"plan": {"tier": "gold"}}},
                 ("metadata", "plan"), "metadata_value",
                 "metadata key “plan” must be one flat value: text, a number, a boolean, a link {url, value} or an "
                 "amount {amount, currency} (got {\"tier\": \"gold\"})", id="event-nested-metadata"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"price": {"amount": 9.99, "currency": "eur"}}},
                 ("metadata", "price"), "metadata_value", "(got {\"amount\": 9.99, \"currency\": \"eur\"})",
                 id="event-amount-not-cents"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"a.b": {"url": "https://x.example"}}},
                 ("metadata", "a.b"), "metadata_value", "(got {\"url\": \"https://x.example\"})", id="event-link-without-value"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"m": {"url": "u", "amount": 1}}},
                 ("metadata", "m"), "metadata_value", "metadata key “m”", id="event-link-and-amount-mixed"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"m": {"url": 1, "value": "v"}}},
                 ("metadata", "m"), "metadata_value", "metadata key “m”", id="event-link-url-number"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"m": {"amount": 1, "currency": "eur", "x": 1}}},
                 ("metadata", "m"), "metadata_value", "metadata key “m”", id="event-amount-extra-key"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"m": {"amount": None, "currency": "eur"}}},
                 ("metadata", "m"), "metadata_value", "metadata key “m”", id="event-amount-null"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"tags": ["a"]}},
                 ("metadata", "tags"), "metadata_value", "(got [\"a\"])", id="event-list-metadata"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"plan": None}},
                 ("metadata", "plan"), "not_nullable", "Intercom does not accept null for metadata key “plan”",
                 id="event-null-metadata"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"ratio": float("nan")}},
                 ("metadata", "ratio"), "not_finite", "metadata key “ratio” must be a finite number", id="event-nan-metadata"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": "u", "metadata": {"n": 10**30}},
                 ("metadata", "n"), "integer_range", "(got 1000000000000000000000000000000)", id="event-huge-int-metadata"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": "2024-01-02", "user_id": "u"}, ("created_at",), "type",
                 "“created_at” must be a whole number (got “2024-01-02”)", id="event-time-text"),
    pytest.param(K.SEND_EVENT, {"event_name": "x", "created_at": 1, "user_id": None}, ("user_id",), "not_nullable",
                 "Intercom does not accept null for “user_id”", id="event-null-contact"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "body"), GOOD)
def test_a_body_intercom_accepts_passes(kind, body):
    assert check_request(kind, body) is None


@pytest.mark.parametrize(("kind", "body", "path", "rule", "says"), BAD)
def test_a_body_intercom_would_refuse_becomes_a_violation(kind, body, path, rule, says):
    violation = check_request(kind, body)
    assert violation is not None
    assert (violation.path, violation.rule) == (path, rule)
    assert says in violation.message
    for python_talk in ("Decimal(", "None", "True", "False", "data.", "inf)", "nan)", "'"):
        assert python_talk not in violation.message


def test_a_long_value_is_cut_in_the_message():
    violation = check_request(K.CREATE_CONTACT, {"role": LONG})
    assert violation is not None and violation.rule == "enum"
    assert len(violation.message) < 200 and violation.message.endswith("…”)")


def test_the_spec_itself_agrees_with_the_good_bodies():
    """openapi-core on Intercom's file (relaxed only for the quirks of API_NOTES §7) accepts every good body:
    the vendored schemas are not stricter than the spec by accident."""
    paths = {K.CREATE_CONTACT: ("post", "/contacts"), K.UPDATE_CONTACT: ("put", "/contacts/abc"),
             K.UPSERT_COMPANY: ("post", "/companies"), K.SEND_EVENT: ("post", "/events")}  # fmt: skip
    for param in GOOD:
        kind, body = param.values
        method, path = paths[kind]
        request = MockRequest(
            "https://api.intercom.io",
            method,
            path,
            headers={"Authorization": "Bearer x", "Intercom-Version": "2.16"},
            data=json.dumps(dict(body)).encode(),
            content_type="application/json",
        )
        try:
            relaxed_openapi().validate_request(request)
        except OpenAPIError as exc:
            pytest.fail(f"{param.id}: the spec refuses it: {exc!r}")


def test_the_vendored_schemas_are_what_the_tool_makes_from_the_spec():
    assert SCHEMAS_PATH.read_text(encoding="utf-8") == render(build(spec_path()))


def test_the_vendored_schemas_name_their_source_and_licence():
    document = json.loads(SCHEMAS_PATH.read_text(encoding="utf-8"))
    provenance = document["provenance"]
    assert provenance["generated_from"].startswith("intercom-api-2.16.yaml")
    assert "MIT" in provenance["licence"]
    licence = SCHEMAS_PATH.with_name("LICENSE-Intercom-OpenAPI.md").read_text()
    assert "MIT License" in licence and "Intercom, Inc." in licence


KINDS_OF_OBJECT = {
    "contact": (K.CREATE_CONTACT, K.UPDATE_CONTACT),
    "lead": (K.CREATE_CONTACT, K.UPDATE_CONTACT),
    "user": (K.CREATE_CONTACT, K.UPDATE_CONTACT),
    "company": (K.UPSERT_COMPANY,),
    "event": (K.SEND_EVENT,),
}
BASE_BODY = {
    K.CREATE_CONTACT: {"email": "a@example.com"},
    K.UPDATE_CONTACT: {},
    K.UPSERT_COMPANY: {"company_id": "acme-1"},
    K.SEND_EVENT: {"event_name": "x", "created_at": 1, "user_id": "u"},
}
SAMPLE = {FieldType.STRING: "text", FieldType.INTEGER: 7, FieldType.FLOAT: 1.5, FieldType.BOOLEAN: True,
          FieldType.DATE: 1704164645, FieldType.DATETIME: 1704164645}  # fmt: skip


@pytest.mark.parametrize("object_key", sorted(OBJECTS))
def test_every_standard_field_of_the_catalog_is_in_its_request_with_its_type(object_key):
    obj = OBJECTS[object_key]
    assert set(KINDS_OF_OBJECT) == set(OBJECTS)
    for kind in KINDS_OF_OBJECT[object_key]:
        for field in obj.fields:
            assert field.name in request_fields(kind), f"{object_key}.{field.name} is not in {kind}"
            value = "lead" if field.name == "role" else SAMPLE[field.type]  # role is user or lead
            body = {**BASE_BODY[kind], field.name: value}
            assert check_request(kind, body) is None, f"{object_key}.{field.name} as {field.type}"
        for identifier in obj.identifiers:
            if identifier.key not in ("id", "event_id"):  # the URL's id; our own event row id
                assert identifier.key in request_fields(kind)


def test_events_name_their_contact_with_fields_of_the_request():
    assert set(EVENT_CONTACT_KEYS) <= request_fields(K.SEND_EVENT)


def test_which_standard_fields_take_null():
    """The null policy ("clear in Intercom") reads this: only these standard fields can be cleared."""
    nullable = {
        (key, kind.value, field.name)
        for key, kinds in KINDS_OF_OBJECT.items()
        for kind in kinds
        for field in OBJECTS[key].fields
        if is_nullable(kind, field.name)
    }
    contact_fields = {
        "phone",
        "name",
        "avatar",
        "signed_up_at",
        "last_seen_at",
        "owner_id",
        "unsubscribed_from_emails",
    }
    expected = {
        (key, kind.value, name)
        for key in ("contact", "lead", "user")
        for kind in KINDS_OF_OBJECT[key]
        for name in contact_fields
    }
    assert nullable == expected
    assert is_nullable(K.CREATE_CONTACT, "custom_attributes")
    assert not is_nullable(K.UPSERT_COMPANY, "custom_attributes")
    assert not is_nullable(K.UPSERT_COMPANY, "no_such_field")
