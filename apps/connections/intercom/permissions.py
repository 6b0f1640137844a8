"""The Intercom permissions Syncline's app needs, and what Syncline does with each: shown before the consent
page so that an admin knows what they approve.

Intercom's OAuth has no scope parameter: the permissions are the boxes ticked on the app's Authentication
page in the Developer Hub, and the consent page lists them. These are Intercom's own names for them, so the
admin can match the two lists. Syncline reads no conversations, tickets or messages and sends none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Permission:
    name: str  # as Intercom's consent page and Developer Hub name it
    why: str  # what Syncline does with it
    calls: str  # the API calls it covers, for the curious


PERMISSIONS = (
    Permission(
        "Read one admin",
        "Learn which Intercom workspace and data host region the access is for, and test the connection.",
        "GET /me",
    ),
    Permission(
        "Read and list users and companies",
        "Find the contact or company a model row already matches (by external ID, email or company ID), "
        "so a sync updates it instead of creating a duplicate; check that synced records still exist.",
        "GET /contacts, POST /contacts/search, GET /companies",
    ),
    Permission(
        "Write users and companies",
        "Create and update the contacts and companies your syncs send, attach contacts to their company, "
        "unarchive a contact a sync updates; archive or delete records only in syncs whose behavior is Delete.",
        "POST/PUT/DELETE /contacts, POST /contacts/{id}/archive, POST/DELETE /companies",
    ),
    Permission(
        "Write events",
        "Send data events (syncs on the Events object), and read back a contact's recent events after an "
        "interrupted run so that no event is sent twice.",
        "POST /events, GET /events",
    ),
    Permission(
        "Read and write data attributes",
        "List your custom attributes for the field mapper, and create one when you ask for it (its type "
        "can never change afterwards, so Syncline never creates one on its own).",
        "GET /data_attributes, POST /data_attributes",
    ),
)

NOT_USED = "Syncline does not read conversations, tickets or messages, and sends no messages to anyone."
