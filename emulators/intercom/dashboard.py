"""A read-only HTML page at ``/_emulator/``: each workspace's contacts, companies and events."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import TYPE_CHECKING, Any

from emulators.intercom.pages import page

if TYPE_CHECKING:
    from emulators.intercom.app import Emulator

SHOWN_ROWS = 200


def _when(timestamp: int | float | None) -> str:
    if not timestamp:
        return ""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _attrs(values: dict[str, Any]) -> str:
    if not values:
        return ""
    return escape(json.dumps(values, ensure_ascii=False, sort_keys=True))


def _table(headers: list[str], rows: list[list[str]], total: int, empty: str) -> str:
    if not rows:
        return f"<p class='empty'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    more = f"<p class='meta'>Showing the newest {len(rows)} of {total}.</p>" if total > len(rows) else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def render(emu: Emulator) -> str:
    cards = []
    for workspace in emu.state.workspaces.values():
        contacts = sorted(workspace.contacts.values(), key=lambda c: c.updated_at, reverse=True)
        contact_rows = [
            [
                f"<code>{escape(c.id)}</code>",
                escape(c.role) + (" <span class='badge'>archived</span>" if c.archived else ""),
                escape(c.external_id or ""),
                escape(c.email or ""),
                escape(c.name or ""),
                _attrs(c.custom_attributes),
                str(len(c.company_ids)),
                _when(c.updated_at),
            ]
            for c in contacts[:SHOWN_ROWS]
        ]
        companies = sorted(workspace.companies.values(), key=lambda c: c.updated_at, reverse=True)
        company_rows = [
            [
                f"<code>{escape(c.id)}</code>",
                escape(c.company_id) + (" <span class='badge'>deleted</span>" if c.deleted else ""),
                escape(c.name or ""),
                escape(c.plan or ""),
                str(len(c.contact_ids)),
                _attrs(c.custom_attributes),
                _when(c.updated_at),
            ]
            for c in companies[:SHOWN_ROWS]
        ]
        recent_events = list(reversed(workspace.events[-SHOWN_ROWS:]))
        event_rows = [
            [
                escape(e.event_name),
                f"<code>{escape(e.contact_id)}</code>",
                _when(e.created_at),
                _attrs(e.metadata),
            ]
            for e in recent_events
        ]
        cards.append(
            "<section class='card'>"
            f"<h2>{escape(workspace.name)}<span class='badge'>{workspace.region}</span></h2>"
            f"<p class='meta'>id_code <code>{escape(workspace.id_code)}</code> · admin "
            f"{escape(workspace.admin.email)} · {len(workspace.contacts)} contacts · "
            f"{len(workspace.companies)} companies · {len(workspace.events)} events "
            f"({workspace.duplicate_events} duplicates ignored)</p>"
            "<h3>Contacts</h3>"
            + _table(
                ["id", "role", "external_id", "email", "name", "custom attributes", "companies", "updated"],
                contact_rows,
                len(contacts),
                "No contacts yet.",
            )
            + "<h3>Companies</h3>"
            + _table(
                ["id", "company_id", "name", "plan", "users", "custom attributes", "updated"],
                company_rows,
                len(companies),
                "No companies yet.",
            )
            + "<h3>Events</h3>"
            + _table(
                ["event", "contact", "created", "metadata"],
                event_rows,
                len(workspace.events),
                "No events yet.",
            )
            + "</section>"
        )
    if not cards:
        cards.append("<section class='card'><p class='empty'>No workspaces are seeded.</p></section>")
    log = emu.log
    summary = (
        "<section class='card'><h2>Requests</h2>"
        f"<p class='meta'>{log.total} API requests served. By status: "
        + (", ".join(f"{escape(k)}: {v}" for k, v in sorted(log.by_status.items())) or "none")
        + "</p></section>"
    )
    return page("Intercom emulator", "Read-only view of the emulated workspaces", summary + "".join(cards))
