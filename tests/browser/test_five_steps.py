"""The five steps in a real browser, from sign-up to the records in Intercom (the emulator)."""

import re
import time

import duckdb
import pytest
from playwright.sync_api import expect

from apps.connections.models import Connection
from apps.syncs.models import ACTIVE_STATUSES, RunStatus, Sync, SyncRun
from apps.tenancy.models import Workspace

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PEOPLE = [(1, "ada@example.com", "Ada Lovelace", "pro", 3), (2, "alan@example.com", "Alan Turing", "free", 1),
          (3, "grace@example.com", "Grace Hopper", "team", 5)]  # fmt: skip


def warehouse_file(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE people (id INTEGER, email VARCHAR, full_name VARCHAR, plan VARCHAR, seats INTEGER)"
        )
        conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?, ?)", PEOPLE)
    return path


def wait_for_run(sync, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = SyncRun.objects.for_workspace(sync.workspace).filter(sync=sync).first()
        if run is not None and run.status not in ACTIVE_STATUSES:
            return run
        time.sleep(0.5)
    pytest.fail(f"the run of {sync} did not end within {seconds} s")


def test_from_sign_up_to_records_in_intercom(page, shot, live_server, live_intercom, run_worker, tmp_path):
    live_intercom.seed_workspace(name="Acme US", region="US", admin_email="admin@example.com")
    europe = live_intercom.seed_workspace(
        name="Acme Europe",
        region="EU",
        admin_email="admin@example.com",
        data_attributes=[{"name": "plan", "data_type": "string"}],
    )

    # Sign up: the account and its workspace.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.locator("[name=email]").fill("dana@example.com")
    page.locator("[name=password1]").fill("a-long-browser-password")
    page.locator("[name=password2]").fill("a-long-browser-password")
    page.get_by_label("Workspace name").fill("Growth")
    shot("sign-up")
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    workspace = Workspace.objects.get(name="Growth")
    w = f"{live_server.url}/w/{workspace.slug}"
    shot("home")

    # 1. Connect Intercom through the consent page, choosing the EU region and the EU workspace.
    page.goto(f"{w}/connections/intercom/new/")
    page.get_by_label("Region", exact=True).first.select_option("EU")
    page.get_by_role("button", name="Continue to Intercom", exact=True).click()
    expect(
        page.get_by_text("Syncline wants to connect to one of your Intercom workspaces.", exact=True)
    ).to_be_visible()
    expect(page.locator(f"#ws-{europe.id_code}")).to_be_checked()
    # A US workspace installs from the US host.
    us = page.get_by_role("radio", name=re.compile(r"^Acme US US \w+ \(install from the US app host\)$"))
    expect(us).to_be_disabled()
    shot("intercom-consent")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("Connected to Acme Europe (EU).", exact=True)).to_be_visible()
    shot("intercom-connected")

    # 2. Connect the warehouse (a DuckDB file).
    page.goto(f"{w}/connections/sources/new/?type=duckdb")
    page.get_by_label("Name", exact=True).fill("Warehouse")
    page.get_by_label("Database file").fill(str(warehouse_file(tmp_path)))
    page.get_by_role("button", name="Test and connect", exact=True).click()
    expect(
        page.get_by_text(re.compile(r"^“Warehouse” saved and connected \(DuckDB v[\d.]+\)\.$"))
    ).to_be_visible()
    shot("warehouse-connected")

    # 3. Write a model.
    page.goto(f"{w}/models/new/")
    # The SQL editor (CodeMirror, over the form's textarea)
    page.get_by_role("textbox", name="SQL", exact=True).fill(
        "SELECT id, email, full_name, plan, seats FROM people"
    )
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("#preview").get_by_text("grace@example.com", exact=True)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("People")
    page.get_by_label("Primary-key column").fill("id")
    shot("model")
    page.get_by_role("button", name="Save model", exact=True).click()
    expect(page.get_by_text("Model “People” saved with 5 columns.", exact=True)).to_be_visible()

    # 4. Create the sync: the wizard.
    page.goto(f"{w}/syncs/new/")
    expect(page.get_by_role("heading", name="What data do you want to sync?", exact=True)).to_be_visible()
    page.get_by_label("Source connection").select_option(label="Warehouse")
    page.get_by_label("Model").select_option(label="People (5 columns, key id)")
    shot("wizard-1-data")
    page.get_by_role("button", name="Next", exact=True).click()

    expect(page.get_by_role("heading", name="Where do you want to sync data to?", exact=True)).to_be_visible()
    expect(page.get_by_label("Intercom connection", exact=True)).to_have_value(
        str(Connection.objects.for_workspace(workspace).get(kind="destination").pk)
    )
    page.locator("input[name=object_key][value=user]").check()
    shot("wizard-2-destination")
    page.get_by_role("button", name="Next", exact=True).click()

    expect(
        page.get_by_role("heading", name="How should changes to the source be synced?", exact=True)
    ).to_be_visible()
    update_only = (
        "Update Only safe start A safe start: updates the records Intercom already has and never creates any."
    )
    expect(page.get_by_role("radio", name=update_only, exact=True)).to_be_checked()  # preselected
    page.get_by_label("Update or Create").check()
    page.get_by_label("Model column").select_option("")  # no column: refused in place
    page.get_by_role("button", name="Next", exact=True).click()
    expect(
        page.get_by_text("Choose the model column that matches the Intercom identifier.", exact=True)
    ).to_be_visible()
    shot("wizard-3-key-missing")
    page.get_by_label("Model column").select_option("id")
    expect(page.get_by_label("Intercom identifier", exact=True)).to_have_value("external_id")
    shot("wizard-3-behavior")
    page.get_by_role("button", name="Next", exact=True).click()

    expect(page.get_by_role("heading", name="Which fields should be updated?", exact=True)).to_be_visible()
    # Suggested by name: email → Email, full_name → Name, plan → the plan attribute.
    page.get_by_role("button", name="Accept all 3 suggestions", exact=True).click()
    expect(page.locator("select[name=map-1-column]")).to_have_value("full_name")
    page.get_by_role("button", name="+ Add mapping", exact=True).click()
    page.locator("select[name=map-3-column]").select_option("plan")
    page.locator("select[name=map-3-target]").select_option("std:signed_up_at")  # text into a date
    page.get_by_role("button", name="Next", exact=True).click()
    expect(
        page.get_by_text(
            "“plan” is text, but Signed up at takes a date. Cast it in the model's SQL: CAST(plan AS TIMESTAMP)",
            exact=True,
        )
    ).to_be_visible()
    expect(page.locator("select[name=map-1-column]")).to_have_value("full_name")  # nothing chosen was lost
    shot("wizard-4-type-mismatch")
    page.get_by_role("button", name="Remove mapping 4", exact=True).click()
    expect(page.locator("select.map-column")).to_have_count(3)
    page.get_by_label("Name of the sync").fill("People to Intercom")
    shot("wizard-4-fields")
    page.get_by_role("button", name="Next", exact=True).click()

    expect(page.get_by_role("heading", name="Preview: what the sync will do", exact=True)).to_be_visible()
    expect(page.locator(".count-grid")).to_contain_text("3to create")
    expect(
        page.get_by_role("cell", name="grace@example.com", exact=True)
    ).to_be_visible()  # the table, not the raw body
    shot("wizard-5-preview")
    page.get_by_role("button", name="Run sync", exact=True).click()

    # 5. The run, then the records in Intercom.
    expect(page.get_by_role("heading", level=1)).to_contain_text("People to Intercom")  # the sync page
    sync = Sync.objects.for_workspace(workspace).get(name="People to Intercom")
    run = wait_for_run(sync)
    assert run.status == RunStatus.SUCCEEDED, run.first_error
    assert run.counts["created"] == 3
    page.reload()
    expect(page.get_by_text("Succeeded", exact=True).first).to_be_visible()
    shot("sync-page-after-run")

    contacts = {c["external_id"]: c for c in live_intercom.contacts(europe.id_code)}
    assert set(contacts) == {"1", "2", "3"}
    assert contacts["3"]["email"] == "grace@example.com" and contacts["3"]["name"] == "Grace Hopper"
    assert contacts["1"]["custom_attributes"]["plan"] == "pro"
    page.goto(live_intercom.dashboard_url)
    expect(page.get_by_role("cell", name="grace@example.com", exact=True)).to_be_visible()
    shot("emulator-records")
