import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.connections.models import Connection

pytestmark = pytest.mark.django_db


def test_the_demo_connects_through_oauth_and_runs_a_sync(intercom_emulator, settings, tmp_path, capsys):
    settings.VAR_DIR, settings.DUCKDB_DATA_DIR = tmp_path, tmp_path / "duckdb"
    settings.INTERCOM_API_BASE_URLS = settings.INTERCOM_APP_BASE_URLS = intercom_emulator.base_urls
    settings.INTERCOM_CLIENT_ID, settings.INTERCOM_CLIENT_SECRET = "demo-client", "demo-secret"
    settings.SITE_URL = "http://syncline.test"
    intercom_emulator.add_oauth_client(
        "demo-client", "demo-secret", ["http://syncline.test" + reverse("intercom_callback")]
    )
    acme = intercom_emulator.seed_workspace(name="Acme", region="US", id_code="acme-us")
    call_command("demo_setup")
    call_command("demo_sync", "--inline")
    # (run ids depend on the runs other tests made before: PostgreSQL does not roll back sequences)
    first = int(re.search(r"run (\d+) succeeded", capsys.readouterr().out).group(1))
    (connection,) = Connection.objects.filter(kind="destination").across_all_workspaces_unsafe()
    assert connection.config["auth"] == "oauth" and connection.config["workspace_id"] == acme.id_code
    contacts = intercom_emulator.contacts(acme.id_code)
    assert len(contacts) > 900  # the demo warehouse's users, one contact per email
    assert {"plan", "mrr", "sessions_30d"} <= set(contacts[0]["custom_attributes"])

    # The emulator restarted (state lost): the demo reconnects and sends everything again.
    intercom_emulator.reset()
    intercom_emulator.add_oauth_client(
        "demo-client", "demo-secret", ["http://syncline.test" + reverse("intercom_callback")]
    )
    intercom_emulator.seed_workspace(name="Acme", region="US", id_code="acme-us")
    call_command("demo_sync", "--inline")
    assert f"run {first + 1} succeeded" in capsys.readouterr().out
    assert len(intercom_emulator.contacts("acme-us")) == len(contacts)


def test_a_restart_while_the_demo_run_goes_on_says_so_and_goes_on(
    intercom_emulator, settings, tmp_path, capsys
):
    """`./syncline run` started again while its last run is queued or running: no SyncAlreadyRunning."""
    from apps.syncs.models import RunStatus, SyncRun

    settings.VAR_DIR, settings.DUCKDB_DATA_DIR = tmp_path, tmp_path / "duckdb"
    settings.INTERCOM_API_BASE_URLS = settings.INTERCOM_APP_BASE_URLS = intercom_emulator.base_urls
    settings.INTERCOM_CLIENT_ID, settings.INTERCOM_CLIENT_SECRET = "demo-client", "demo-secret"
    settings.SITE_URL = "http://syncline.test"
    intercom_emulator.add_oauth_client(
        "demo-client", "demo-secret", ["http://syncline.test" + reverse("intercom_callback")]
    )
    intercom_emulator.seed_workspace(name="Acme", region="US", id_code="acme-us")
    call_command("demo_setup")
    call_command("demo_sync")  # queued for a worker that is not there yet
    (queued,) = SyncRun.objects.across_all_workspaces_unsafe().filter(status=RunStatus.QUEUED)
    capsys.readouterr()
    call_command("demo_setup")
    call_command("demo_sync")
    assert f"run {queued.pk} is already queued; it goes on" in capsys.readouterr().out
    assert SyncRun.objects.across_all_workspaces_unsafe().count() == 1
