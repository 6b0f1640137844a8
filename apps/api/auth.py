"""Bearer-token authentication for the REST API.

Only the `Authorization: Bearer <secret>` header authenticates: a session cookie never does, which is why
the API's views can skip Django's CSRF check (a forged cross-site request carries no bearer secret).
"""

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from apps.api import selectors, services
from apps.api.models import ApiKey
from apps.api.throttle import TooManyFailedKeys, failed_key_record, failed_keys_wait
from apps.tenancy.audit import audit_set
from apps.tenancy.models import AuditVia, Role

WHERE_KEYS_ARE = "API keys are created in Settings → API keys."


class ApiKeyRefused(AuthenticationError):
    def __init__(self, code: str, message: str):
        super().__init__(status_code=401, message=message)
        self.code = code


class KeyRoleRefused(Exception):
    """A valid key whose role does not allow the operation (403)."""


class ApiKeyAuth(HttpBearer):
    """Any valid key of the workspace; `role` = Role.EDITOR for the operations that change or trigger. The
    role is checked with the key, before the request's parameters and body are read, so a viewer key learns
    nothing from a write it may not make."""

    def __init__(self, role: Role = Role.VIEWER):
        super().__init__()
        self.role = role

    def __call__(self, request: HttpRequest) -> ApiKey:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.strip().partition(" ")
        if not header:
            raise ApiKeyRefused(
                "missing_api_key",
                f"Send an API key in the header “Authorization: Bearer <key>”. {WHERE_KEYS_ARE}",
            )
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiKeyRefused(
                "malformed_authorization",
                "The Authorization header must read “Bearer <key>” (one space between).",
            )
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        # An address that has tried too many wrong keys is refused before its key is looked at: a valid
        # key from it waits too, or the answer would tell a guesser which secret was right.
        wait = failed_keys_wait(request)
        if wait is not None:
            raise TooManyFailedKeys(wait)
        api_key = selectors.api_key_find_by_secret(secret=token)
        if api_key is None or api_key.revoked_at is not None:
            failed_key_record(request)
        if api_key is None:
            raise ApiKeyRefused(
                "invalid_api_key",
                f"This API key is not valid: check that it was copied whole. {WHERE_KEYS_ARE}",
            )
        if api_key.revoked_at is not None:
            raise ApiKeyRefused(
                "revoked_api_key",
                f"This API key was revoked on {api_key.revoked_at:%Y-%m-%d %H:%M} UTC. {WHERE_KEYS_ARE}",
            )
        services.api_key_mark_used(api_key=api_key)
        if not api_key.can(self.role):
            raise KeyRoleRefused(
                f"The API key “{api_key.name}” is a viewer key: it can read but not change or trigger anything. "
                "Use an editor key (Settings → API keys)."
            )
        audit_set(via=AuditVia.API, label=f"API key “{api_key.name}” ({api_key.prefix}…)")
        return api_key


EDITOR_KEY = ApiKeyAuth(role=Role.EDITOR)
