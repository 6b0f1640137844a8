"""What Syncline can write to Intercom: objects, identifiers, behaviors and standard fields.

This is the product's promise to users (the table in the docs and the wizard's choices), so it is data,
not code: the sync engine and the mapper read it, and nothing else decides what an object allows.
Custom attributes come from the workspace (`GET /data_attributes`) and are merged in by the catalog
service; the standard fields here are Intercom's own, with the types Intercom expects.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from enum import StrEnum


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"  # UNIX seconds in Intercom; Intercom's "date" and "datetime" attributes both take them
    DATETIME = "datetime"


class Behavior(StrEnum):
    UPSERT = "upsert"
    UPDATE_ONLY = "update_only"
    DELETE = "delete"
    SEND = "send"

    @property
    def label(self) -> str:
        return BEHAVIOR_LABELS[self]


BEHAVIOR_LABELS = {
    Behavior.UPSERT: "Update or Create",
    Behavior.UPDATE_ONLY: "Update Only",
    Behavior.DELETE: "Delete",
    Behavior.SEND: "Send",
}


@dataclass(frozen=True)
class Identifier:
    key: str  # the Intercom field the sync key matches
    label: str


@dataclass(frozen=True)
class StandardField:
    name: str
    label: str
    type: FieldType
    help: str = ""
    _: KW_ONLY
    # Whether Intercom takes null for it (the spec's `nullable` in the create/update request bodies): only
    # then can a NULL in the model clear Intercom's value. Given for every field, from the spec.
    nullable: bool


@dataclass(frozen=True)
class IntercomObject:
    key: str
    label: str
    identifiers: tuple[Identifier, ...]
    behaviors: tuple[Behavior, ...]
    fields: tuple[StandardField, ...]
    attribute_model: str | None  # the data-attribute model of its custom attributes, if any
    role: str | None = (
        None  # contacts: the role a created record gets ("user" / "lead"); None = from the data
    )
    note: str = ""
    custom_attributes_nullable: bool = False  # a custom attribute's value can be cleared with null

    def identifier(self, key: str) -> Identifier:
        return next(i for i in self.identifiers if i.key == key)

    def field(self, name: str) -> StandardField | None:
        return next((f for f in self.fields if f.name == name), None)

    def accepts_null(self, name: str, *, custom: bool) -> bool:
        """Whether Intercom lets a null clear this field (False for a field the object does not have)."""
        if custom:
            return self.custom_attributes_nullable
        standard = self.field(name)
        return standard is not None and standard.nullable


EMAIL = Identifier("email", "Email")
INTERCOM_ID = Identifier("id", "Intercom ID")
EXTERNAL_ID = Identifier("external_id", "External ID")
COMPANY_ID = Identifier("company_id", "Company ID")
EVENT_ID = Identifier("event_id", "Event ID")

# Nullability: the spec's `create_contact_request` / `update_contact_request` (API_NOTES §1).
CONTACT_FIELDS = (
    StandardField("email", "Email", FieldType.STRING, nullable=False),
    StandardField(
        "external_id", "External ID", FieldType.STRING, "Your id of the user (users only).", nullable=False
    ),
    StandardField("name", "Name", FieldType.STRING, nullable=True),
    StandardField("phone", "Phone", FieldType.STRING, nullable=True),
    StandardField("avatar", "Avatar URL", FieldType.STRING, nullable=True),
    StandardField("signed_up_at", "Signed up at", FieldType.DATE, nullable=True),
    StandardField("last_seen_at", "Last seen at", FieldType.DATE, nullable=True),
    StandardField("owner_id", "Owner (admin id)", FieldType.STRING, nullable=True),
    StandardField("unsubscribed_from_emails", "Unsubscribed from emails", FieldType.BOOLEAN, nullable=True),
)
# Contact custom attributes are merged per key and a null clears one (API_NOTES §1; the spec's
# `custom_attributes` is a nullable free object).
CONTACT_CUSTOM_NULLABLE = True
CONTACT_BEHAVIORS = (Behavior.UPSERT, Behavior.UPDATE_ONLY, Behavior.DELETE)
CONTACT_IDENTIFIERS = (EMAIL, INTERCOM_ID, EXTERNAL_ID)
# Intercom gives every lead an External ID of its own (a UUID; one sent is ignored): leads are matched by
# email or Intercom ID only.
LEAD_IDENTIFIERS = (EMAIL, INTERCOM_ID)

OBJECTS: dict[str, IntercomObject] = {
    "company": IntercomObject(
        key="company",
        label="Company",
        identifiers=(COMPANY_ID,),
        behaviors=(Behavior.UPSERT, Behavior.DELETE),
        # `create_or_update_company_request`: no field is nullable.
        fields=(
            StandardField("name", "Name", FieldType.STRING, nullable=False),
            StandardField("plan", "Plan", FieldType.STRING, nullable=False),
            StandardField("size", "Size (employees)", FieldType.INTEGER, nullable=False),
            StandardField("website", "Website", FieldType.STRING, nullable=False),
            StandardField("industry", "Industry", FieldType.STRING, nullable=False),
            StandardField("remote_created_at", "Created at (your system)", FieldType.DATE, nullable=False),
            StandardField(
                "monthly_spend",
                "Monthly spend",
                FieldType.INTEGER,
                "Intercom keeps whole numbers.",
                nullable=False,
            ),
        ),
        attribute_model="company",
        # Not nullable: the spec types each company custom attribute value as a (non-nullable) string, and
        # neither the spec nor API_NOTES documents clearing one with null, as §1 does for contacts. A null
        # Intercom might refuse would go out again on every run, so a NULL keeps the company's value.
        custom_attributes_nullable=False,
        note=(
            "Intercom shows a company only once at least one user is attached to it. Companies cannot be "
            "archived: Delete removes them (Intercom archives them and detaches their contacts)."
        ),
    ),
    "contact": IntercomObject(
        key="contact",
        label="Contact (Lead or User)",
        identifiers=CONTACT_IDENTIFIERS,
        behaviors=CONTACT_BEHAVIORS,
        fields=(
            StandardField("role", "Role (user or lead)", FieldType.STRING, nullable=False),
            *CONTACT_FIELDS,
        ),
        attribute_model="contact",
        custom_attributes_nullable=CONTACT_CUSTOM_NULLABLE,
        note="Map a Role column to choose user or lead per record; without one, new contacts are users.",
    ),
    "lead": IntercomObject(
        key="lead",
        label="Lead",
        identifiers=LEAD_IDENTIFIERS,
        behaviors=CONTACT_BEHAVIORS,
        fields=tuple(f for f in CONTACT_FIELDS if f.name != "external_id"),
        attribute_model="contact",
        custom_attributes_nullable=CONTACT_CUSTOM_NULLABLE,
        role="lead",
        note=(
            "Intercom gives every lead an External ID of its own (any one sent is ignored), so leads are "
            "matched by Email or Intercom ID. Intercom never turns a user back into a lead."
        ),
    ),
    "user": IntercomObject(
        key="user",
        label="User",
        identifiers=CONTACT_IDENTIFIERS,
        behaviors=CONTACT_BEHAVIORS,
        fields=CONTACT_FIELDS,
        attribute_model="contact",
        custom_attributes_nullable=CONTACT_CUSTOM_NULLABLE,
        role="user",
    ),
    "event": IntercomObject(
        key="event",
        label="Event",
        identifiers=(EVENT_ID,),
        behaviors=(Behavior.SEND,),
        fields=(),
        attribute_model=None,
        note=(
            "Each row is sent once (the Event ID column keeps track); at most 10 metadata keys, flat values. "
            "The contact is found by Intercom ID, External ID (user_id) or email."
        ),
    ),
}

# How an event names its contact: our label → the field of POST /events.
EVENT_CONTACT_KEYS = {"id": "Intercom ID", "user_id": "External ID", "email": "Email"}
EVENT_METADATA_LIMIT = 10


def catalog_rows() -> list[tuple[str, str, str]]:
    """The catalog as users read it: object, identifiers, behaviors."""
    return [
        (
            obj.label,
            ", ".join(i.label for i in obj.identifiers),
            ", ".join(b.label for b in obj.behaviors),
        )
        for obj in OBJECTS.values()
    ]
