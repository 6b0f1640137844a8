"""The access token never shows in log lines (urllib3 included, at DEBUG), exception text, reprs or outcomes."""

from __future__ import annotations

import logging
import pickle
import time
import traceback

import pytest

from apps.connections.intercom.client import AuthFailure, IntercomClient, TransientFailure
from apps.connections.intercom.ratelimit import LocalRateLimiter
from tests.connections.intercom.conftest import CUSTOM_ATTRIBUTES, FAST_RETRIES

TOKEN = "tok_SECRET_d0n7_l34k_7h15_v4lu3"


def _texts(thing) -> list[str]:
    texts = [str(thing), repr(thing)]
    if isinstance(thing, BaseException):
        texts.append("".join(traceback.format_exception(thing)))  # with chained causes
        texts.append(repr(pickle.loads(pickle.dumps(thing))))  # noqa: S301 (a task result would carry it)
        texts.append(repr(thing.args) + repr(vars(thing)))
    return texts


def test_the_token_appears_nowhere(intercom_emulator, caplog, intercom_requests):
    caplog.set_level(logging.DEBUG)  # root: the client, requests and urllib3
    for name in ("urllib3", "urllib3.connectionpool", "apps.connections.intercom.client"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    workspace = intercom_emulator.seed_workspace(tokens=[TOKEN], data_attributes=CUSTOM_ATTRIBUTES)
    client = IntercomClient(
        workspace.base_url,
        TOKEN,
        workspace.id_code,
        LocalRateLimiter(),
        **{**FAST_RETRIES, "max_attempts": 2},
    )
    seen: list[object] = [client, client.limiter]

    seen.append(client.me())
    seen.append(client.create_contact({"role": "user", "external_id": "t-1"}))
    seen.append(client.create_contact({"role": "user", "external_id": "t-1", "name": "again"}))  # 409 → PUT
    seen.append(client.create_contact({"role": "user", "custom_attributes": {"nope": 1}}))  # Rejected
    seen.append(client.find_contact("id", "missing"))

    intercom_emulator.set_faults(error_rate=1.0)  # 5xx until the retries run out
    with pytest.raises(TransientFailure) as transient:
        client.me()
    seen.append(transient.value)
    intercom_emulator.set_faults(error_rate=0.0)

    timeout_client = IntercomClient(
        workspace.base_url, TOKEN, workspace.id_code, LocalRateLimiter(), timeout=(1.0, 0.2), max_attempts=1
    )
    intercom_emulator.set_faults(latency_ms=600)
    with pytest.raises(TransientFailure) as timed_out:
        timeout_client.me()
    seen.append(timed_out.value)
    intercom_emulator.set_faults(latency_ms=0)
    time.sleep(0.8)  # the emulator still answers the call that timed out: in this test, not in the next one

    intercom_emulator.revoke_token(TOKEN)
    with pytest.raises(AuthFailure) as auth:
        client.me()
    seen.append(auth.value)
    with pytest.raises(AuthFailure) as auth_again:
        client.me()
    seen.append(auth_again.value)

    texts = [text for thing in seen for text in _texts(thing)]
    texts.extend(repr(exchange) + repr(exchange.as_json()) for exchange in intercom_requests.exchanges)
    assert len(caplog.records) > 5 and any(r.name.startswith("urllib3") for r in caplog.records)
    # httpx/httpcore are the test's own control calls to the emulator (the token is in their URLs).
    product_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name.startswith("urllib3") and r.levelno == logging.DEBUG for r in product_records)
    texts.extend(caplog.handler.format(record) for record in product_records)
    texts.extend(repr(record.args) for record in product_records)
    leaks = [text for text in texts if TOKEN in text or TOKEN[4:] in text]
    assert leaks == []
    assert "token_revoked" in str(auth.value)  # the text says what happened, without the secret
