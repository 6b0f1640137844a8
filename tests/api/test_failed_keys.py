"""Unknown and revoked API keys are throttled per client address: an address that tries too many is
answered 429 with Retry-After, and keys used from other addresses go on working."""

import time_machine
from django.test import Client

from apps.api.services import api_key_create, api_key_revoke

SYNCS = "/api/v1/syncs"
GUESSER, PIPELINE = "203.0.113.7", "198.51.100.20"


def get(address, secret):
    return Client(REMOTE_ADDR=address).get(SYNCS, headers={"Authorization": f"Bearer {secret}"})


def test_an_address_sending_unknown_keys_is_answered_429_and_others_are_not(api_key_and_secret, settings):
    settings.API_FAILED_KEY_LIMIT = "5/10min"
    _, secret = api_key_and_secret
    with time_machine.travel("2026-11-28 10:00:00", tick=False) as clock:
        assert [get(GUESSER, f"sl_guess{n}").status_code for n in range(5)] == [401] * 5
        clock.shift(60)
        refused = get(GUESSER, "sl_guess5")
        assert refused.status_code == 429 and refused["Retry-After"] == "540"
        assert refused.json()["error"] == "too_many_failed_keys"
        assert "try again in 540 s" in refused.json()["message"]
        assert get(GUESSER, secret).status_code == 429  # a right guess is not told apart from a wrong one

        assert get(PIPELINE, secret).status_code == 200  # the key, from another address, still works

        clock.shift(541)  # the window is over
        assert get(GUESSER, secret).status_code == 200


def test_revoked_keys_count_as_failures_and_valid_ones_do_not(workspace, owner, settings):
    settings.API_FAILED_KEY_LIMIT = "3/min"
    key, secret = api_key_create(workspace=workspace, user=owner, name="Old")
    _, good = api_key_create(workspace=workspace, user=owner, name="Good")
    api_key_revoke(workspace=workspace, api_key=key, user=owner)
    assert [get(GUESSER, good).status_code for _ in range(5)] == [200] * 5
    assert [get(GUESSER, secret).status_code for _ in range(4)] == [401, 401, 401, 429]
