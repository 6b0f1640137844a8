"""Request bodies read the way Intercom's JSON parser reads them: standard JSON, numbers it can hold.

Python's ``json`` is laxer than Intercom: it takes the literals ``NaN``, ``Infinity`` and ``-Infinity``,
turns ``1e400`` into an infinite float, keeps integers of any size and lets ``"\\ud800"`` (half of a
UTF-16 pair) through as a string that cannot be encoded back. Here the literals and lone surrogates are
a parse error (400 ``bad_request``, like any malformed JSON), and an integer outside signed 64-bit or a
number too large for a double is 400 ``parameter_invalid`` naming its field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from emulators.intercom.errors import ApiError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _malformed() -> ApiError:
    return ApiError(400, "bad_request", "There was a problem parsing the JSON body")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Made once: json.loads with keyword arguments builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_body(raw: bytes) -> Any:
    """The parsed body; 400 for anything that is not standard JSON or holds a number out of range."""
    try:
        body = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, RecursionError):
        raise _malformed() from None
    check_values(body)
    return body


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \\uD800-style escape
        return False
    return True


def check_values(body: Any) -> None:
    """Refuse numbers Intercom cannot hold and text that is not Unicode, anywhere in ``body``.

    Iterative, so a deeply nested body costs no recursion."""
    stack: list[tuple[Any, str]] = [(body, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    raise _malformed()
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
        elif isinstance(value, str):
            if not _encodable(value):
                raise _malformed()
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise _out_of_range(path, f"must be an integer between {INT64_MIN} and {INT64_MAX}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise _out_of_range(path, "is too large a number")


def _out_of_range(path: str, rule: str) -> ApiError:
    return ApiError(400, "parameter_invalid", f"{path or 'The request body'} {rule}", path or None)
