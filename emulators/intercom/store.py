"""The emulator's in-memory state: workspaces, their tokens and records. One process, one event loop: no locks."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from emulators.intercom.config import REGIONS, OAuthClient


def now() -> int:
    return int(time.time())


_id_sequence = itertools.count(secrets.randbelow(1 << 20))


def object_id() -> str:
    """A 24-hex id shaped like Intercom's (4 bytes of time, a 4-byte sequence, 4 random bytes): ids sort in
    creation order, which breaks ties between records created in the same second (oldest-first order)."""
    return f"{int(time.time()):08x}{next(_id_sequence) & 0xFFFFFFFF:08x}{secrets.token_hex(4)}"


@dataclass
class Admin:
    id: str
    name: str
    email: str


@dataclass
class Contact:
    id: str
    workspace_id: str
    role: str
    created_at: int
    updated_at: int
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    avatar: str | None = None
    owner_id: str | None = None
    signed_up_at: int | None = None
    last_seen_at: int | None = None
    unsubscribed_from_emails: bool = False
    email_verified: bool | None = None
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    company_ids: list[str] = field(default_factory=list)
    archived: bool = False
    # Search sees a contact through snapshots that become visible `search_lag` seconds after each write.
    search_versions: list[tuple[float, dict]] = field(default_factory=list)


@dataclass
class Company:
    id: str
    company_id: str
    app_id: str
    created_at: int
    updated_at: int
    name: str | None = None
    plan: str | None = None
    size: int | None = None
    website: str | None = None
    industry: str | None = None
    monthly_spend: int | None = None
    remote_created_at: int | None = None
    last_request_at: int | None = None
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    contact_ids: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Event:
    contact_id: str
    event_name: str
    created_at: int
    metadata: dict[str, Any]
    received_at: float


@dataclass
class DataAttribute:
    id: int
    model: str  # contact | company
    name: str
    data_type: str  # string integer float boolean date datetime options
    description: str = ""
    options: list[str] = field(default_factory=list)
    messenger_writable: bool = False
    archived: bool = False
    created_at: int = field(default_factory=now)
    updated_at: int = field(default_factory=now)
    admin_id: str = ""


@dataclass
class Workspace:
    id_code: str
    name: str
    region: str
    admin: Admin
    created_at: int = field(default_factory=now)
    timezone: str = "UTC"
    contacts: dict[str, Contact] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    event_keys: set[tuple[str, str, int]] = field(default_factory=set)
    duplicate_events: int = 0
    attributes: dict[int, DataAttribute] = field(default_factory=dict)
    # Indexes so that lookups stay O(1) however many records a sync has written.
    users_by_external_id: dict[str, str] = field(default_factory=dict)
    users_by_email: dict[str, str] = field(default_factory=dict)
    company_ids: dict[str, str] = field(default_factory=dict)
    # Permanently deleted contacts: id → (the contact, monotonic time until which its identifiers stay
    # blocked). Their external_id and email stay in the user indexes until then.
    deleted_contacts: dict[str, tuple[Contact, float]] = field(default_factory=dict)
    # (field, lower-cased value) → ids of contacts that had it in any search snapshot: a superset for search.
    search_keys: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def __setstate__(self, saved: dict) -> None:
        """A state file written before a field existed loads with that field empty."""
        self.__dict__.update(saved)
        self.__dict__.setdefault("deleted_contacts", {})

    def index_contact(self, contact: Contact) -> None:
        """(Re-)register a contact after a write; call ``unindex_contact`` before changing identifiers."""
        self.contacts[contact.id] = contact
        if contact.role == "user":
            if contact.external_id is not None:
                self.users_by_external_id[contact.external_id] = contact.id
            if contact.email:
                self.users_by_email[contact.email.lower()] = contact.id

    def unindex_contact(self, contact: Contact) -> None:
        if (
            contact.external_id is not None
            and self.users_by_external_id.get(contact.external_id) == contact.id
        ):
            del self.users_by_external_id[contact.external_id]
        email = (contact.email or "").lower()
        if email and self.users_by_email.get(email) == contact.id:
            del self.users_by_email[email]

    def user_by_external_id(self, external_id: str) -> Contact | None:
        return self._user(self.users_by_external_id.get(external_id))

    def user_by_email(self, email: str) -> Contact | None:
        return self._user(self.users_by_email.get(email.lower()))

    def _user(self, contact_id: str | None) -> Contact | None:
        """A live contact, or a deleted one whose identifiers are still held (its ``deleted_hold``)."""
        if not contact_id:
            return None
        if contact_id in self.contacts:
            return self.contacts[contact_id]
        return self.held_contact(contact_id)

    def held_contact(self, contact_id: str) -> Contact | None:
        """A permanently deleted contact whose identifiers Intercom still blocks; frees them once expired."""
        held = self.deleted_contacts.get(contact_id)
        if held is None:
            return None
        contact, until = held
        if time.monotonic() < until:
            return contact
        del self.deleted_contacts[contact_id]
        self.unindex_contact(contact)
        return None

    def add_company(self, company: Company) -> None:
        self.companies[company.id] = company
        self.company_ids[company.company_id] = company.id

    def find_company_by_company_id(self, company_id: str) -> Company | None:
        company = self.companies.get(self.company_ids.get(company_id, ""))
        return company if company is not None and not company.deleted else None

    def wipe(self) -> int:
        """Remove every contact, company and event, as a workspace reset in Intercom does; tokens and data
        attributes stay. Returns how many contacts and companies were removed."""
        removed = len(self.contacts) + len(self.companies)
        self.contacts.clear()
        self.companies.clear()
        self.events.clear()
        self.event_keys.clear()
        self.users_by_external_id.clear()
        self.users_by_email.clear()
        self.company_ids.clear()
        self.search_keys.clear()
        self.deleted_contacts.clear()
        return removed

    def custom_attribute(self, model: str, name: str) -> DataAttribute | None:
        for attribute in self.attributes.values():
            if attribute.model == model and attribute.name == name:
                return attribute
        return None


@dataclass
class Token:
    token: str
    workspace_id: str
    app_key: str  # the app the token belongs to: "private:<workspace>" or "oauth:<client_id>"
    revoked: bool = False


@dataclass
class OAuthCode:
    code: str
    client_id: str
    workspace_id: str
    redirect_uri: str
    expires_at: float
    used: bool = False


class State:
    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, Token] = {}
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self._attribute_ids = itertools.count(1)
        self._admin_ids = itertools.count(991_267_000)

    def __getstate__(self) -> dict:
        """For the state file (emulators/intercom/persistence.py): the id counters as plain numbers (taking
        one from each only skips an id)."""
        return {
            **self.__dict__,
            "_attribute_ids": next(self._attribute_ids),
            "_admin_ids": next(self._admin_ids),
        }

    def __setstate__(self, saved: dict) -> None:
        self.__dict__.update(saved)
        self._attribute_ids = itertools.count(saved["_attribute_ids"])
        self._admin_ids = itertools.count(saved["_admin_ids"])

    def next_attribute_id(self) -> int:
        return next(self._attribute_ids)

    def add_workspace(
        self,
        *,
        name: str,
        region: str = "US",
        id_code: str | None = None,
        admin_name: str = "Ada Admin",
        admin_email: str = "admin@example.com",
        timezone: str = "UTC",
    ) -> Workspace:
        region = region.upper()
        if region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}")
        id_code = id_code or secrets.token_hex(4)
        if id_code in self.workspaces:
            raise ValueError(f"workspace {id_code} already exists")
        admin = Admin(id=str(next(self._admin_ids)), name=admin_name, email=admin_email)
        workspace = Workspace(id_code=id_code, name=name, region=region, admin=admin, timezone=timezone)
        self.workspaces[id_code] = workspace
        return workspace

    def add_token(self, workspace_id: str, *, token: str | None = None, app_key: str | None = None) -> Token:
        if workspace_id not in self.workspaces:
            raise KeyError(workspace_id)
        token = token or "tok_" + secrets.token_urlsafe(24)
        record = Token(token=token, workspace_id=workspace_id, app_key=app_key or f"private:{workspace_id}")
        self.tokens[token] = record
        return record
