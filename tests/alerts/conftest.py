"""A real local HTTP server standing in for a customer's webhook endpoint, and a signature check written
from the documented scheme (the way a receiver would)."""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class HookServer:
    """Answers POSTs with the scripted statuses in order (the last one repeats) and keeps every request."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self) -> int:
        index = min(len(self.received) - 1, len(self.statuses) - 1)
        return self.statuses[index]


@pytest.fixture
def hook_server():
    state = HookServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            )
            time.sleep(state.delay)
            status = state.answer()
            payload = b"ok" if status < 400 else f"scripted failure {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/syncline"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_webhooks(settings):
    """Let endpoints on this machine over http receive webhooks (the test server)."""
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.UNSAFE_ALLOW_LOOPBACK_WEBHOOKS = True
    return settings


PUBLIC_TEST_ADDRESS = "93.184.215.14"  # a public address; nothing is ever sent to it from these tests


@pytest.fixture
def public_dns(monkeypatch):
    """No DNS here: names under example.com resolve to a public address, others as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_TEST_ADDRESS, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class BadSignature(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance: int = 300) -> dict:
    """A receiver's check, from the Standard Webhooks description on the webhook page: HMAC-SHA256 keyed
    with base64-decoded secret (after "whsec_") over "{webhook-id}.{webhook-timestamp}.{body}", base64,
    prefixed "v1,"; a timestamp within the tolerance. Returns the parsed event."""
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise BadSignature("timestamp too old")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    )
    for candidate in headers["webhook-signature"].split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            event = json.loads(body)
            if event["id"] != message_id:
                raise BadSignature("body id differs from webhook-id")
            return event
    raise BadSignature("no matching signature")
