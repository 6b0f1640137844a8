"""Data attributes: the standard ones Intercom ships, custom ones created over the API, and value checks."""

from __future__ import annotations

import unicodedata
from typing import Any

from emulators.intercom.errors import ApiError
from emulators.intercom.routing import Call, Route
from emulators.intercom.store import DataAttribute, State, Workspace, now

# (name, data_type, api_writable, label)
STANDARD_ATTRIBUTES: dict[str, list[tuple[str, str, bool, str]]] = {
    "contact": [
        ("name", "string", True, "Name"),
        ("email", "string", True, "Email"),
        ("phone", "string", True, "Phone"),
        ("external_id", "string", True, "User ID"),
        ("role", "string", True, "Role"),
        ("avatar", "string", True, "Avatar"),
        ("owner_id", "string", True, "Owner"),
        ("signed_up_at", "date", True, "Signed up"),
        ("last_seen_at", "date", True, "Last seen"),
        ("unsubscribed_from_emails", "boolean", True, "Unsubscribed from emails"),
        ("created_at", "date", False, "First seen"),
        ("updated_at", "date", False, "Last updated"),
        ("email_domain", "string", False, "Email domain"),
    ],
    "company": [
        ("name", "string", True, "Company name"),
        ("company_id", "string", True, "Company ID"),
        ("plan", "string", True, "Plan"),
        ("size", "integer", True, "Company size"),
        ("website", "string", True, "Website"),
        ("industry", "string", True, "Industry"),
        ("monthly_spend", "float", True, "Monthly spend"),
        ("remote_created_at", "date", True, "Company created at"),
        ("created_at", "date", False, "First seen"),
        ("last_request_at", "date", False, "Last seen"),
        ("user_count", "integer", False, "People"),
        ("session_count", "integer", False, "Sessions"),
    ],
}

CREATE_TYPES = ("string", "integer", "float", "boolean", "date", "datetime", "options")
MODEL_LABELS = {"contact": "people", "company": "company"}


def _response_type(data_type: str) -> str:
    # The spec's response enum is string/integer/float/boolean/date: datetime reads as date, options as string.
    return {"datetime": "date", "options": "string"}.get(data_type, data_type)


def standard_json(model: str, name: str, data_type: str, writable: bool, label: str) -> dict:
    return {
        "type": "data_attribute",
        "model": model,
        "name": name,
        "full_name": name,
        "label": label,
        "description": label,
        "data_type": data_type,
        "api_writable": writable,
        "ui_writable": writable,
        "messenger_writable": False,
        "custom": False,
        "archived": False,
    }


def custom_json(attribute: DataAttribute) -> dict:
    body = {
        "type": "data_attribute",
        "id": attribute.id,
        "model": attribute.model,
        "name": attribute.name,
        "full_name": f"custom_attributes.{attribute.name}",
        "label": attribute.name,
        "description": attribute.description,
        "data_type": _response_type(attribute.data_type),
        "api_writable": True,
        "ui_writable": True,
        "messenger_writable": attribute.messenger_writable,
        "custom": True,
        "archived": attribute.archived,
        "created_at": attribute.created_at,
        "updated_at": attribute.updated_at,
        "admin_id": attribute.admin_id,
    }
    if attribute.data_type == "options":
        body["options"] = list(attribute.options)
    return body


def list_attributes(workspace: Workspace, model: str | None, include_archived: bool) -> dict:
    models = [model] if model else ["contact", "company"]
    data: list[dict] = []
    for each in models:
        data.extend(standard_json(each, *row) for row in STANDARD_ATTRIBUTES[each])
        data.extend(
            custom_json(attribute)
            for attribute in workspace.attributes.values()
            if attribute.model == each and (include_archived or not attribute.archived)
        )
    return {"type": "list", "data": data}


def _name_is_valid(name: str) -> bool:
    if not name.strip() or len(name) > 190:
        return False
    for char in name:
        if char.isalnum() or char in "_- " or unicodedata.category(char) == "Sc":
            continue
        return False
    return True


def create_attribute(state: State, workspace: Workspace, body: dict) -> DataAttribute:
    name = body["name"]
    model = body["model"]
    data_type = body["data_type"]
    if data_type not in CREATE_TYPES:
        raise ApiError(400, "parameter_invalid", "Data Type isn't an option", "data_type")
    if not _name_is_valid(name):
        raise ApiError(
            400,
            "parameter_invalid",
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, "
            "and hyphens",
            "name",
        )
    clash = _name_clash(workspace, model, name)
    if clash is not None:
        raise ApiError(
            400,
            "parameter_invalid",
            f"You already have '{name}' in your {MODEL_LABELS[clash]} data. To save this as new "
            f"{MODEL_LABELS[model]} data, use a different name.",
            "name",
        )
    options: list[str] = []
    if data_type == "options":
        options = [str(option.get("value", "")) for option in body.get("options", [])]
        if len(options) < 2 or any(not option for option in options):
            raise ApiError(
                400, "parameter_invalid", "Options attributes need at least two non-empty options", "options"
            )
    attribute = DataAttribute(
        id=state.next_attribute_id(),
        model=model,
        name=name,
        data_type=data_type,
        description=str(body.get("description") or ""),
        options=options,
        messenger_writable=bool(body.get("messenger_writable", False)),
        admin_id=workspace.admin.id,
    )
    workspace.attributes[attribute.id] = attribute
    return attribute


def _name_clash(workspace: Workspace, model: str, name: str) -> str | None:
    """The model that already has ``name``: its own standard attributes, or any model's custom ones."""
    lowered = name.lower()
    if any(row[0].lower() == lowered for row in STANDARD_ATTRIBUTES[model]):
        return model
    for attribute in workspace.attributes.values():
        if attribute.name.lower() == lowered:
            return attribute.model
    return None


def update_attribute(workspace: Workspace, attribute_id: str, body: dict) -> DataAttribute:
    attribute = workspace.attributes.get(int(attribute_id)) if attribute_id.isdigit() else None
    if attribute is None:
        raise ApiError(404, "field_not_found", "We couldn't find that data attribute to update")
    if "data_type" in body and body["data_type"] != attribute.data_type:
        raise ApiError(
            400, "parameter_invalid", "The data type of an attribute can't be changed", "data_type"
        )
    if "archived" in body:
        attribute.archived = bool(body["archived"])
    if "description" in body:
        attribute.description = str(body["description"] or "")
    if "messenger_writable" in body:
        attribute.messenger_writable = bool(body["messenger_writable"])
    if "options" in body and attribute.data_type == "options":
        attribute.options = [str(option.get("value", "")) for option in body["options"]]
    attribute.updated_at = now()
    return attribute


def _value_matches(data_type: str, value: Any, options: list[str]) -> bool:
    if data_type == "string":
        return isinstance(value, str)
    if data_type == "options":
        return isinstance(value, str)
    if data_type == "boolean":
        return isinstance(value, bool)
    if data_type in ("integer", "date", "datetime"):
        return isinstance(value, int) and not isinstance(value, bool)
    if data_type == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


def check_custom_attributes(workspace: Workspace, model: str, values: dict[str, Any]) -> None:
    """Every key must be a live custom attribute of ``model`` and every non-null value of its type."""
    for key, value in values.items():
        attribute = workspace.custom_attribute(model, key)
        if attribute is None or attribute.archived:
            raise ApiError(
                400,
                "parameter_not_found",
                f"Custom attribute '{key}' does not exist",
                f"custom_attributes.{key}",
            )
        if value is None:
            continue
        if not _value_matches(attribute.data_type, value, attribute.options):
            raise ApiError(
                400,
                "parameter_invalid",
                f"Custom attribute '{key}' is of type {attribute.data_type}, got {type(value).__name__} value",
                f"custom_attributes.{key}",
            )


def list_handler(call: Call) -> tuple[int, Any]:
    include_archived = call.query.get("include_archived", "false").lower() == "true"
    return 200, list_attributes(call.workspace, call.query.get("model"), include_archived)


def create_handler(call: Call) -> tuple[int, Any]:
    return 200, custom_json(create_attribute(call.state, call.workspace, call.body))


def update_handler(call: Call) -> tuple[int, Any]:
    return 200, custom_json(
        update_attribute(call.workspace, call.params["data_attribute_id"], call.body or {})
    )


ROUTES = [
    Route("GET", "/data_attributes", list_handler),
    Route("POST", "/data_attributes", create_handler),
    Route("PUT", "/data_attributes/{data_attribute_id}", update_handler),
]
