"""The custom data attributes of an Intercom destination: read from `GET /data_attributes`, cached on the
connection, created from the mapper with `POST /data_attributes`.

Only custom attributes that the API may write and that are not archived are kept: they are the ones a sync
can map. The cache is refreshed when it is older than ATTRIBUTES_MAX_AGE or when the user asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.connections.intercom.catalog import FieldType
from apps.connections.intercom.client import AuthFailure, Rejected, TransientFailure
from apps.connections.models import Connection

ATTRIBUTE_MODELS = ("contact", "company")
ATTRIBUTES_MAX_AGE = timedelta(minutes=10)

# Intercom's data types → the types the engine coerces to. `options` attributes take a string; a listing
# answers `date` for attributes created as `datetime` (both are UNIX seconds).
INTERCOM_TYPES = {
    "string": FieldType.STRING,
    "integer": FieldType.INTEGER,
    "float": FieldType.FLOAT,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "options": FieldType.STRING,
}
CREATABLE_TYPES = [
    ("string", "Text"),
    ("integer", "Integer"),
    ("float", "Decimal number"),
    ("boolean", "True or false"),
    ("date", "Date"),
]


class AttributesUnavailable(Exception):
    """Intercom could not list or create attributes; the message is for the user."""


@dataclass(frozen=True)
class CustomAttribute:
    name: str
    model: str  # "contact" or "company"
    data_type: str  # Intercom's own word
    description: str = ""

    @property
    def field_type(self) -> FieldType:
        return INTERCOM_TYPES.get(self.data_type, FieldType.STRING)


def _client(connection: Connection):
    from apps.connections.intercom.destination import DestinationUnavailable, client_for

    try:
        return client_for(connection)
    except DestinationUnavailable as error:
        raise AttributesUnavailable(str(error)) from error


def _fetch(connection: Connection) -> dict[str, list[dict]]:
    attributes: dict[str, list[dict]] = {}
    with _client(connection) as client:
        for model in ATTRIBUTE_MODELS:
            try:
                outcome = client.list_data_attributes(model)
            except (AuthFailure, TransientFailure) as error:
                raise AttributesUnavailable(f"Intercom did not list the attributes: {error}") from error
            if isinstance(outcome, Rejected):
                raise AttributesUnavailable(f"Intercom refused to list the attributes: {outcome.message}")
            attributes[model] = sorted(
                (
                    {
                        "name": a["name"],
                        "data_type": a.get("data_type", "string"),
                        "description": a.get("description") or "",
                    }
                    for a in (outcome.body or {}).get("data", [])
                    if a.get("custom") and a.get("api_writable") and not a.get("archived")
                ),
                key=lambda a: a["name"].lower(),
            )
    return attributes


def attributes_refresh(connection: Connection) -> Connection:
    """Read the attributes from Intercom now and store them on the connection."""
    connection.attributes_cache = _fetch(connection)
    connection.attributes_fetched_at = timezone.now()
    connection.save(update_fields=["attributes_cache", "attributes_fetched_at", "updated_at"])
    return connection


def attributes_stale(connection: Connection) -> bool:
    fetched = connection.attributes_fetched_at
    return fetched is None or timezone.now() - fetched > ATTRIBUTES_MAX_AGE


def attribute_list(
    connection: Connection, *, model: str | None = None, refresh: bool = False
) -> list[CustomAttribute]:
    """The destination's custom attributes (of one model, or of both), refreshed when stale or asked."""
    if refresh or attributes_stale(connection):
        attributes_refresh(connection)
    models = [model] if model else list(ATTRIBUTE_MODELS)
    return [
        CustomAttribute(
            name=a["name"], model=m, data_type=a["data_type"], description=a.get("description", "")
        )
        for m in models
        for a in (connection.attributes_cache or {}).get(m, [])
    ]


def attribute_list_cached(connection: Connection, *, model: str | None = None) -> list[CustomAttribute]:
    """Like attribute_list, but a failed refresh falls back to what is cached (pages must still render)."""
    try:
        return attribute_list(connection, model=model)
    except AttributesUnavailable:
        models = [model] if model else list(ATTRIBUTE_MODELS)
        return [
            CustomAttribute(name=a["name"], model=m, data_type=a["data_type"])
            for m in models
            for a in (connection.attributes_cache or {}).get(m, [])
        ]


def attribute_create(connection: Connection, *, name: str, model: str, data_type: str) -> CustomAttribute:
    """Create a custom attribute in Intercom (its type can never change afterwards), then refresh the cache."""
    name = name.strip()
    if model not in ATTRIBUTE_MODELS:
        raise AttributesUnavailable(
            f"Intercom keeps custom attributes on contacts and companies, not {model}."
        )
    if data_type not in dict(CREATABLE_TYPES):
        raise AttributesUnavailable(f"Choose one of the types: {', '.join(dict(CREATABLE_TYPES))}.")
    if not name:
        raise AttributesUnavailable("Give the attribute a name.")
    with _client(connection) as client:
        try:
            outcome = client.create_data_attribute(name=name, model=model, data_type=data_type)
        except (AuthFailure, TransientFailure) as error:
            raise AttributesUnavailable(f"Intercom did not create “{name}”: {error}") from error
    if isinstance(outcome, Rejected):
        raise AttributesUnavailable(f"Intercom refused “{name}”: {outcome.message}")
    attributes_refresh(connection)
    return CustomAttribute(name=name, model=model, data_type=data_type)
