"""IANA time zones, as people pick them (a workspace's zone, a schedule's zone)."""

from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError


@cache
def time_zone_names() -> list[str]:
    return sorted(available_timezones())


def zone_problem(name: str) -> str | None:
    """What is wrong with a time zone name, in the words of the form that asks for it; None when it is one."""
    if not name:
        return "Choose a time zone, such as UTC or Europe/Paris."
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"“{name}” is not a time zone: use an IANA name such as Europe/Paris or America/New_York."
    return None


def validate_time_zone(name: str) -> None:
    """The model field's validator (the admin and forms both go through it)."""
    if problem := zone_problem(name):
        raise ValidationError(problem)


def zone_or_utc(name: str) -> tzinfo:
    """The zone to show times in: a name that is somehow not a zone (a row written around the validator)
    shows UTC rather than breaking every page of its workspace."""
    return UTC if zone_problem(name) else ZoneInfo(name)
