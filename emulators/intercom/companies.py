"""Companies: upsert by company_id, retrieve, update, delete (archive + detach), attach/detach contacts."""

from __future__ import annotations

from typing import Any

from emulators.intercom import search
from emulators.intercom.contacts import contact_list_page, record_write
from emulators.intercom.data_attributes import check_custom_attributes
from emulators.intercom.errors import ApiError, company_not_found, contact_not_found
from emulators.intercom.routing import Call, Route
from emulators.intercom.store import Company, Workspace, now, object_id

UPSERT_FIELDS = {
    "name",
    "company_id",
    "plan",
    "size",
    "website",
    "industry",
    "custom_attributes",
    "remote_created_at",
    "update_last_request_at",
    "monthly_spend",
}
UPDATE_FIELDS = UPSERT_FIELDS - {"company_id", "remote_created_at", "update_last_request_at"}
PLAIN_FIELDS = ("name", "plan", "size", "website", "industry", "remote_created_at", "monthly_spend")
MAX_COMPANIES_PER_CONTACT = 1000
DEFAULT_PAGE_SIZE = 15


def company_json(company: Company) -> dict:
    body: dict[str, Any] = {
        "type": "company",
        "id": company.id,
        "app_id": company.app_id,
        "company_id": company.company_id,
        "created_at": company.created_at,
        "updated_at": company.updated_at,
        "session_count": 0,
        "user_count": len(company.contact_ids),
        "custom_attributes": dict(company.custom_attributes),
        "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
        "notes": {"type": "note.list", "notes": []},
    }
    for name in (
        "name",
        "website",
        "industry",
        "size",
        "monthly_spend",
        "remote_created_at",
        "last_request_at",
    ):
        value = getattr(company, name)
        if value is not None:
            body[name] = value
    if company.plan is not None:
        body["plan"] = {"type": "plan", "id": f"plan-{company.plan}", "name": company.plan}
    return body


def _reject_unknown(body: dict, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError(400, "bad_request", f"bad '{key}' parameter", key)


def _apply(workspace: Workspace, company: Company, body: dict) -> None:
    custom = body.get("custom_attributes") or {}
    check_custom_attributes(workspace, "company", custom)
    for name in PLAIN_FIELDS:
        if name in body:
            setattr(company, name, body[name])
    for key, value in custom.items():
        if value is None:
            company.custom_attributes.pop(key, None)
        else:
            company.custom_attributes[key] = value
    if body.get("update_last_request_at"):
        company.last_request_at = now()
    company.updated_at = now()


def _live_company(workspace: Workspace, company_id: str) -> Company:
    company = workspace.companies.get(company_id)
    if company is None or company.deleted:
        raise company_not_found()
    return company


def upsert_company(call: Call) -> tuple[int, Any]:
    body, workspace = call.body or {}, call.workspace
    _reject_unknown(body, UPSERT_FIELDS)
    company_id = body.get("company_id")
    if not company_id:
        raise ApiError(400, "parameter_not_found", "company_id not specified", "company_id")
    company = workspace.find_company_by_company_id(company_id)
    if company is None:
        moment = now()
        company = Company(
            id=object_id(),
            company_id=company_id,
            app_id=workspace.id_code,
            created_at=moment,
            updated_at=moment,
        )
        _apply(workspace, company, body)  # validates before the company exists
        workspace.add_company(company)
    else:
        _apply(workspace, company, body)
    return 200, company_json(company)


def retrieve_companies(call: Call) -> tuple[int, Any]:
    workspace, query = call.workspace, call.query
    if "company_id" in query or "name" in query:
        found = [
            c
            for c in workspace.companies.values()
            if not c.deleted
            and ("company_id" not in query or c.company_id == query["company_id"])
            and ("name" not in query or c.name == query["name"])
        ]
        if not found:
            raise company_not_found()
        return 200, {
            "type": "list",
            "data": [company_json(c) for c in found],
            "pages": {"type": "pages", "page": 1, "per_page": DEFAULT_PAGE_SIZE, "total_pages": 1},
            "total_count": len(found),
        }
    # Listing hides companies without users, as Intercom does.
    visible = sorted(
        (c for c in workspace.companies.values() if not c.deleted and c.contact_ids),
        key=lambda c: (c.created_at, c.id),
    )
    page = max(int(query.get("page") or 1), 1)
    per_page = min(max(int(query.get("per_page") or DEFAULT_PAGE_SIZE), 1), 60)
    chunk = visible[(page - 1) * per_page : page * per_page]
    return 200, {
        "type": "list",
        "data": [company_json(c) for c in chunk],
        "pages": {
            "type": "pages",
            "page": page,
            "per_page": per_page,
            "total_pages": (len(visible) + per_page - 1) // per_page,
        },
        "total_count": len(visible),
    }


def show_company(call: Call) -> tuple[int, Any]:
    return 200, company_json(_live_company(call.workspace, call.params["company_id"]))


def update_company(call: Call) -> tuple[int, Any]:
    body = call.body or {}
    _reject_unknown(body, UPDATE_FIELDS)
    company = _live_company(call.workspace, call.params["company_id"])
    _apply(call.workspace, company, body)
    return 200, company_json(company)


def delete_company(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    company = _live_company(workspace, call.params["company_id"])
    company.deleted = True  # archived, not removed; its contacts are detached
    for contact_id in company.contact_ids:
        contact = workspace.contacts.get(contact_id)
        if contact is not None and company.id in contact.company_ids:
            contact.company_ids.remove(company.id)
            record_write(workspace, contact, call.search_lag)
    company.contact_ids = []
    return 200, {"id": company.id, "object": "company", "deleted": True}


def company_contacts(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    company = _live_company(workspace, call.params["company_id"])
    contacts = [workspace.contacts[i] for i in company.contact_ids if i in workspace.contacts]
    return 200, contact_list_page(contacts, search.page_size(None), call.query.get("starting_after"))


def attach_contact(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    contact = workspace.contacts.get(call.params["contact_id"])
    if contact is None or contact.archived:
        raise contact_not_found()
    company_id = (call.body or {}).get("id")
    if not company_id:
        raise ApiError(400, "parameter_not_found", "company not specified", "id")
    company = _live_company(workspace, company_id)
    if company.id not in contact.company_ids:
        if len(contact.company_ids) >= MAX_COMPANIES_PER_CONTACT:
            raise ApiError(
                400,
                "contact_company_limit_exceeded",
                "Contact has reached the maximum of 1000 company associations",
            )
        contact.company_ids.append(company.id)
        company.contact_ids.append(contact.id)
        record_write(workspace, contact, call.search_lag)
    return 200, company_json(company)


def detach_contact(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    contact = workspace.contacts.get(call.params["contact_id"])
    if contact is None:
        raise contact_not_found()
    company = _live_company(workspace, call.params["company_id"])
    if company.id not in contact.company_ids:
        raise company_not_found()
    contact.company_ids.remove(company.id)
    company.contact_ids.remove(contact.id)
    record_write(workspace, contact, call.search_lag)
    return 200, company_json(company)


def contact_companies(call: Call) -> tuple[int, Any]:
    workspace = call.workspace
    contact = workspace.contacts.get(call.params["contact_id"])
    if contact is None:
        raise contact_not_found()
    companies = [workspace.companies[i] for i in contact.company_ids if i in workspace.companies]
    return 200, {
        "type": "list",
        "companies": [company_json(c) for c in companies],
        "total_count": len(companies),
        "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1, "next": None},
    }


ROUTES = [
    Route("POST", "/companies", upsert_company),
    Route("GET", "/companies", retrieve_companies),
    Route("GET", "/companies/{company_id}", show_company),
    Route("PUT", "/companies/{company_id}", update_company),
    Route("DELETE", "/companies/{company_id}", delete_company),
    Route("GET", "/companies/{company_id}/contacts", company_contacts),
    Route("POST", "/contacts/{contact_id}/companies", attach_contact),
    Route("GET", "/contacts/{contact_id}/companies", contact_companies),
    Route("DELETE", "/contacts/{contact_id}/companies/{company_id}", detach_contact),
]
