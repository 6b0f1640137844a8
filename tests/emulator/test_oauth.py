"""The OAuth consent page and the code → token exchange."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.emulator.conftest import assert_error

REDIRECT = "https://syncline.test/oauth/callback"


def _setup(emu):
    emu.add_oauth_client("client-1", "secret-1", [REDIRECT, "https://syncline.test/alt"], name="Syncline")
    us = emu.seed_workspace(name="Acme US", region="US", id_code="acmeus")
    eu = emu.seed_workspace(name="Acme EU", region="EU", id_code="acmeeu")
    emu.seed_workspace(name="Someone else", region="US", id_code="other", admin_email="other@example.com")
    return us, eu


def _approve(emu, region, workspace_id, state="st-1", client_id="client-1"):
    page = httpx.get(emu.authorize_url(region, client_id, state))
    assert page.status_code == 200
    form = {
        "client_id": client_id,
        "state": state,
        "redirect_uri": REDIRECT,
        "admin_email": "admin@example.com",
        "workspace": workspace_id,
        "decision": "approve",
    }
    response = httpx.post(f"{emu.base_url(region)}/oauth", data=form)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)


def test_consent_page_lists_the_admins_workspaces_with_regions(intercom_emulator):
    _setup(intercom_emulator)
    page = httpx.get(intercom_emulator.authorize_url("US", "client-1", "abc"))
    assert page.status_code == 200
    html = page.text
    assert "Install Syncline" in html
    assert re.search(r"type='radio' name='workspace' value='acmeus' checked", html)
    assert "Acme EU" in html and ">EU<" in html  # listed with its region, but installed from the EU host
    assert re.search(r"value='acmeeu' disabled", html)
    assert "Someone else" not in html
    assert "value='approve'>Approve</button>" in html
    assert "value='cancel'>Cancel</button>" in html


def test_approve_redirects_with_code_and_state_and_the_code_buys_a_token(intercom_emulator):
    _setup(intercom_emulator)
    query = _approve(intercom_emulator, "EU", "acmeeu", state="xyz")
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    assert code.endswith("=")
    response = httpx.post(
        intercom_emulator.token_url("EU"),
        data={"code": code, "client_id": "client-1", "client_secret": "secret-1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["token"] == body["access_token"]
    with intercom_emulator.client(body["token"], region="EU") as client:
        assert client.get("/me").json()["app"]["id_code"] == "acmeeu"


def test_token_exchange_accepts_json(intercom_emulator):
    _setup(intercom_emulator)
    code = _approve(intercom_emulator, "US", "acmeus")["code"][0]
    response = httpx.post(
        intercom_emulator.token_url("US"),
        json={"code": code, "client_id": "client-1", "client_secret": "secret-1"},
    )
    assert response.status_code == 200


def test_codes_are_single_use(intercom_emulator):
    _setup(intercom_emulator)
    code = _approve(intercom_emulator, "US", "acmeus")["code"][0]
    form = {"code": code, "client_id": "client-1", "client_secret": "secret-1"}
    assert httpx.post(intercom_emulator.token_url("US"), data=form).status_code == 200
    assert_error(
        httpx.post(intercom_emulator.token_url("US"), data=form), 401, "unauthorized", "Unauthorized Code"
    )


def test_codes_expire(intercom_emulator):
    _setup(intercom_emulator)
    intercom_emulator.set_oauth_code_ttl(0.2)
    code = _approve(intercom_emulator, "US", "acmeus")["code"][0]
    time.sleep(0.3)
    form = {"code": code, "client_id": "client-1", "client_secret": "secret-1"}
    assert_error(
        httpx.post(intercom_emulator.token_url("US"), data=form), 401, "unauthorized", "Unauthorized Code"
    )


def test_wrong_secret_gets_401(intercom_emulator):
    _setup(intercom_emulator)
    code = _approve(intercom_emulator, "US", "acmeus")["code"][0]
    form = {"code": code, "client_id": "client-1", "client_secret": "wrong"}
    assert_error(httpx.post(intercom_emulator.token_url("US"), data=form), 401, "unauthorized")
    form["client_secret"] = "secret-1"  # the failed attempt did not burn the code
    assert httpx.post(intercom_emulator.token_url("US"), data=form).status_code == 200


def test_missing_parameters_get_400(intercom_emulator):
    _setup(intercom_emulator)
    response = httpx.post(intercom_emulator.token_url("US"), data={"client_id": "client-1"})
    assert_error(response, 400, "parameter_not_found")


def test_cancel_redirects_with_an_error(intercom_emulator):
    _setup(intercom_emulator)
    form = {"client_id": "client-1", "state": "s9", "redirect_uri": REDIRECT, "decision": "cancel"}
    response = httpx.post(f"{intercom_emulator.base_url('US')}/oauth", data=form)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s9"]
    assert "code" not in query


def test_unknown_client_or_unregistered_redirect_is_refused(intercom_emulator):
    _setup(intercom_emulator)
    assert httpx.get(intercom_emulator.authorize_url("US", "nope", "s")).status_code == 400
    url = intercom_emulator.authorize_url("US", "client-1", "s", redirect_uri="https://evil.test/cb")
    assert httpx.get(url).status_code == 400
    alt = intercom_emulator.authorize_url("US", "client-1", "s", redirect_uri="https://syncline.test/alt")
    assert "https://syncline.test/alt" in httpx.get(alt).text


def test_a_workspace_of_another_region_cannot_be_approved_here(intercom_emulator):
    _setup(intercom_emulator)
    form = {
        "client_id": "client-1",
        "state": "s",
        "redirect_uri": REDIRECT,
        "workspace": "acmeeu",
        "decision": "approve",
    }
    assert httpx.post(f"{intercom_emulator.base_url('US')}/oauth", data=form).status_code == 400
