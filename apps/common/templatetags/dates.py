"""Dates on every page, one way: "5 minutes ago" (or "just now", never "0 minutes ago"), with the exact moment
in one format, in the workspace's time zone (workspace_view activates it), on hover and for machines.

    {% load dates %}
    {% when run.started_at %}      → <time datetime="2026-12-03T14:05:09+01:00" title="Dec 3, 2026, 14:05 CET">5 minutes ago</time>
    {{ run.started_at|ago }}       → 5 minutes ago
    {{ run.started_at|exact }}     → Dec 3, 2026, 14:05 CET
    {{ run.started_at|exact_seconds }} → Dec 3, 2026, 14:05:09  (a page that says its zone once)
"""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()

EXACT = "M j, Y, H:i T"  # the one format for a moment: Dec 3, 2026, 14:05 CET
EXACT_SECONDS = "M j, Y, H:i:s"  # the same, to the second, where seconds tell (a run's timeline, a record)
JUST_NOW = timedelta(minutes=1)


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago (or until) `value`, at the largest unit: "just now", "5 minutes ago", "in 3 hours"."""
    if not value:
        return ""
    now = now or timezone.now()
    if abs(now - value) < JUST_NOW:
        return "just now" if value <= now else "in under a minute"
    if value <= now:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.filter
def exact(value: datetime | None) -> str:
    """The moment in the one format, in the current (the workspace's) time zone."""
    return date_format(_local(value), EXACT) if value else ""


@register.filter
def exact_seconds(value: datetime | None) -> str:
    return date_format(_local(value), EXACT_SECONDS) if value else ""


@register.simple_tag
def when(value: datetime | None) -> str:
    """A moment as people read it (relative), with the exact one on hover and in `datetime`."""
    if not value:
        return ""
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', _local(value).isoformat(), exact(value), ago(value)
    )
