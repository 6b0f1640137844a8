"""When a sync runs next: pure computation from a schedule and a moment (no database, no clock).

Every clock-based kind (hourly, daily, weekly, cron) is a cron expression evaluated by cronsim in the
schedule's IANA time zone, so one well-tested evaluator handles daylight saving time the way Debian's cron
does: a time skipped by the spring change runs once, right after the jump (a daily 02:30 runs at 03:00
that day); a time repeated by the autumn change runs once (the first time). "Every N minutes" counts from
00:00 UTC on a fixed grid, so a beat that was down does not shift the following runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from django.db import models

from apps.common.time_zones import zone_problem


class ScheduleKind(models.TextChoices):
    MANUAL = "manual", "Manual only"
    INTERVAL = "interval", "Every N minutes"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    CRON = "cron", "Cron expression"
    AFTER_SYNC = "after_sync", "After another sync succeeds"


# The settings each kind reads (the form's field names); the others are ignored and stored empty. An
# interval is counted in UTC; its time zone only says how its run times are shown.
KIND_FIELDS = {
    ScheduleKind.MANUAL: (),
    ScheduleKind.INTERVAL: ("every_minutes", "timezone"),
    ScheduleKind.HOURLY: ("minute", "timezone"),
    ScheduleKind.DAILY: ("at", "timezone"),
    ScheduleKind.WEEKLY: ("weekday", "at", "timezone"),
    ScheduleKind.CRON: ("cron", "timezone"),
    ScheduleKind.AFTER_SYNC: ("after",),
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MAX_INTERVAL_MINUTES = 7 * 24 * 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cron_problem(expression: str) -> str | None:
    """Why a cron expression cannot be used, in the user's terms; None when it can."""
    fields = expression.split()
    if not fields:
        return "Enter a cron expression, such as 0 9 * * 1-5 (09:00 on weekdays)."
    if len(fields) != 5:
        return (
            f"A cron expression has five fields (minute hour day-of-month month day-of-week); "
            f"this one has {len(fields)}."
        )
    try:
        next(CronSim(expression, datetime(2000, 1, 1)))
    except CronSimError as error:  # cronsim names the field: "Bad minute", "Bad day-of-month"…
        return f"{error}: “{expression}” is not a valid cron expression."
    except StopIteration:
        return f"“{expression}” never matches a date (such as 30 February)."
    return None


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind = ScheduleKind.MANUAL
    timezone: str = "UTC"
    every_minutes: int | None = None  # interval
    minute: int | None = None  # hourly: minute past the hour
    at: time | None = None  # daily, weekly
    weekday: int | None = None  # weekly: 0 = Monday
    cron: str = ""

    @property
    def uses_time_zone(self) -> bool:
        return "timezone" in KIND_FIELDS[self.kind]

    def problems(self) -> dict[str, str]:
        """Field name → what is wrong with it (the fields the kind uses only)."""
        problems: dict[str, str | None] = {}
        if self.kind == ScheduleKind.INTERVAL:
            n = self.every_minutes
            if n is None:
                problems["every_minutes"] = "Enter how many minutes between runs."
            elif not 1 <= n <= MAX_INTERVAL_MINUTES:
                problems["every_minutes"] = (
                    f"Enter a number of minutes from 1 to {MAX_INTERVAL_MINUTES:,} (a week)."
                )
        elif self.kind == ScheduleKind.HOURLY:
            if self.minute is None or not 0 <= self.minute <= 59:
                problems["minute"] = "Enter the minute past the hour, from 0 to 59."
        elif self.kind in (ScheduleKind.DAILY, ScheduleKind.WEEKLY):
            if self.at is None:
                problems["at"] = "Enter the time of day, such as 09:00."
            if self.kind == ScheduleKind.WEEKLY and self.weekday not in range(7):
                problems["weekday"] = "Choose a day of the week."
        elif self.kind == ScheduleKind.CRON:
            problems["cron"] = cron_problem(self.cron)
        if self.uses_time_zone:
            problems["timezone"] = zone_problem(self.timezone)
        return {field: message for field, message in problems.items() if message}

    def cron_expression(self) -> str | None:
        """The clock-based kinds as the cron expression they mean."""
        if self.kind == ScheduleKind.HOURLY:
            return f"{self.minute} * * * *"
        if self.kind == ScheduleKind.DAILY:
            return f"{self.at.minute} {self.at.hour} * * *"
        if self.kind == ScheduleKind.WEEKLY:
            return f"{self.at.minute} {self.at.hour} * * {(self.weekday + 1) % 7}"  # cron: 0 = Sunday
        if self.kind == ScheduleKind.CRON:
            return " ".join(self.cron.split())
        return None

    def next_run(self, after: datetime) -> datetime | None:
        """The first run time strictly after `after` (aware), in UTC; None for manual and sequences."""
        return next(self.runs_after(after), None)

    def runs_after(self, after: datetime) -> Iterator[datetime]:
        """Run times strictly after `after`, in UTC, ascending."""
        if self.kind == ScheduleKind.INTERVAL:
            step = timedelta(minutes=self.every_minutes)
            slot = _EPOCH + ((after - _EPOCH) // step + 1) * step
            while True:
                yield slot
                slot += step
        expression = self.cron_expression()
        if expression is None:
            return
        try:
            for local in CronSim(expression, after.astimezone(ZoneInfo(self.timezone))):
                moment = local.astimezone(UTC)
                # Starting inside a repeated hour, cronsim can answer the hour's first pass, which is
                # already over: skip it so that a run is never due twice.
                if moment > after:
                    yield moment
        except StopIteration:  # no match within cronsim's 50-year horizon
            return

    def describe(self) -> str:
        """In words, without the time zone: "Every 15 minutes", "Weekly on Monday at 09:00"."""
        if self.kind == ScheduleKind.INTERVAL:
            n = self.every_minutes
            if n == 1:
                return "Every minute"
            if n % 60 == 0:
                hours = n // 60
                return "Every hour" if hours == 1 else f"Every {hours} hours"
            return f"Every {n} minutes"
        if self.kind == ScheduleKind.HOURLY:
            return f"Hourly at {self.minute:02d} minutes past the hour"
        if self.kind == ScheduleKind.DAILY:
            return f"Daily at {self.at:%H:%M}"
        if self.kind == ScheduleKind.WEEKLY:
            return f"Weekly on {WEEKDAYS[self.weekday]} at {self.at:%H:%M}"
        if self.kind == ScheduleKind.CRON:
            return f"Cron {self.cron_expression()}: {_explain(self.cron_expression())}"
        return ScheduleKind(self.kind).label


def format_run_time(moment: datetime, zone: str, *, now: datetime) -> str:
    """ "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)": the wall-clock time in the schedule's zone, and how soon;
    month first like every date on the pages (apps/common/templatetags/dates.py), the weekday added."""
    local = moment.astimezone(ZoneInfo(zone))
    year = f", {local.year}" if local.year != now.astimezone(ZoneInfo(zone)).year else ""
    return f"{local:%a}, {local:%b} {local.day}{year}, {local:%H:%M} {zone} ({_until(moment - now)})"


def _until(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes <= 0:
        return "due now"
    if minutes < 1:
        return "in under a minute"
    if minutes < 60:
        return f"in {round(minutes)} min"
    if minutes < 36 * 60:
        return f"in {round(minutes / 60)} h"
    days = round(minutes / (24 * 60))
    return f"in {days} days"


def _explain(expression: str) -> str:
    explained = CronSim(expression, datetime(2000, 1, 1)).explain()
    return explained[:1].lower() + explained[1:]
