"""Workspaces, regions and bearer tokens."""

from tests.emulator.conftest import assert_error


def test_me_reports_the_workspace_of_the_token(intercom_emulator):
    eu = intercom_emulator.seed_workspace(
        name="Euro GmbH", region="EU", id_code="eu123", admin_email="ops@eu.test"
    )
    with intercom_emulator.client(eu.token, region="EU") as client:
        response = client.get("/me")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "admin"
    assert body["email"] == "ops@eu.test"
    assert body["app"] == {
        "type": "app",
        "id_code": "eu123",
        "name": "Euro GmbH",
        "region": "EU",
        "timezone": "UTC",
        "created_at": body["app"]["created_at"],
        "secure": False,
        "identity_verification": False,
    }


def test_each_region_has_its_own_base_url(intercom_emulator):
    for region in ("US", "EU", "AU"):
        seeded = intercom_emulator.seed_workspace(name=f"W {region}", region=region)
        assert seeded.base_url.endswith(f"/{region.lower()}")
        with intercom_emulator.client(seeded.token, region=region) as client:
            assert client.get("/me").json()["app"]["region"] == region


def test_a_token_used_against_another_regions_base_gets_401(intercom_emulator):
    au = intercom_emulator.seed_workspace(name="Aussie", region="AU")
    for region in ("US", "EU"):
        with intercom_emulator.client(au.token, region=region) as client:
            assert_error(client.get("/me"), 401, "unauthorized", "Access Token Invalid")


def test_missing_and_unknown_tokens_get_401_without_rate_limit_headers(intercom_emulator, workspace):
    with intercom_emulator.client(None) as client:
        response = client.get("/me")
        assert_error(response, 401, "unauthorized", "Access Token Invalid")
        assert "x-ratelimit-limit" not in response.headers
        response = client.get("/me", headers={"Authorization": "Bearer not-a-token"})
        assert_error(response, 401, "unauthorized")
        response = client.get("/me", headers={"Authorization": f"Basic {workspace.token}"})
        assert_error(response, 401, "unauthorized")


def test_revoked_token_gets_token_revoked(intercom_emulator, workspace, api):
    assert api.get("/me").status_code == 200
    intercom_emulator.revoke_token(workspace.token)
    assert_error(api.get("/me"), 401, "token_revoked")


def test_authenticated_responses_carry_rate_limit_headers(api):
    response = api.get("/me")
    assert response.headers["x-ratelimit-limit"] == "1667"  # 10,000/min → per 10-second window
    assert int(response.headers["x-ratelimit-remaining"]) < 1667
    assert int(response.headers["x-ratelimit-reset"]) > 0
    assert response.headers["x-request-id"]


def test_tokens_of_one_workspace_see_only_its_records(intercom_emulator, api):
    other = intercom_emulator.seed_workspace(name="Other")
    created = api.post("/contacts", json={"external_id": "u-1"}).json()
    with intercom_emulator.client(other.token) as client:
        assert_error(client.get(f"/contacts/{created['id']}"), 404, "not_found", "User Not Found")
