"""Request validation against Intercom's official OpenAPI 2.16 file, compiled once at start.

The spec is loaded with libyaml, every operation the emulator serves gets its parameter and body schemas
translated from OpenAPI 3.0 to JSON Schema (``nullable`` → a ``null`` type, ``format: int32``/``int64`` →
``minimum``/``maximum``, refs → ``definitions``) and compiled to Python code with fastjsonschema, so a
request costs a few microseconds to validate. Before that, the limits API_NOTES.md documents but the file
leaves out are added (``DOCUMENTED_FORMATS``).

Relaxations of known spec quirks (the only places where the emulator accepts more than the file):
- company ``custom_attributes`` and event ``metadata`` are typed ``{type: string}`` per value, yet Intercom
  accepts numbers, booleans and (metadata) rich link / monetary objects (API_NOTES.md §2, §3, §7); the
  handlers check these values (a company attribute may be null, which clears it; a metadata value may not);
- a search group (``AND``/``OR``) must hold either only filters or only groups by the file's ``oneOf``, yet
  Intercom's own examples nest a group beside filters; the emulator accepts a mix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

from emulators.intercom.errors import ApiError

# (schema name, property path to the object whose additionalProperties is relaxed)
RELAXED_SCHEMAS = (
    ("create_or_update_company_request", ("properties", "custom_attributes")),
    ("update_company_request", ("properties", "custom_attributes")),
    ("create_data_event_request", ("properties", "metadata")),
)

# Limits API_NOTES.md documents that the file does not carry, written as the OpenAPI integer format that
# holds them (schema, property, format). §2: "monthly_spend is truncated to an integer, with a maximum of
# 2^31−1". Company `size` is taken to be held the same way (a choice: not documented).
DOCUMENTED_FORMATS = (
    ("create_or_update_company_request", "monthly_spend", "int32"),
    ("create_or_update_company_request", "size", "int32"),
    ("update_company_request", "monthly_spend", "int32"),
    ("update_company_request", "size", "int32"),
)

# OpenAPI's integer formats as JSON Schema bounds (fastjsonschema does not check OpenAPI formats).
INTEGER_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

_DROPPED_KEYS = {
    "description",
    "example",
    "examples",
    "title",
    "format",
    "readOnly",
    "writeOnly",
    "deprecated",
    "discriminator",
    "xml",
    "externalDocs",
    "default",
}


def load_spec(path: Path) -> dict:
    with open(path, "rb") as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader (libyaml's when available)


def relax_spec(spec: dict) -> dict:
    """Apply the documented relaxations in place and return the spec."""
    schemas = spec["components"]["schemas"]
    for name, path in RELAXED_SCHEMAS:
        node = schemas[name]
        for key in path:
            node = node[key]
        node["additionalProperties"] = {}
    group = schemas["multiple_filter_search_request"]["properties"]
    group["value"] = {
        "type": "array",
        "items": {
            "anyOf": [
                {"$ref": "#/components/schemas/multiple_filter_search_request"},
                {"$ref": "#/components/schemas/single_filter_search_request"},
            ]
        },
    }
    return spec


def add_documented_limits(spec: dict) -> dict:
    """Give the fields in ``DOCUMENTED_FORMATS`` their format in place and return the spec."""
    schemas = spec["components"]["schemas"]
    for name, prop, integer_format in DOCUMENTED_FORMATS:
        schemas[name]["properties"][prop]["format"] = integer_format
    return spec


class _Translator:
    """OpenAPI 3.0 schema → JSON Schema (draft 4 keywords) with refs into ``#/definitions``."""

    def __init__(self, components: dict):
        self.components = components
        self.definitions: dict[str, Any] = {}

    def ref(self, ref: str) -> dict:
        name = ref.rsplit("/", 1)[-1]
        if name not in self.definitions:
            self.definitions[name] = {}  # placeholder first: schemas may refer to themselves
            self.definitions[name] = self.translate(self.components[name])
        return {"$ref": f"#/definitions/{name}"}

    def translate(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            out = self.ref(node["$ref"])
            return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") else out
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROPPED_KEYS or key.startswith("x-") or key == "nullable":
                continue
            if key == "properties":
                out[key] = {name: self.translate(sub) for name, sub in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.translate(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.translate(sub) for sub in value]
            else:
                out[key] = value
        if node.get("format") in INTEGER_FORMATS:
            low, high = INTEGER_FORMATS[node["format"]]
            out.setdefault("minimum", low)
            out.setdefault("maximum", high)
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = [*out["enum"], None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    def compile(self, node: dict) -> Callable[[Any], Any]:
        self.definitions = {}
        root = self.translate(node)
        document = {"definitions": dict(self.definitions), **root}
        return fastjsonschema.compile(document, use_formats=False)


@dataclass
class ParameterRule:
    name: str
    location: str  # query | header | path
    kind: str  # string | integer | boolean | ...
    required: bool
    check: Callable[[Any], Any]
    # A query object sent "form, exploded" (`?user_id=…` for `filter: {user_id}`): its property names.
    exploded: frozenset[str] = frozenset()


@dataclass
class OperationRules:
    method: str
    path: str
    parameters: list[ParameterRule] = field(default_factory=list)
    body_check: Callable[[Any], Any] | None = None

    @property
    def has_body(self) -> bool:
        return self.body_check is not None

    def check_parameters(self, query: Mapping[str, str], headers: Mapping[str, str]) -> None:
        for rule in self.parameters:
            source = query if rule.location == "query" else headers if rule.location == "header" else None
            if source is None:
                continue
            if rule.exploded:
                raw = {name: value for name, value in source.items() if name in rule.exploded} or None
            else:
                raw = source.get(rule.name)
            if raw is None:
                if rule.required:
                    raise ApiError(400, "parameter_not_found", f"{rule.name} not specified", rule.name)
                continue
            value = _coerce(raw, rule.kind)
            try:
                rule.check(value)
            except (fastjsonschema.JsonSchemaValueException, ValueError):
                if rule.name == "Intercom-Version":
                    raise ApiError(
                        400, "intercom_version_invalid", f"Requested version {raw} is not supported"
                    ) from None
                raise ApiError(422, "parameter_invalid", f"{rule.name} is invalid", rule.name) from None

    def check_body(self, body: Any) -> None:
        if self.body_check is None:
            return
        try:
            self.body_check(body)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise _body_error(exc) from None


def _coerce(raw: Any, kind: str) -> Any:
    if kind == "object":
        return raw
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def _body_error(exc: fastjsonschema.JsonSchemaValueException) -> ApiError:
    name = exc.name or "data"
    fieldname = name[5:] if name.startswith("data.") else None
    if fieldname and "[" in fieldname:
        fieldname = fieldname.split("[", 1)[0] or None
    message = exc.message.replace("data.", "", 1) if exc.message.startswith("data.") else exc.message
    if exc.rule == "required":
        match = re.search(r"\[(.*)\]", exc.message)
        missing = match.group(1).replace("'", "") if match else "parameter"
        field_path = f"{fieldname}.{missing}" if fieldname else missing
        return ApiError(400, "parameter_not_found", f"{field_path} not specified", field_path)
    if fieldname == "sort.order":
        return ApiError(
            400,
            "invalid_sort_order",
            f"Invalid sort order '{exc.value}'. Must be one of: ascending, descending",
        )
    branches = exc.definition.get(exc.rule) if isinstance(exc.definition, dict) else None
    if exc.rule == "anyOf" and branches and all(set(b) == {"required"} for b in branches):
        options = " or ".join("(" + ", ".join(b["required"]) + ")" for b in branches)
        where = f" in {fieldname}" if fieldname else ""
        return ApiError(
            400, "parameter_not_found", f"Missing required parameters{where}: {options}", fieldname
        )
    if message.startswith("data "):
        message = "The request body " + message[5:]
    return ApiError(400, "parameter_invalid", message, fieldname)


class SpecValidator:
    """Compiled request rules for the operations the emulator serves."""

    def __init__(self, spec: dict, operations: list[tuple[str, str]]):
        translator = _Translator(spec["components"]["schemas"])
        components = spec["components"]
        self.operations: dict[tuple[str, str], OperationRules] = {}
        for method, path in operations:
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            rules = OperationRules(method=method, path=path)
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = components["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
                schema = parameter.get("schema", {"type": "string"})
                resolved = schema
                if "$ref" in schema:
                    resolved = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                rules.parameters.append(
                    ParameterRule(
                        name=parameter["name"],
                        location=parameter["in"],
                        kind=resolved.get("type", "string"),
                        required=bool(parameter.get("required")) and parameter["in"] != "path",
                        check=translator.compile(schema),
                        exploded=_exploded_names(parameter, resolved),
                    )
                )
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content and "schema" in content["application/json"]:
                body_schema = content["application/json"]["schema"]
                if list(body_schema) == ["oneOf"] and len(body_schema["oneOf"]) == 1:
                    body_schema = body_schema["oneOf"][0]  # `oneOf: [X]` only blurs X's messages
                rules.body_check = translator.compile(body_schema)
            self.operations[(method.upper(), path)] = rules

    @classmethod
    def from_file(cls, path: Path, operations: list[tuple[str, str]]) -> SpecValidator:
        return cls(add_documented_limits(relax_spec(load_spec(path))), operations)

    def rules_for(self, method: str, path: str) -> OperationRules | None:
        return self.operations.get((method.upper(), path))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _exploded_names(parameter: dict, schema: dict) -> frozenset[str]:
    """The property names of a query object sent form-exploded (OpenAPI's default for query objects)."""
    if parameter["in"] != "query" or schema.get("type") != "object":
        return frozenset()
    if parameter.get("style", "form") != "form" or not parameter.get("explode", True):
        return frozenset()
    branches = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return frozenset(name for branch in branches for name in branch.get("properties", {}))
