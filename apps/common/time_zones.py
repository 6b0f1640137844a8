"""IANA time zones, as people pick them (a workspace's zone, a schedule's zone)."""

from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

# The groups of the picker, by the first part of the name; every other valid name (US/Eastern, EST5EDT,
# Etc/GMT+5 …) is under "Other", so that a zone saved before is still there to keep.
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
         "Pacific")  # fmt: skip


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


def _offset(name: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(name)).strftime("%z")  # +0530
    return f"UTC{offset[:3]}:{offset[3:]}"


def time_zone_choices() -> list:
    """The picker's options, grouped by area, each with its UTC offset now: Europe/Paris (UTC+01:00).
    Built once an hour (offsets change on the hour at the latest): 600 zones take ~0.2 s to read."""
    return _choices_at(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=2)
def _choices_at(now: datetime) -> list:
    groups: dict[str, list[tuple[str, str]]] = {area: [] for area in (*AREAS, "Other")}
    for name in time_zone_names():
        if name == "UTC":
            continue
        area = name.split("/", 1)[0] if "/" in name else "Other"
        groups[area if area in groups else "Other"].append((name, f"{name} ({_offset(name, now)})"))
    return [("UTC", "UTC"), *((area, zones) for area, zones in groups.items() if zones)]


class ZoneSelect(forms.Select):
    """The select, its 600 options written directly: Django's one-template-per-option rendering took
    ~0.3 s a page for this list."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = str(value or "")
        final = self.build_attrs(self.attrs, attrs) | {"name": name}

        def options(items):
            return format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((v, " selected" if v == chosen else "", label) for v, label in items),
            )

        parts = []
        for group, items in self.choices:
            if isinstance(items, (list, tuple)):
                parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, options(items)))
            else:
                parts.append(options([(group, items)]))
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe("".join(parts)))  # noqa: S308 - built by format_html


class TimeZoneField(forms.ChoiceField):
    """A select of IANA time zones (type the first letters to jump), instead of a free-text field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        # syncline.js adds a search box above it (type "paris" or "new york"); without scripts, a plain select.
        kwargs.setdefault("widget", ZoneSelect(attrs={"data-searchable": "Search time zones"}))
        super().__init__(choices=time_zone_choices, validators=[validate_time_zone], **kwargs)
        self.error_messages["required"] = zone_problem("") or ""

    def to_python(self, value) -> str:
        return super().to_python(value).strip()

    def valid_value(self, value) -> bool:
        return True  # any IANA name, listed or not (the API and old rows): the validator says what is wrong
