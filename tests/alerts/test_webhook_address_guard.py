"""The webhook address guard, as a user and an attacker meet it: URLs that read one host to a naive parser
and another to the HTTP client, IPv4 hidden in IPv6, a name that changes its answer between the check and
the connection, shared hosting, and DEBUG (which the run command always sets) changing nothing."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from apps.alerts.models import WebhookEndpoint
from apps.alerts.webhooks import Outcome, webhook_attempt, webhook_deliveries_create
from apps.syncs.models import RunStatus
from tests.alerts.conftest import PUBLIC_TEST_ADDRESS
from tests.alerts.factories import WebhookEndpointFactory
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def post_endpoint(client, workspace, url):
    return client.post(
        reverse("webhook_settings", args=[workspace.slug]), {"url": url, "events": ["run.failed"]}
    )


def url_error(response) -> str:
    html = response.content.decode()
    return html.split('id="id_url_error"', 1)[1].split("</small>", 1)[0]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        # urlsplit reads the host after "@" (public 1.1.1.1); requests connects to 127.0.0.1:8460.
        ("https://127.0.0.1:8460\\@1.1.1.1/", "Remove the backslash"),
        ("https://ops:secret@hooks.example.com/", "Remove the user name or password"),
        ("https://[::127.0.0.1]/hook", "is a loopback address"),
        ("https://[::ffff:127.0.0.1]/hook", "is a loopback address"),
        ("https://[64:ff9b::7f00:1]/hook", "is a loopback address"),
        ("https://[2002:7f00:1::]/hook", "is a loopback address"),
        ("https://[64:ff9b::a9fe:a9fe]/latest/meta-data", "is a link-local, multicast or reserved address"),
        ("https://[2001::7f00:1]/hook", "is a link-local, multicast or reserved address"),
        ("http://[::1/", "This URL cannot be read"),
        ("https://[::1/hook", "This URL cannot be read"),
    ],
)
def test_bypass_forms_are_refused_next_to_the_field(owner_client, workspace, public_dns, url, words):
    response = post_endpoint(owner_client, workspace, url)
    assert response.status_code == 422
    assert words in url_error(response)
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


def test_private_networks_receive_webhooks_in_team_hosting_only(owner_client, workspace, settings):
    settings.HOSTING_MODE = "team"  # one organisation: its own Airflow on 10.x is a normal receiver
    assert post_endpoint(owner_client, workspace, "https://10.1.2.3/hook").status_code == 201

    settings.HOSTING_MODE = "shared"
    response = post_endpoint(owner_client, workspace, "https://10.1.2.4/hook")
    assert response.status_code == 422
    assert "10.1.2.4 is an address on a private network" in url_error(response)
    assert "is a loopback address" in url_error(post_endpoint(owner_client, workspace, "https://127.0.0.1/"))

    # An endpoint saved in team hosting is not called once the installation is shared.
    delivery = _delivery(WebhookEndpoint.objects.for_workspace(workspace).get())
    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.GAVE_UP, 1)
    assert "private network" in delivery.attempts.get().error


def test_a_name_that_answers_loopback_after_the_check_is_not_followed_there(
    workspace, hook_server, settings, monkeypatch
):
    """DNS rebinding: the first answer (checked) is public, every later one is this machine, where the
    hook server listens. The POST must go to the checked address and never reach the local server."""
    settings.WEBHOOKS_REQUIRE_HTTPS = False  # the local server speaks http; loopback stays refused
    port = int(hook_server.url.rsplit(":", 1)[1].split("/", 1)[0])
    endpoint = WebhookEndpointFactory(workspace=workspace, url=f"http://rebind.example.com:{port}/hooks")
    delivery = _delivery(endpoint)

    answers = [PUBLIC_TEST_ADDRESS]
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    connected_to = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example.com":
            address = answers.pop(0) if answers else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def connect(sock, address):
        if address[0] in (PUBLIC_TEST_ADDRESS, "127.0.0.1") and address[1] == port:
            connected_to.append(address[0])
            if address[0] == PUBLIC_TEST_ADDRESS:  # nothing leaves this machine in a test
                raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)

    assert webhook_attempt(delivery_id=delivery.pk) == (Outcome.RETRY, 1)
    assert connected_to == [PUBLIC_TEST_ADDRESS]
    assert hook_server.received == []
    assert delivery.attempts.get().error.startswith("Could not connect")


def test_the_checks_hold_with_debug_on_as_the_run_command_sets_it():
    """`./syncline run` uses the local settings, which turn DEBUG on; the guard must not notice."""
    code = (
        "from django.conf import settings\n"
        "from apps.alerts.webhooks import webhook_url_check\n"
        "print('DEBUG', settings.DEBUG)\n"
        "for url in ('https://127.0.0.1/x', 'https://169.254.169.254/x', 'http://8.8.8.8/x'):\n"
        "    try:\n"
        "        webhook_url_check(url)\n"
        "    except ValueError as error:\n"
        "        print('refused', error)\n"
        "    else:\n"
        "        print('accepted', url)\n"
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "DEBUG True"
    assert lines[1].startswith("refused 127.0.0.1 is a loopback address")
    assert lines[2].startswith("refused 169.254.169.254 is a link-local")
    assert lines[3].startswith("refused Use an https:// URL")


def _delivery(endpoint):
    run = SyncRunFactory(workspace=endpoint.workspace, status=RunStatus.FAILED)
    deliveries = webhook_deliveries_create(run=run, event_type="run.failed")
    return next(d for d in deliveries if d.endpoint_id == endpoint.pk)
