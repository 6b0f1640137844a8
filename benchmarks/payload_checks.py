"""Cost of checking request bodies against Intercom's request schemas before sending them
(apps/connections/intercom/request_checks.py).

Builds N realistic bodies per case (each record different: ids, emails, numbers, metadata), valid contact,
company and event bodies and invalid ones (a NaN custom attribute, a company size past 32 bits, an event with
11 metadata keys, a contact with none of email/external_id/role), then times ``check_request`` over them,
three runs side by side. Prints CPU µs per record for each case and run, and the median; the LAST line is the
median µs per valid record.

Run: ``.venv/bin/python benchmarks/payload_checks.py [--records 100000]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.connections.intercom.request_checks import RequestKind, check_request  # noqa: E402

PLANS = ("free", "pro", "team", "enterprise")


def contact(i: int) -> dict:
    return {
        "role": "user",
        "external_id": f"user-{i}",
        "email": f"person{i}@bench.example",
        "name": f"Person {i}",
        "phone": f"+3538712{i % 100000:05d}",
        "signed_up_at": 1_600_000_000 + i,
        "last_seen_at": 1_700_000_000 + i,
        "unsubscribed_from_emails": i % 7 == 0,
        "custom_attributes": {
            "plan": PLANS[i % 4],
            "mrr": i * 1.25,
            "sessions_30d": i % 90,
            "paid": i % 2 == 0,
            "churn_risk": None if i % 3 else 0.2,
        },
    }


def company(i: int) -> dict:
    return {
        "company_id": f"company-{i}",
        "name": f"Company {i}",
        "plan": PLANS[i % 4],
        "size": i % 5000,
        "website": f"https://company{i}.example",
        "industry": "Software",
        "remote_created_at": 1_500_000_000 + i,
        "monthly_spend": i % 100_000,
        "custom_attributes": {"tier": PLANS[i % 4], "seats": i % 300, "arr": i * 12.5, "active": True},
    }


def event(i: int) -> dict:
    return {
        "event_name": "ordered-item",
        "created_at": 1_700_000_000 + i,
        "user_id": f"user-{i}",
        "metadata": {
            "order_id": f"order-{i}",
            "items": i % 9,
            "total": i * 0.99,
            "gift": i % 5 == 0,
            "price": {"amount": i % 10_000, "currency": "eur"},
        },
    }


def contact_nan(i: int) -> dict:
    body = contact(i)
    body["custom_attributes"]["mrr"] = float("nan")
    return body


def company_too_big(i: int) -> dict:
    return {**company(i), "size": 2**31 + i}


def event_too_many_keys(i: int) -> dict:
    body = event(i)
    body["metadata"].update({f"extra_{k}": k for k in range(6)})
    return body


def contact_no_identity(i: int) -> dict:
    return {k: v for k, v in contact(i).items() if k not in ("role", "external_id", "email")}


CASES = [  # (label, kind, body factory, valid)
    ("valid contact", RequestKind.CREATE_CONTACT, contact, True),
    ("valid company", RequestKind.UPSERT_COMPANY, company, True),
    ("valid event", RequestKind.SEND_EVENT, event, True),
    ("contact: NaN custom attribute", RequestKind.CREATE_CONTACT, contact_nan, False),
    ("contact: no email/external_id/role", RequestKind.CREATE_CONTACT, contact_no_identity, False),
    ("company: size past 32 bits", RequestKind.UPSERT_COMPANY, company_too_big, False),
    ("event: 11 metadata keys", RequestKind.SEND_EVENT, event_too_many_keys, False),
]


def time_case(kind: RequestKind, bodies: list[dict], valid: bool) -> float:
    """CPU µs per record (this process's CPU time: other work on a shared machine does not count); every
    body must come out as expected (valid or not)."""
    started = time.process_time()
    results = [check_request(kind, body) for body in bodies]
    elapsed = time.process_time() - started
    wrong = sum((result is None) != valid for result in results)
    if wrong:
        sys.exit(f"{wrong} {kind} bodies were not {'valid' if valid else 'invalid'} as built")
    return elapsed / len(bodies) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="bodies per case")
    args = parser.parse_args()

    started = time.perf_counter()
    for kind in RequestKind:
        check_request(kind, {})  # compiles the schema, once per process
    print(f"compile the 4 schemas: {(time.perf_counter() - started) * 1000:.0f} ms (once per process)")
    bodies = {label: [make(i) for i in range(args.records)] for label, _, make, _ in CASES}
    gc.collect()
    gc.freeze()  # the bodies are set-up: the collector should not walk them during the timed loops

    runs: dict[str, list[float]] = {label: [] for label, *_ in CASES}
    valid_per_record: list[float] = []
    for _ in range(3):
        valid_total = 0.0
        for label, kind, _, valid in CASES:
            per_record = time_case(kind, bodies[label], valid)
            runs[label].append(per_record)
            if valid:
                valid_total += per_record * args.records
        valid_per_record.append(valid_total / (args.records * sum(valid for *_, valid in CASES)))

    print(f"{args.records:,} bodies per case; µs per record")
    print(f"{'case':<38}{'run 1':>8}{'run 2':>8}{'run 3':>8}{'median':>8}")
    for label, figures in runs.items():
        cells = "".join(f"{figure:8.2f}" for figure in figures)
        print(f"{label:<38}{cells}{statistics.median(figures):8.2f}")
    print(f"{statistics.median(valid_per_record):.2f}")


if __name__ == "__main__":
    main()
