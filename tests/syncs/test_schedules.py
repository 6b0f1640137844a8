"""Next-run computation (apps/syncs/schedules/compute.py): every kind, time zones, daylight saving changes."""

from datetime import UTC, datetime, time

import pytest

from apps.syncs.schedules.compute import Schedule, ScheduleKind, format_run_time


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def runs(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    iterator = schedule.runs_after(after)
    return [next(iterator) for _ in range(count)]


# --- every kind -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # Every N minutes: a fixed grid counted from 00:00 UTC, strictly after the given moment.
        (
            Schedule(ScheduleKind.INTERVAL, every_minutes=15),
            utc(2025, 1, 6, 9, 7, 30),
            [utc(2025, 1, 6, 9, 15), utc(2025, 1, 6, 9, 30)],
        ),
        (
            Schedule(ScheduleKind.INTERVAL, every_minutes=15),
            utc(2025, 1, 6, 9, 15),
            [utc(2025, 1, 6, 9, 30), utc(2025, 1, 6, 9, 45)],
        ),
        (
            Schedule(ScheduleKind.INTERVAL, every_minutes=90, timezone="Europe/Paris"),
            utc(2025, 1, 6, 0, 1),
            [utc(2025, 1, 6, 1, 30), utc(2025, 1, 6, 3, 0)],
        ),
        # Hourly at minute 5, in a zone half an hour off UTC.
        (
            Schedule(ScheduleKind.HOURLY, minute=5, timezone="Asia/Kolkata"),
            utc(2025, 1, 6, 10, 0),
            [utc(2025, 1, 6, 10, 35), utc(2025, 1, 6, 11, 35)],
        ),
        # Daily at 09:00 Paris: 08:00 UTC in winter, 07:00 UTC in summer.
        (
            Schedule(ScheduleKind.DAILY, at=time(9), timezone="Europe/Paris"),
            utc(2025, 1, 6, 8, 0),
            [utc(2025, 1, 7, 8, 0), utc(2025, 1, 8, 8, 0)],
        ),
        (
            Schedule(ScheduleKind.DAILY, at=time(9), timezone="Europe/Paris"),
            utc(2025, 7, 1, 6, 59),
            [utc(2025, 7, 1, 7, 0), utc(2025, 7, 2, 7, 0)],
        ),
        # Weekly on Monday at 09:30 New York, asked on a Wednesday.
        (
            Schedule(ScheduleKind.WEEKLY, weekday=0, at=time(9, 30), timezone="America/New_York"),
            utc(2025, 1, 8, 12, 0),
            [utc(2025, 1, 13, 14, 30), utc(2025, 1, 20, 14, 30)],
        ),
        # Weekly on Sunday (cron's day 0).
        (
            Schedule(ScheduleKind.WEEKLY, weekday=6, at=time(23, 0), timezone="UTC"),
            utc(2025, 1, 8),
            [utc(2025, 1, 12, 23, 0), utc(2025, 1, 19, 23, 0)],
        ),
        # Cron: 09:00 on weekdays in Tokyo, asked on a Friday after 09:00 there.
        (
            Schedule(ScheduleKind.CRON, cron="0 9 * * 1-5", timezone="Asia/Tokyo"),
            utc(2025, 1, 10, 1, 0),
            [utc(2025, 1, 13, 0, 0), utc(2025, 1, 14, 0, 0)],
        ),
    ],
)
def test_each_kind_gives_its_next_runs(schedule, after, expected):
    assert runs(schedule, after, len(expected)) == expected
    assert schedule.next_run(after) == expected[0]
    assert schedule.problems() == {}


@pytest.mark.parametrize("kind", [ScheduleKind.MANUAL, ScheduleKind.AFTER_SYNC])
def test_manual_and_sequences_have_no_run_time(kind):
    assert Schedule(kind).next_run(utc(2025, 1, 1)) is None


def test_the_clock_kinds_are_cron_expressions():
    assert Schedule(ScheduleKind.HOURLY, minute=7).cron_expression() == "7 * * * *"
    assert Schedule(ScheduleKind.DAILY, at=time(6, 45)).cron_expression() == "45 6 * * *"
    assert Schedule(ScheduleKind.WEEKLY, weekday=0, at=time(9)).cron_expression() == "0 9 * * 1"
    assert Schedule(ScheduleKind.CRON, cron="  0   9 * *  1 ").cron_expression() == "0 9 * * 1"


# --- daylight saving time -----------------------------------------------------------------------------

PARIS_0230 = Schedule(ScheduleKind.DAILY, at=time(2, 30), timezone="Europe/Paris")


def test_a_time_skipped_by_spring_forward_runs_once_right_after_the_jump():
    # 30 March 2025, Paris: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist that day.
    first, second, third = runs(PARIS_0230, utc(2025, 3, 29, 12), 3)
    assert first == utc(2025, 3, 30, 1, 0)  # 03:00 CEST, once
    assert second == utc(2025, 3, 31, 0, 30)  # 02:30 CEST the next day
    assert third == utc(2025, 4, 1, 0, 30)


def test_a_time_repeated_by_fall_back_runs_once():
    # 26 October 2025, Paris: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
    first, second = runs(PARIS_0230, utc(2025, 10, 25, 12), 2)
    assert first == utc(2025, 10, 26, 0, 30)  # the first 02:30 (CEST)
    assert second == utc(2025, 10, 27, 1, 30)  # the next day, 02:30 CET: not the second 02:30


def test_asked_inside_the_repeated_hour_it_does_not_answer_the_hour_already_past():
    # 02:10 CET on the second pass (01:10 UTC): the first 02:30 (00:30 UTC) is over, the second is skipped.
    assert PARIS_0230.next_run(utc(2025, 10, 26, 1, 10)) == utc(2025, 10, 27, 1, 30)


def test_new_york_spring_forward_and_fall_back():
    schedule = Schedule(ScheduleKind.DAILY, at=time(2, 30), timezone="America/New_York")
    # 9 March 2025: 02:00 EST → 03:00 EDT.
    assert runs(schedule, utc(2025, 3, 8, 12), 2) == [utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 30)]
    # 2 November 2025: 02:00 EDT → 01:00 EST; 02:30 happens once (EST).
    assert runs(schedule, utc(2025, 11, 1, 12), 2) == [utc(2025, 11, 2, 7, 30), utc(2025, 11, 3, 7, 30)]


def test_hourly_runs_every_real_hour_through_the_repeated_hour():
    schedule = Schedule(ScheduleKind.HOURLY, minute=30, timezone="Europe/Paris")
    got = runs(schedule, utc(2025, 10, 25, 22, 0), 5)  # from 00:00 CEST on the 26th
    assert got == [
        utc(2025, 10, 25, 22, 30),
        utc(2025, 10, 25, 23, 30),
        utc(2025, 10, 26, 0, 30),
        utc(2025, 10, 26, 1, 30),
        utc(2025, 10, 26, 2, 30),
    ]


def test_an_interval_ignores_daylight_saving():
    schedule = Schedule(ScheduleKind.INTERVAL, every_minutes=60, timezone="Europe/Paris")
    assert runs(schedule, utc(2025, 10, 26, 0, 0), 3) == [
        utc(2025, 10, 26, 1),
        utc(2025, 10, 26, 2),
        utc(2025, 10, 26, 3),
    ]


# --- problems -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "field", "words"),
    [
        (Schedule(ScheduleKind.INTERVAL, every_minutes=0), "every_minutes", "from 1 to"),
        (Schedule(ScheduleKind.INTERVAL, every_minutes=-5), "every_minutes", "from 1 to"),
        (Schedule(ScheduleKind.INTERVAL, every_minutes=20_000), "every_minutes", "(a week)"),
        (Schedule(ScheduleKind.INTERVAL), "every_minutes", "how many minutes"),
        (Schedule(ScheduleKind.HOURLY, minute=60), "minute", "from 0 to 59"),
        (Schedule(ScheduleKind.DAILY), "at", "time of day"),
        (Schedule(ScheduleKind.WEEKLY, at=time(9)), "weekday", "day of the week"),
        (Schedule(ScheduleKind.CRON, cron="61 * * * *"), "cron", "Bad minute"),
        (Schedule(ScheduleKind.CRON, cron="0 9 * *"), "cron", "five fields"),
        (Schedule(ScheduleKind.CRON, cron="0 0 9 * * *"), "cron", "this one has 6"),
        (Schedule(ScheduleKind.CRON, cron="0 0 30 2 *"), "cron", "day-of-month"),
        (Schedule(ScheduleKind.CRON, cron=""), "cron", "Enter a cron expression"),
        (Schedule(ScheduleKind.DAILY, at=time(9), timezone="Europe/Pariss"), "timezone", "not a time zone"),
        (Schedule(ScheduleKind.DAILY, at=time(9), timezone="../etc/passwd"), "timezone", "not a time zone"),
        (Schedule(ScheduleKind.DAILY, at=time(9), timezone=""), "timezone", "Choose a time zone"),
    ],
)
def test_problems_name_their_field(schedule, field, words):
    problems = schedule.problems()
    assert list(problems) == [field]
    assert words in problems[field]


# --- words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (Schedule(ScheduleKind.MANUAL), "Manual only"),
        (Schedule(ScheduleKind.INTERVAL, every_minutes=15), "Every 15 minutes"),
        (Schedule(ScheduleKind.INTERVAL, every_minutes=120), "Every 2 hours"),
        (Schedule(ScheduleKind.HOURLY, minute=5), "Hourly at 05 minutes past the hour"),
        (Schedule(ScheduleKind.DAILY, at=time(9)), "Daily at 09:00"),
        (Schedule(ScheduleKind.WEEKLY, weekday=4, at=time(17, 30)), "Weekly on Friday at 17:30"),
        (
            Schedule(ScheduleKind.CRON, cron="0 9 * * 1-5"),
            "Cron 0 9 * * 1-5: at 09:00 on Monday through Friday",
        ),
    ],
)
def test_describe(schedule, words):
    assert schedule.describe() == words


@pytest.mark.parametrize(
    ("moment", "now", "label"),
    [
        (utc(2024, 12, 2, 8), utc(2024, 12, 2, 5), "Mon, Dec 2, 09:00 Europe/Paris (in 3 h)"),
        (utc(2024, 12, 2, 8), utc(2024, 12, 2, 7, 50), "Mon, Dec 2, 09:00 Europe/Paris (in 10 min)"),
        (
            utc(2024, 12, 2, 8),
            utc(2024, 12, 2, 7, 59, 30),
            "Mon, Dec 2, 09:00 Europe/Paris (in under a minute)",
        ),
        (utc(2024, 12, 2, 8), utc(2024, 12, 2, 8, 0, 20), "Mon, Dec 2, 09:00 Europe/Paris (due now)"),
        (utc(2024, 12, 9, 8), utc(2024, 12, 2, 8), "Mon, Dec 9, 09:00 Europe/Paris (in 7 days)"),
        (utc(2025, 1, 6, 8), utc(2024, 12, 30, 8), "Mon, Jan 6, 2025, 09:00 Europe/Paris (in 7 days)"),
    ],
)
def test_run_times_read_in_the_schedules_zone(moment, now, label):
    assert format_run_time(moment, "Europe/Paris", now=now) == label
