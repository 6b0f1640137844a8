"""IANA time zones, as people pick them (a workspace's zone, a schedule's zone)."""

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


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
