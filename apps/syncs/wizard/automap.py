"""What the model's column names suggest: which Intercom object the model holds, which column feeds which
field (offered as suggestions the user accepts), and an event sync's name, time and contact columns.

Names are compared by their letters and digits only, in lower case ("Email Address", "email_address" and
"emailAddress" are one name). Nothing here decides: the wizard shows what is suggested, the user chooses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalized(name: str) -> str:
    return _NOT_ALNUM.sub("", name.lower())


def _names(*names: str) -> tuple[str, ...]:
    return tuple(normalized(n) for n in names)


# The column names each standard field answers to, best first (its own name is always first).
CONTACT_ALIASES = {
    "email": _names("email", "email_address", "user_email", "contact_email", "mail"),
    "external_id": _names("external_id", "user_id", "customer_id", "uid"),
    "name": _names("name", "full_name", "display_name", "user_name"),
    "phone": _names("phone", "phone_number", "mobile", "mobile_number", "telephone"),
    "avatar": _names("avatar", "avatar_url", "photo_url", "picture", "image_url"),
    "signed_up_at": _names(
        "signed_up_at",
        "signup_at",
        "signed_up",
        "sign_up_date",
        "signup_date",
        "registered_at",
        "joined_at",
        "created_at",
    ),  # fmt: skip
    "last_seen_at": _names("last_seen_at", "last_seen", "last_active_at", "last_login_at", "last_login"),
    "owner_id": _names("owner_id", "intercom_owner_id", "account_owner_id"),
    "unsubscribed_from_emails": _names(
        "unsubscribed_from_emails", "unsubscribed", "email_unsubscribed", "opted_out", "email_opt_out"
    ),  # fmt: skip
    "role": _names("role", "contact_role", "intercom_role"),
}
COMPANY_ALIASES = {
    "name": _names("name", "company_name", "account_name", "organization_name"),
    "plan": _names("plan", "plan_name", "company_plan", "tier"),
    "size": _names("size", "employees", "employee_count", "headcount", "company_size", "seats"),
    "website": _names("website", "website_url", "homepage", "url"),
    "industry": _names("industry", "sector"),
    "remote_created_at": _names("remote_created_at", "created_at", "signed_up_at", "signup_date"),
    "monthly_spend": _names("monthly_spend", "mrr", "monthly_revenue"),
}
# A contact's company, attached by its Company ID.
COMPANY_ID_NAMES = _names("company_id", "account_id", "organization_id", "org_id")

EVENT_NAME_NAMES = _names("event_name", "event", "event_type", "action")
EVENT_TIME_NAMES = _names("occurred_at", "event_time", "event_at", "timestamp", "happened_at", "created_at",
                          "sent_at", "time", "ts")  # fmt: skip
# Which column names an event's contact: the user's own id first (what most models have), then email,
# then Intercom's id (only when the model has it).
EVENT_CONTACT_NAMES = (
    ("user_id", _names("user_id", "external_id", "customer_id")),
    ("email", _names("email", "email_address", "user_email", "contact_email")),
    ("id", _names("intercom_id", "intercom_contact_id", "contact_id")),
)

_USER_NAMES = set(_names("email", "email_address", "user_email", "user_id", "external_id", "contact_id"))
_COMPANY_NAMES = set(_names("industry", "website", "employees", "employee_count", "company_name", "domain",
                            "headcount", "monthly_spend", "company_size"))  # fmt: skip
_EVENT_NAMES = set(_names("event_name", "event_type", "event", "event_id", "occurred_at", "event_time"))


def aliases(object_key: str, field: str) -> tuple[str, ...]:
    table = COMPANY_ALIASES if object_key == "company" else CONTACT_ALIASES
    return table.get(field, (normalized(field),))


def first_match(columns: Iterable[str], names: Iterable[str]) -> str | None:
    """The column answering to the earliest of `names` (None: none does)."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(normalized(column), column)
    return next((by_name[n] for n in names if n in by_name), None)


def guess_object(columns: Iterable[str]) -> str | None:
    """The object a model's columns look like: events, companies (a company id and company words, no
    person), users (an email or a user id); None when they say nothing (the user chooses)."""
    names = {normalized(c) for c in columns}
    if names & _EVENT_NAMES and (names & set(EVENT_TIME_NAMES)):
        return "event"
    has_company = bool(names & set(COMPANY_ID_NAMES)) or len(names & _COMPANY_NAMES) >= 2
    if has_company and not names & _USER_NAMES:
        return "company"
    if names & _USER_NAMES:
        return "user"
    return None


@dataclass(frozen=True)
class EventGuess:
    event_name_column: str = ""
    created_at_column: str = ""
    contact_column: str = ""
    contact_key: str = ""


def guess_event(columns: list[dict], *, key_column: str = "") -> EventGuess:
    """An event sync's columns where their names fit: the event time prefers a date or timestamp column;
    the sync key column (the event's id) is never the contact or the name."""
    names = [c["name"] for c in columns if c["name"] != key_column]
    dated = [c["name"] for c in columns if c.get("kind") in ("date", "timestamp") and c["name"] != key_column]
    contact_column, contact_key = "", ""
    for key, candidates in EVENT_CONTACT_NAMES:
        if found := first_match(names, candidates):
            contact_column, contact_key = found, key
            break
    return EventGuess(
        event_name_column=first_match(names, EVENT_NAME_NAMES) or "",
        created_at_column=first_match(dated, EVENT_TIME_NAMES) or first_match(names, EVENT_TIME_NAMES) or "",
        contact_column=contact_column,
        contact_key=contact_key,
    )
