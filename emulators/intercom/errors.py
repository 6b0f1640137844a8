"""Intercom's error shape: every 4xx/5xx body is an ``error.list`` with a request id."""

from __future__ import annotations

import uuid

from starlette.responses import JSONResponse


def new_request_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into an ``error.list`` response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(request_id: str, code: str, message: str | None, field: str | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"type": "error.list", "request_id": request_id, "errors": [error]}


def error_response(request_id: str, exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(request_id, exc.code, exc.message, exc.field), status_code=exc.status, headers=exc.headers
    )


# Shorthands for the errors Intercom sends most often on the endpoints we emulate.
def unauthorized(message: str = "Access Token Invalid", code: str = "unauthorized") -> ApiError:
    return ApiError(401, code, message)


def contact_not_found() -> ApiError:
    return ApiError(404, "not_found", "User Not Found")


def company_not_found() -> ApiError:
    return ApiError(404, "company_not_found", "Company Not Found")
