from django import template
from django.utils import timezone

from apps.syncs.schedules.compute import format_run_time

register = template.Library()


@register.filter
def next_run_label(sync) -> str:
    """ "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)", or "" when nothing is scheduled."""
    if sync.next_run_at is None:
        return ""
    return format_run_time(sync.next_run_at, sync.schedule_timezone, now=timezone.now())
