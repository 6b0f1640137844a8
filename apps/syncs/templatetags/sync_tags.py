from datetime import timedelta

from django import template

from apps.syncs.engine.outcomes import (
    BAD,
    BEHAVIOR_COUNTS,
    LABELS,
    WARN,
    Outcome,
    RunCounts,
    Tally,
    counts_summary,
)
from apps.syncs.models import RecordOutcome

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A run's duration as people read it: 0.4 s, 12 s, 3 min 5 s, 2 h 4 min."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def ms_duration(value: int | None) -> str:
    """Milliseconds (a run's time held by the rate limiter) as `duration` shows a duration."""
    return duration(timedelta(milliseconds=value or 0))


@register.filter
def count(counts: RunCounts | dict | None, key: str) -> int:
    """One count of a RunCounts, or of a dict of counts (a chart's bar); 0 when it was never counted."""
    if isinstance(counts, RunCounts):
        return counts[key]
    return (counts or {}).get(key, 0)


@register.filter
def run_counts(counts: dict | None) -> RunCounts:
    """`SyncRun.counts` as a RunCounts: `{% with c=run.counts|run_counts %}{{ c.api_calls }}…`."""
    return RunCounts.from_json(counts)


@register.simple_tag
def count_columns(name: str) -> list[tuple[str, str]]:
    """(key, label) of the counts a block of the pages shows, in order: see `COLUMNS`."""
    return [(key, LABELS[key]) for key in COLUMNS[name]]


# The counts each block shows (the run page's grid shows every labelled count).
COLUMNS = {
    "grid": tuple(LABELS),
    "progress": (Tally.SOURCE_ROWS, Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REJECTED,
                 Outcome.INVALID),
}  # fmt: skip


@register.simple_tag
def behavior_columns(behavior: str) -> list[tuple[str, str]]:
    """(key, label) of the counts that say what a run of this behavior did (`BEHAVIOR_COUNTS`)."""
    return [(key, LABELS[key]) for key in BEHAVIOR_COUNTS[behavior]]


@register.filter
def behavior_counts(counts: dict | None, behavior: str) -> list[tuple[str, str, int]]:
    """A run's counts that are not zero among those of its behavior (and its warnings), as (key, label,
    count): the run list, where runs of every behavior share one "Records" column."""
    tally = RunCounts.from_json(counts)
    keys = (*BEHAVIOR_COUNTS[behavior], Tally.STILL_REJECTED, Tally.WARNINGS)
    return [(key, _label(key, tally[key]), tally[key]) for key in keys if tally[key]]


def _label(key: str, count: int) -> str:
    """The count's label beside its number: "1 warning", as "3 warnings" (the other labels are verbs)."""
    return "warning" if key == Tally.WARNINGS and count == 1 else LABELS[key]


@register.filter
def count_tone(key: str) -> str:
    """How a count that is not zero reads: bad (records that did not go through), warn, or plain."""
    return "bad" if key in BAD else "warn" if key in WARN else ""


# How each outcome of the run page's records reads: (badge, what it means).
RECORD_OUTCOMES = {
    RecordOutcome.REJECTED: ("failed", "from Intercom"),
    RecordOutcome.INVALID: ("partially_failed", "not sent: fix the model"),
    RecordOutcome.WARNING: ("warning", "saved, not all of it"),
    RecordOutcome.SKIPPED: ("cancelled", "nothing to do"),
    RecordOutcome.CREATED: ("succeeded", "in Intercom"),
    RecordOutcome.UPDATED: ("succeeded", "in Intercom"),
    RecordOutcome.ARCHIVED: ("succeeded", "in Intercom"),
    RecordOutcome.DELETED: ("succeeded", "in Intercom"),
    RecordOutcome.SENT: ("succeeded", "in Intercom"),
}


@register.filter
def outcome_badge(outcome: str) -> str:
    return RECORD_OUTCOMES.get(outcome, ("cancelled", ""))[0]


@register.filter
def outcome_note(outcome: str) -> str:
    return RECORD_OUTCOMES.get(outcome, ("", ""))[1]


# Intercom's answer to a record, as the record page says it (an accepted record: its outcome's word).
RECORD_ANSWERS = {
    RecordOutcome.INVALID: "none: refused by Syncline before any call (fix the model)",
    RecordOutcome.REJECTED: "refused",
    RecordOutcome.SKIPPED: "nothing to do",
    RecordOutcome.WARNING: "saved, not all of it",
}


@register.filter
def outcome_answer(outcome: str) -> str:
    return RECORD_ANSWERS.get(outcome, f"accepted: {outcome}")


@register.filter
def outcome_sends(outcome: str) -> bool:
    """Whether a record with this outcome has a request body of its own (a warning rides with its record's)."""
    return outcome != RecordOutcome.WARNING


@register.simple_tag(takes_context=True)
def page_query(context, page: int) -> str:
    """The current query string with another page number (search and filters kept)."""
    query = context["request"].GET.copy()
    query["page"] = page
    return query.urlencode()


@register.filter
def status_label(value: str) -> str:
    from apps.syncs.models import RunStatus

    return RunStatus(value).label if value in RunStatus.values else value


@register.filter
def trigger_label(value: str) -> str:
    from apps.syncs.models import RunTrigger

    return RunTrigger(value).label if value in RunTrigger.values else value


@register.filter
def identifier_label(value: str) -> str:
    from apps.syncs.wizard.forms import IDENTIFIER_LABELS

    return IDENTIFIER_LABELS.get(value, value)


@register.filter
def null_policy(mapping, obj) -> str:
    """What a NULL does to a mapping (a `FieldMapping`, from `sync.config`)."""
    from apps.syncs.wizard.forms import null_policy_words

    return null_policy_words(mapping, obj)


@register.filter
def date_unit(mapping, model) -> str:
    """How a date mapping (a `FieldMapping`) reads its column ("numbers as epoch milliseconds"); "" for
    other mappings."""
    from apps.syncs.engine import date_units

    if not date_units.takes_unit(mapping.field_type):
        return ""
    return date_units.unit_words(mapping.unit, _kind(model, mapping.column))


@register.filter
def event_time_unit(event, model) -> str:
    """How an event sync (its `EventOptions`) reads its event time column."""
    from apps.syncs.engine import date_units

    return date_units.unit_words(event.created_at_unit, _kind(model, event.created_at_column))


@register.filter
def event_contact_label(key: str) -> str:
    from apps.connections.intercom.catalog import EVENT_CONTACT_KEYS

    return EVENT_CONTACT_KEYS.get(key, key)


def _kind(model, column: str | None) -> str:
    return next((c.get("kind") or "" for c in model.columns if c["name"] == column), "")


@register.filter
def pretty_json(value) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)


@register.filter
def run_summary(counts: dict | None) -> str:
    """A run's result in a few words: the counts that are not zero ("120 updated · 2 rejected")."""
    return counts_summary(RunCounts.from_json(counts))
