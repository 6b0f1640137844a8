"""Contacts: create (with Intercom's uniqueness 409s), retrieve, update, search, archive, delete, list."""

from __future__ import annotations

import time
import uuid
from typing import Any

from emulators.intercom import search
from emulators.intercom.data_attributes import check_custom_attributes
from emulators.intercom.errors import ApiError, contact_not_found
from emulators.intercom.routing import Call, Route
from emulators.intercom.store import Contact, Workspace, now, object_id

WRITABLE_FIELDS = (
    "email",
    "phone",
    "name",
    "avatar",
    "owner_id",
    "signed_up_at",
    "last_seen_at",
    "unsubscribed_from_emails",
    "email_verified",
)
INLINE_COMPANIES = 10


def contact_json(contact: Contact) -> dict:
    email = contact.email or ""
    company_ids = contact.company_ids
    return {
        "type": "contact",
        "id": contact.id,
        "workspace_id": contact.workspace_id,
        "external_id": contact.external_id,
        "role": contact.role,
        "email": email,
        "email_domain": email.split("@", 1)[1] if "@" in email else "",
        "phone": contact.phone,
        "name": contact.name,
        "owner_id": contact.owner_id,
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": bool(contact.unsubscribed_from_emails),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "signed_up_at": contact.signed_up_at,
        "last_seen_at": contact.last_seen_at,
        "last_replied_at": None,
        "last_contacted_at": None,
        "last_email_opened_at": None,
        "last_email_clicked_at": None,
        "language_override": None,
        "browser": None,
        "browser_version": None,
        "browser_language": None,
        "os": None,
        "android_app_name": None,
        "android_app_version": None,
        "android_device": None,
        "android_os_version": None,
        "android_sdk_version": None,
        "android_last_seen_at": None,
        "ios_app_name": None,
        "ios_app_version": None,
        "ios_device": None,
        "ios_os_version": None,
        "ios_sdk_version": None,
        "ios_last_seen_at": None,
        "custom_attributes": dict(contact.custom_attributes),
        "avatar": {"type": "avatar", "image_url": contact.avatar},
        "tags": {"data": [], "url": f"/contacts/{contact.id}/tags", "total_count": 0, "has_more": False},
        "notes": {"data": [], "url": f"/contacts/{contact.id}/notes", "total_count": 0, "has_more": False},
        "companies": {
            "data": [
                {"type": "company", "id": company_id, "url": f"/companies/{company_id}"}
                for company_id in company_ids[:INLINE_COMPANIES]
            ],
            "url": f"/contacts/{contact.id}/companies",
            "total_count": len(company_ids),
            "has_more": len(company_ids) > INLINE_COMPANIES,
        },
        "location": {"type": "location", "country": None, "region": None, "city": None},
        "social_profiles": {"data": []},
    }


def reference_json(contact: Contact, **extra: Any) -> dict:
    return {"type": "contact", "id": contact.id, "external_id": contact.external_id, **extra}


def record_write(workspace: Workspace, contact: Contact, lag: float) -> None:
    """Queue the contact's new state for search, visible ``lag`` seconds from now."""
    moment = time.monotonic()
    snapshot = contact_json(contact)
    snapshot["archived"] = contact.archived
    for name in search.INDEXED_FIELDS:
        if snapshot.get(name):
            workspace.search_keys.setdefault((name, str(snapshot[name]).lower()), set()).add(contact.id)
    versions = [v for v in contact.search_versions if v[0] > moment]  # still pending
    current = [v for v in contact.search_versions if v[0] <= moment]
    contact.search_versions = current[-1:] + versions + [(moment + lag, snapshot)]


def search_snapshot(contact: Contact, moment: float) -> dict | None:
    visible = None
    for visible_from, snapshot in contact.search_versions:
        if visible_from <= moment:
            visible = snapshot
        else:
            break
    return visible


def _live_contact(workspace: Workspace, contact_id: str) -> Contact:
    contact = workspace.contacts.get(contact_id)
    if contact is None or contact.archived:
        raise contact_not_found()
    return contact


def _conflict(contact: Contact) -> ApiError:
    """The create 409; a permanently deleted contact still holding its identifiers reads as archived."""
    if contact.archived:
        message = f"An archived contact matching those details already exists with id={contact.id}"
    else:
        message = f"A contact matching those details already exists with id={contact.id}"
    return ApiError(409, "conflict", message)


def _find_user_clash(
    workspace: Workspace, external_id: str | None, email: str | None, exclude: str | None = None
) -> Contact | None:
    for contact in (
        workspace.user_by_external_id(external_id) if external_id is not None else None,
        workspace.user_by_email(email) if email else None,
    ):
        if contact is not None and contact.id != exclude:
            return contact
    return None


def _check_role(role: Any) -> str:
    if role not in ("user", "lead"):
        raise ApiError(400, "parameter_invalid", "role must be one of: user, lead", "role")
    return role


def _check_email_verified(body: dict) -> None:
    if body.get("email_verified") is not None and not body.get("email"):
        raise ApiError(
            400,
            "parameter_invalid",
            "email_verified must be supplied together with an email",
            "email_verified",
        )


def create_contact(call: Call) -> tuple[int, Any]:
    body, workspace = call.body, call.workspace
    role = _check_role(body.get("role") or "user")
    _check_email_verified(body)
    # Leads: Intercom ignores the external_id sent and assigns a UUID of its own.
    external_id = body.get("external_id") if role == "user" else str(uuid.uuid4())
    custom = {k: v for k, v in (body.get("custom_attributes") or {}).items() if v is not None}
    check_custom_attributes(workspace, "contact", custom)
    if role == "user":
        clash = _find_user_clash(workspace, external_id, body.get("email"))
        if clash is not None:
            raise _conflict(clash)
    moment = now()
    contact = Contact(
        id=object_id(),
        workspace_id=workspace.id_code,
        role=role,
        created_at=moment,
        updated_at=moment,
        external_id=external_id,
        custom_attributes=custom,
    )
    for name in WRITABLE_FIELDS:
        if name in body:
            setattr(contact, name, body[name])
    contact.unsubscribed_from_emails = bool(contact.unsubscribed_from_emails)
    workspace.index_contact(contact)
    record_write(workspace, contact, call.search_lag)
    return 200, {**contact_json(contact), "enabled_push_messaging": None}


def update_contact(call: Call) -> tuple[int, Any]:
    body, workspace = call.body, call.workspace
    contact = _live_contact(workspace, call.params["contact_id"])
    role = _check_role(body["role"]) if "role" in body else contact.role
    if contact.role == "user" and role == "lead":
        raise ApiError(400, "client_error", "Contact with user role can't be converted to a lead")
    _check_email_verified(body)
    custom = body.get("custom_attributes") or {}
    check_custom_attributes(workspace, "contact", custom)
    external_id = contact.external_id
    if role == "user" and "external_id" in body:
        external_id = body["external_id"]
    if role == "user" and external_id != contact.external_id:
        # Recorded: taking another user's email, or an archived user's external_id, succeeds on update.
        clash = _find_user_clash(workspace, external_id, None, exclude=contact.id)
        if clash is not None and not clash.archived:
            raise _conflict(clash)
    workspace.unindex_contact(contact)
    contact.role = role
    contact.external_id = external_id
    for name in WRITABLE_FIELDS:
        if name in body:
            setattr(contact, name, body[name])
    contact.unsubscribed_from_emails = bool(contact.unsubscribed_from_emails)
    for key, value in custom.items():  # merged per key; null clears a key
        if value is None:
            contact.custom_attributes.pop(key, None)
        else:
            contact.custom_attributes[key] = value
    contact.updated_at = now()
    workspace.index_contact(contact)
    record_write(workspace, contact, call.search_lag)
    return 200, contact_json(contact)


def show_contact(call: Call) -> tuple[int, Any]:
    return 200, contact_json(_live_contact(call.workspace, call.params["contact_id"]))


def find_by_external_id(call: Call) -> tuple[int, Any]:
    contact = call.workspace.user_by_external_id(call.params["external_id"])
    if contact is None or contact.archived:
        raise contact_not_found()
    return 200, contact_json(contact)


def archive_contact(call: Call) -> tuple[int, Any]:
    contact = call.workspace.contacts.get(call.params["contact_id"])
    if contact is None:
        raise contact_not_found()
    contact.archived = True
    record_write(call.workspace, contact, call.search_lag)
    return 200, reference_json(contact, archived=True)


def unarchive_contact(call: Call) -> tuple[int, Any]:
    contact = call.workspace.contacts.get(call.params["contact_id"])
    if contact is None and call.workspace.held_contact(call.params["contact_id"]) is not None:
        raise ApiError(
            400, "not_restorable", "User has been marked for permanent deletion and is not restorable."
        )
    if contact is None:
        raise contact_not_found()
    contact.archived = False
    contact.updated_at = now()
    record_write(call.workspace, contact, call.search_lag)
    return 200, reference_json(contact, archived=False)


def delete_contact(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    contact = workspace.contacts.pop(call.params["contact_id"], None)
    if contact is None:
        raise contact_not_found()
    contact.archived = True  # gone from GET, search, events; a create matching it hears "archived"
    if call.deleted_hold > 0:  # its external_id and email stay blocked until the hold ends
        workspace.deleted_contacts[contact.id] = (contact, time.monotonic() + call.deleted_hold)
    else:
        workspace.unindex_contact(contact)
    for company_id in contact.company_ids:
        company = workspace.companies.get(company_id)
        if company is not None and contact.id in company.contact_ids:
            company.contact_ids.remove(contact.id)
    return 200, reference_json(contact, deleted=True)


def visible_snapshots(contacts: list[Contact], moment: float) -> list[dict]:
    """What search and list see at ``moment``: each contact's lagging snapshot, archived ones left out."""
    snapshots = (search_snapshot(contact, moment) for contact in contacts)
    return [snapshot for snapshot in snapshots if snapshot is not None and not snapshot["archived"]]


def list_contacts(call: Call) -> tuple[int, Any]:
    """Oldest first, and lagging like search (recorded: new contacts missing, archived ones still listed)."""
    per_page = search.page_size(_int_param(call.query, "per_page"))
    snapshots = visible_snapshots(list(call.workspace.contacts.values()), time.monotonic())
    ordered = search.sort_snapshots(snapshots, None)
    chunk, pages = search.paginate(ordered, per_page, call.query.get("starting_after"))
    data = [{k: v for k, v in snapshot.items() if k != "archived"} for snapshot in chunk]
    return 200, {"type": "list", "data": data, "total_count": len(ordered), "pages": pages}


def contact_list_page(contacts: list, per_page: int, starting_after: str | None) -> dict[str, Any]:
    """One cursor page of a `contact_list` response."""
    chunk, pages = search.paginate(contacts, per_page, starting_after)
    return {
        "type": "list",
        "data": [contact_json(c) for c in chunk],
        "total_count": len(contacts),
        "pages": pages,
    }


def search_contacts(call: Call) -> tuple[int, Any]:
    body = call.body
    predicate = search.build_predicate(body["query"])
    pagination = body.get("pagination") or {}
    per_page = search.page_size(pagination.get("per_page"))
    moment = time.monotonic()
    workspace = call.workspace
    key = search.index_key(body["query"])
    if key is None:
        candidates = list(workspace.contacts.values())
    else:  # an `=` on id/external_id/email narrows the scan to contacts that ever had that value
        ids = workspace.search_keys.get(key, set())
        candidates = [workspace.contacts[i] for i in ids if i in workspace.contacts]
    matches = [s for s in visible_snapshots(candidates, moment) if predicate(s)]
    ordered = search.sort_snapshots(matches, body.get("sort"))
    chunk, pages = search.paginate(ordered, per_page, pagination.get("starting_after"))
    data = [{k: v for k, v in snapshot.items() if k != "archived"} for snapshot in chunk]
    return 200, {"type": "list", "data": data, "total_count": len(ordered), "pages": pages}


def _int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "parameter_invalid", f"{name} must be an integer", name) from None


ROUTES = [
    Route("POST", "/contacts", create_contact),
    Route("GET", "/contacts", list_contacts),
    Route("POST", "/contacts/search", search_contacts),
    Route("GET", "/contacts/find_by_external_id/{external_id}", find_by_external_id),
    Route("GET", "/contacts/{contact_id}", show_contact),
    Route("PUT", "/contacts/{contact_id}", update_contact),
    Route("DELETE", "/contacts/{contact_id}", delete_contact),
    Route("POST", "/contacts/{contact_id}/archive", archive_contact),
    Route("POST", "/contacts/{contact_id}/unarchive", unarchive_contact),
]
