"""Regenerate apps/connections/intercom/request_schemas.json: the JSON Schemas of the four request bodies
Syncline sends to Intercom, taken from Intercom's official OpenAPI 2.16 file, plus the constraints
API_NOTES.md documents beside it. The product reads only the generated file (../shared is not shipped).

Run from the checkout's root after the spec file changes:

    .venv/bin/python tools/intercom_request_schemas.py           # rewrite the JSON
    .venv/bin/python tools/intercom_request_schemas.py --check   # exit 1 if the JSON is out of date

The spec file is ``$INTERCOM_OPENAPI_SPEC`` or ``../shared/intercom/intercom-api-2.16.yaml``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulators.intercom.config import default_spec_path  # noqa: E402
from emulators.intercom.spec import _Translator, load_spec  # noqa: E402

OUTPUT = ROOT / "apps" / "connections" / "intercom" / "request_schemas.json"

# kind (apps.connections.intercom.request_checks.RequestKind) → the operation whose body it is
OPERATIONS = {
    "create_contact": ("post", "/contacts"),
    "update_contact": ("put", "/contacts/{contact_id}"),
    "upsert_company": ("post", "/companies"),
    "send_event": ("post", "/events"),
}
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
EVENT_METADATA_LIMIT = 10  # API_NOTES §3 "Metadata limit: 10 keys per event"

# API_NOTES §3: a metadata value is flat (text, number, date as UNIX seconds, link), or one of two objects:
# a rich link {url, value} or a monetary amount {amount (cents), currency}. Written without anyOf on
# purpose: compiled, each failed anyOf branch costs an exception, on every valid object. Two keys out of
# these four, each needing its partner, leave exactly the two shapes.
METADATA_VALUE = {
    "type": ["string", "number", "boolean", "object"],
    "properties": {
        "url": {"type": "string"},
        "value": {"type": "string"},
        "amount": {"type": "integer"},
        "currency": {"type": "string"},
    },
    "additionalProperties": False,
    "minProperties": 2,
    "maxProperties": 2,
    "dependencies": {"url": ["value"], "value": ["url"], "amount": ["currency"], "currency": ["amount"]},
}

CHANGES = [
    "every body: fields the spec does not name are refused (API_NOTES §2: Intercom answers 400 "
    "\"bad 'test' parameter\" for an unknown company field; elsewhere it drops them silently)",
    "every integer: signed 64-bit; company size and monthly_spend: signed 32-bit (spec: monthly_spend "
    "'has an upper limit of 2**31-1')",
    "anyOf branches that only list required fields: the names every branch requires move to `required`",
    "contacts: role is user or lead (API_NOTES §1); email_verified needs email in the same request (spec); "
    "a custom attribute value is text, a number, a boolean or null (API_NOTES §1: flat values, null clears)",
    "company custom_attributes: numbers and booleans as well as text (API_NOTES §2 and §7: spec quirk)",
    "event: event_name not blank; metadata at most 10 keys, each text, a number, a boolean, a rich link "
    "{url, value} or a monetary amount {amount, currency} (API_NOTES §3 and §7: spec quirk)",
]


def request_schema(spec: dict, method: str, path: str) -> tuple[str, dict]:
    """The name and OpenAPI schema of an operation's JSON body."""
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    if list(body) == ["oneOf"] and len(body["oneOf"]) == 1:
        body = body["oneOf"][0]  # `oneOf: [X]` is just X
    name = body["$ref"].rsplit("/", 1)[-1]
    return name, copy.deepcopy(spec["components"]["schemas"][name])


def expect(node: dict, key: str, value: Any, where: str) -> None:
    """Fail loudly when the spec no longer says what a relaxation or tightening below assumes."""
    if node.get(key) != value:
        sys.exit(f"{where}: the spec now has {key}={node.get(key)!r} (expected {value!r}); review the rules")


def factor_required(schema: dict) -> None:
    """`anyOf: [{required: [a, b, x]}, {required: [a, b, y]}]` → `required: [a, b]` + `anyOf` on x / y, so a
    missing `a` is reported as such instead of as "no branch matched"."""
    branches = schema.get("anyOf", [])
    if not branches or any(set(branch) != {"required"} for branch in branches):
        return
    common = [name for name in branches[0]["required"] if all(name in b["required"] for b in branches)]
    if common:
        schema["required"] = [*schema.get("required", []), *common]
        schema["anyOf"] = [{"required": [n for n in b["required"] if n not in common]} for b in branches]


def bound_integers(node: Any) -> None:
    """Give every integer without bounds the signed 64-bit range: Intercom stores no wider integers."""
    if isinstance(node, dict):
        types = node.get("type")
        if types == "integer" or (isinstance(types, list) and "integer" in types):
            node.setdefault("minimum", INT64[0])
            node.setdefault("maximum", INT64[1])
        for value in node.values():
            bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            bound_integers(value)


def contact_rules(schema: dict, where: str) -> None:
    properties = schema["properties"]
    expect(properties["role"], "type", "string", where)
    properties["role"]["enum"] = ["user", "lead"]  # API_NOTES §1: "valid values are user and lead"
    # spec, email_verified: "Must be supplied together with an email in the same request"
    schema["dependencies"] = {"email_verified": ["email"]}
    custom = properties["custom_attributes"]
    expect(custom, "type", ["object", "null"], where)
    # API_NOTES §1: flat values (string, number, boolean, date as UNIX seconds); null clears a key.
    custom["additionalProperties"] = {"type": ["string", "number", "boolean", "null"]}


def company_rules(schema: dict, where: str) -> None:
    properties = schema["properties"]
    for name in ("size", "monthly_spend"):
        expect(properties[name], "type", "integer", where)
        properties[name]["minimum"], properties[name]["maximum"] = INT32
    custom = properties["custom_attributes"]
    expect(custom, "additionalProperties", {"type": "string"}, where)
    # API_NOTES §2/§7: typed string-only, yet Intercom (and the spec's own example) takes numbers/booleans.
    custom["additionalProperties"] = {"type": ["string", "number", "boolean"]}


def event_rules(schema: dict, where: str) -> None:
    properties = schema["properties"]
    expect(properties["event_name"], "type", "string", where)
    properties["event_name"]["pattern"] = r"\S"  # a blank name names no event
    metadata = properties["metadata"]
    expect(metadata, "additionalProperties", {"type": "string"}, where)
    # API_NOTES §3/§7: at most 10 keys (Intercom drops the rest); flat values, two objects allowed.
    metadata["maxProperties"] = EVENT_METADATA_LIMIT
    metadata["additionalProperties"] = METADATA_VALUE


RULES = {
    "create_contact": contact_rules,
    "update_contact": contact_rules,
    "upsert_company": company_rules,
    "send_event": event_rules,
}


def build(spec_path: Path) -> dict:
    """The document request_schemas.json holds."""
    spec = load_spec(spec_path)
    requests = {}
    for kind, (method, path) in OPERATIONS.items():
        name, openapi_schema = request_schema(spec, method, path)
        translator = _Translator(spec["components"]["schemas"])
        schema = translator.translate(openapi_schema)
        if translator.definitions:
            sys.exit(f"{name} now refers to other schemas; teach this tool to keep its definitions")
        factor_required(schema)
        RULES[kind](schema, name)
        schema["additionalProperties"] = False
        bound_integers(schema)
        requests[kind] = {"operation": f"{method.upper()} {path}", "spec_schema": name, "schema": schema}
    return {
        "provenance": {
            "generated_from": f"{spec_path.name}: Intercom's official OpenAPI description, version "
            f"{spec['info']['version']} (github.com/intercom/Intercom-OpenAPI, "
            "descriptions/2.16/api.intercom.io.yaml)",
            "source_sha256": hashlib.sha256(spec_path.read_bytes()).hexdigest(),
            "licence": "MIT, Copyright (c) 2022 Intercom, Inc.; see LICENSE-Intercom-OpenAPI.md beside this file",
            "generator": "tools/intercom_request_schemas.py; do not edit by hand, rerun it",
            "changes_to_the_spec": CHANGES,
        },
        "requests": requests,
    }


def render(document: dict) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec",
        type=Path,
        default=None,
        help="the OpenAPI file (default: ../shared/intercom/intercom-api-2.16.yaml)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the JSON differs from the spec's")
    args = parser.parse_args()
    text = render(build(args.spec or default_spec_path()))
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            sys.exit(f"{OUTPUT.relative_to(ROOT)} is out of date: run tools/intercom_request_schemas.py")
        return
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
