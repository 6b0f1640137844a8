"""The contact search query language: filters, nested AND/OR groups, sorting and cursor pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

from emulators.intercom.errors import ApiError

SEARCHABLE_FIELDS = {
    "id",
    "external_id",
    "email",
    "email_domain",
    "role",
    "name",
    "phone",
    "owner_id",
    "created_at",
    "updated_at",
    "signed_up_at",
    "last_seen_at",
    "unsubscribed_from_emails",
}
INDEXED_FIELDS = ("id", "external_id", "email")
MAX_GROUP_DEPTH = 2
MAX_FILTERS_PER_GROUP = 15
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 150

Predicate = Callable[[dict], bool]


def _field_value(snapshot: dict, field: str) -> Any:
    if field.startswith("custom_attributes."):
        return snapshot.get("custom_attributes", {}).get(field.split(".", 1)[1])
    return snapshot.get(field)


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equal(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual == expected or str(actual).lower() == str(expected).lower()
    if isinstance(actual, int | float) and not isinstance(expected, str | int | float):
        return False
    if isinstance(actual, int | float):
        number = _number(expected)
        return number is not None and float(actual) == number
    return _norm(str(actual)) == _norm(str(expected))


def _compare(op: str) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        left, right = _number(actual), _number(expected)
        if left is None or right is None:
            if isinstance(actual, str) and isinstance(expected, str):
                left_s, right_s = actual.lower(), expected.lower()
                return {"<": left_s < right_s, ">": left_s > right_s, "<=": left_s <= right_s}.get(
                    op, left_s >= right_s
                )
            return False
        return {"<": left < right, ">": left > right, "<=": left <= right}.get(op, left >= right)

    return check


def _text(op: str) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        if actual is None or expected is None:
            return False
        left, right = str(actual).lower(), str(expected).lower()
        if op == "~":
            return right in left
        if op == "!~":
            return right not in left
        if op == "^":
            return left.startswith(right)
        return left.endswith(right)

    return check


def _build_filter(node: dict) -> Predicate:
    field = node.get("field")
    op = node.get("operator")
    expected = node.get("value")
    if not isinstance(field, str) or not (
        field in SEARCHABLE_FIELDS or field.startswith("custom_attributes.")
    ):
        raise ApiError(400, "parameter_invalid", f"'{field}' is not a searchable field", "query.field")
    if op in ("IN", "NIN"):
        if not isinstance(expected, list):
            raise ApiError(400, "parameter_invalid", f"Operator {op} needs a list of values", "query.value")
        inside = op == "IN"
        return lambda snap: any(_equal(_field_value(snap, field), item) for item in expected) is inside
    if isinstance(expected, list):
        raise ApiError(400, "parameter_invalid", f"Operator {op} does not take a list", "query.value")
    if op == "=":
        return lambda snap: _equal(_field_value(snap, field), expected)
    if op == "!=":
        return lambda snap: not _equal(_field_value(snap, field), expected)
    if op in ("<", ">", "<=", ">="):
        compare = _compare(op)
        return lambda snap: compare(_field_value(snap, field), expected)
    if op in ("~", "!~", "^", "$"):
        text = _text(op)
        return lambda snap: text(_field_value(snap, field), expected)
    raise ApiError(400, "parameter_invalid", f"Operator '{op}' is not supported", "query.operator")


def build_predicate(node: dict, depth: int = 0) -> Predicate:
    """Compile a query tree to one predicate over contact snapshots (validates depth and group size)."""
    if not isinstance(node, dict):
        raise ApiError(400, "parameter_invalid", "query must be an object", "query")
    if node.get("operator") in ("AND", "OR"):
        if depth >= MAX_GROUP_DEPTH:
            raise ApiError(400, "parameter_invalid", "Queries can be nested at most 2 levels deep", "query")
        children = node.get("value")
        if not isinstance(children, list) or not children:
            raise ApiError(400, "parameter_invalid", "A query group needs a list of filters", "query.value")
        if len(children) > MAX_FILTERS_PER_GROUP:
            raise ApiError(
                400, "parameter_invalid", "A query group can hold at most 15 filters", "query.value"
            )
        predicates = [build_predicate(child, depth + 1) for child in children]
        if node["operator"] == "AND":
            return lambda snap: all(predicate(snap) for predicate in predicates)
        return lambda snap: any(predicate(snap) for predicate in predicates)
    return _build_filter(node)


def index_key(node: dict) -> tuple[str, str] | None:
    """An ``=`` on an indexed field that every match must satisfy (top level or inside a top AND)."""
    if not isinstance(node, dict):
        return None
    if node.get("operator") == "AND" and isinstance(node.get("value"), list):
        for child in node["value"]:
            key = index_key(child) if isinstance(child, dict) and "field" in child else None
            if key is not None:
                return key
        return None
    if (
        node.get("operator") == "="
        and node.get("field") in INDEXED_FIELDS
        and isinstance(node.get("value"), str)
    ):
        return node["field"], node["value"].lower()
    return None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset]).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        offset = int(value[0])
    except (ValueError, TypeError, IndexError, KeyError):
        raise ApiError(
            400, "parameter_invalid", "starting_after is not a valid cursor", "starting_after"
        ) from None
    if offset < 0:
        raise ApiError(400, "parameter_invalid", "starting_after is not a valid cursor", "starting_after")
    return offset


def page_size(requested: Any) -> int:
    if requested is None:
        return DEFAULT_PER_PAGE
    if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
        raise ApiError(400, "parameter_invalid", "per_page must be a positive integer", "per_page")
    return min(requested, MAX_PER_PAGE)


def paginate(items: list, per_page: int, starting_after: str | None) -> tuple[list, dict]:
    """Slice ``items`` for a cursor page and build Intercom's ``pages`` object."""
    offset = decode_cursor(starting_after)
    chunk = items[offset : offset + per_page]
    total_pages = (len(items) + per_page - 1) // per_page
    pages: dict[str, Any] = {
        "type": "pages",
        "page": offset // per_page + 1,  # recorded: 1 for an empty result too
        "per_page": per_page,
        "total_pages": total_pages,
    }
    if offset + per_page < len(items):
        pages["next"] = {"per_page": per_page, "starting_after": encode_cursor(offset + per_page)}
    return chunk, pages


def sort_snapshots(snapshots: Iterable[dict], sort: dict | None) -> list[dict]:
    field = (sort or {}).get("field") or "created_at"
    descending = (sort or {}).get("order", "ascending") == "descending"  # recorded: oldest first

    def key(snapshot: dict) -> tuple:
        value = _field_value(snapshot, field)
        return (value is not None, _norm(value) if value is not None else 0, snapshot["id"])

    try:
        return sorted(snapshots, key=key, reverse=descending)
    except TypeError:  # mixed value types under one custom attribute: fall back to their text
        return sorted(snapshots, key=lambda s: (str(_field_value(s, field)), s["id"]), reverse=descending)
