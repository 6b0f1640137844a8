"""What every endpoint module shares: the errors an endpoint raises (turned into JSON answers by the handlers
in endpoints.py), lookups that answer 404, and the words of the description."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from django.http import Http404, HttpRequest
from django.urls import reverse

from apps.common.problems import Invalid, Problem

T = TypeVar("T")


class NotFound(Exception):
    pass


class Conflict(Exception):
    """The request is valid but the object's state refuses it (409)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Unprocessable(Exception):
    """422: each problem as (field, code, message), the field a path into the request."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        super().__init__("; ".join(message for _, _, message in problems))
        self.problems = problems


def unprocessable(invalid: Invalid, field_of: Callable[[Hashable], str] = str) -> Unprocessable:
    """A service's `Invalid`, each problem's subject named as the request's field (`field_of`)."""
    return Unprocessable([(field_of(p.subject), p.code, p.message) for p in invalid.problems])


def problem(field: str, code: str, message: str) -> Unprocessable:
    return unprocessable(Invalid([Problem(field, code, message)]))


def found(lookup: Callable[[], T], kind: str, object_id: int) -> T:
    try:
        return lookup()
    except Http404:
        raise NotFound(f"No {kind} with id {object_id} in the workspace of this API key.") from None


def absolute(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def answers(**meanings: str) -> dict:
    """What each status means for this operation, for the description (ninja writes only "Not Found")."""
    return {"responses": {int(code.lstrip("_")): {"description": text} for code, text in meanings.items()}}


NO_KEY = "No valid API key: missing, malformed, unknown or revoked (see `error`)."
TOO_MANY = (
    "Too many requests with this key, or too many unknown or revoked keys from your address; `Retry-After` "
    "says in how many seconds to try again."
)
VIEWER_KEY = "The key is a viewer key: it reads only."
INVALID = "The request is not valid: `problems` names each field with what is wrong."
