"""The connect screen's list of permissions covers every Intercom call the client makes: a new call without
a line saying what Syncline does with it fails here."""

import re
from pathlib import Path

import apps.connections.intercom.client as client_module
from apps.connections.intercom.permissions import PERMISSIONS

CALL = re.compile(r'self\.(?:_call|request)\(\s*"(GET|POST|PUT|DELETE)",\s*f?"(/[^"]*)"')


def _resource(path: str) -> str:
    return "/" + path.strip("/").split("/", 1)[0]  # /contacts/{id}/archive → /contacts


def test_every_call_of_the_client_is_named_on_the_connect_screen():
    source = Path(client_module.__file__).read_text()
    calls = {(method, _resource(path)) for method, path in CALL.findall(source)}
    assert len(calls) >= 8  # the pattern still finds the calls
    listed = " ".join(permission.calls for permission in PERMISSIONS)
    missing = sorted(
        (method, resource)
        for method, resource in calls
        if not re.search(rf"\b{method}\b[^,]*{re.escape(resource)}\b", listed)
    )
    assert missing == []
