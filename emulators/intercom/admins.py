"""``GET /me``: the token's admin and the workspace (``app``) it belongs to."""

from __future__ import annotations

from typing import Any

from emulators.intercom.routing import Call, Route
from emulators.intercom.store import Workspace


def me_json(workspace: Workspace) -> dict:
    admin = workspace.admin
    return {
        "type": "admin",
        "id": admin.id,
        "email": admin.email,
        "name": admin.name,
        "email_verified": True,
        "app": {
            "type": "app",
            "id_code": workspace.id_code,
            "name": workspace.name,
            "created_at": workspace.created_at,
            "secure": False,
            "identity_verification": False,
            "timezone": workspace.timezone,
            "region": workspace.region,
        },
        "avatar": {"type": "avatar", "image_url": None},
        "has_inbox_seat": True,
    }


def me(call: Call) -> tuple[int, Any]:
    return 200, me_json(call.workspace)


ROUTES = [Route("GET", "/me", me)]
