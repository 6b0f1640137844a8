"""The API's human reference page (/api/v1/docs), drawn from the same OpenAPI description the API serves,
so the page and the description cannot disagree. Plain HTML: no script, nothing loaded from elsewhere."""

import re

from django.template.response import TemplateResponse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from ninja.openapi.docs import DocsBase

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if not ref:
        return node
    name = ref.rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name] | {"title": name}


def _text(markdown: str) -> str:
    """The descriptions use only `code` spans of Markdown."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(markdown)))  # noqa: S308 (escaped first)


def _type(schema: dict, option: dict) -> str:
    if len(option.get("allOf", ())) == 1:  # a field with a default refers to its type this way
        option = option["allOf"][0]
    option = _resolve(schema, option) if "$ref" in option else option
    if "enum" in option:
        return " | ".join(option["enum"])
    if option.get("type") == "array":
        items = _resolve(schema, option["items"])
        return f"list of {items.get('title') if '$ref' in option['items'] else _type(schema, items)}"
    if "properties" in option:
        return option.get("title", "object")
    return option.get("format", option.get("type", "object"))


def _fields(schema: dict, node: dict) -> list[dict]:
    # An optional body is anyOf [the object, null]: describe the object.
    node = next((o for o in node.get("anyOf", ()) if o.get("type") != "null"), node)
    node = _resolve(schema, node)
    required = set(node.get("required", ()))
    fields = []
    for name, prop in node.get("properties", {}).items():
        types = [_type(schema, option) for option in prop.get("anyOf", [prop])]
        fields.append({"name": name, "type": " or ".join(types), "required": name in required,
                       "description": _text(prop.get("description", ""))})  # fmt: skip
    return fields


def _parameters(schema: dict, parameters: list[dict]) -> list[dict]:
    """The path and query parameters: name, where, type and meaning."""
    return [
        {
            "name": p["name"],
            "where": p["in"],
            "type": " or ".join(
                _type(schema, o) for o in p.get("schema", {}).get("anyOf", [p.get("schema", {})])
            ),
            "required": p.get("required", False),
            "description": _text(p.get("description") or p.get("schema", {}).get("description", "")),
        }
        for p in parameters
    ]


def operations(schema: dict) -> list[dict]:
    result = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            request_body = op.get("requestBody", {})
            body = request_body.get("content", {}).get("application/json", {}).get("schema")
            responses = []
            for code, answer in op["responses"].items():
                body_schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                responses.append(
                    {
                        "code": code,
                        "description": _text(answer.get("description", "")),
                        "schema": _resolve(schema, body_schema).get("title", ""),
                    }
                )
            result.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": _text(op.get("description", "")), "anchor": op.get("operationId", ""),
                "body": _fields(schema, body) if body else [], "responses": responses,
                "body_required": request_body.get("required", False),
                "parameters": _parameters(schema, op.get("parameters", [])),
            })  # fmt: skip
    return result


def schemas(schema: dict) -> list[dict]:
    components = schema.get("components", {}).get("schemas", {})
    return [
        {"name": name, "description": _text(node.get("description", "")), "fields": _fields(schema, node)}
        for name, node in components.items()
        if "properties" in node
    ]


class ReferencePage(DocsBase):
    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        context = {
            "api": schema["info"],
            "operations": operations(schema),
            "schemas": schemas(schema),
            "openapi_url": self.get_openapi_url(api, kwargs),
            "api_root": request.build_absolute_uri(self.get_openapi_url(api, kwargs)).rsplit("/", 1)[0],
        }
        return TemplateResponse(request, "api/reference.html", context)
