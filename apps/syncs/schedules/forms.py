"""The schedule form: a kind, and the settings that kind reads. Every setting is on the page at once (the
page works without JavaScript; CSS shows only the chosen kind's), so errors in the settings of a kind that
was not chosen are dropped rather than blocking the save. The form only parses (a number, a time); what
the values mean, and what is missing, is judged by the scheduling service, whose problems the view places
next to their fields. (The settings are "required" for the labels: the chosen kind needs each it shows.)"""

from __future__ import annotations

from datetime import time

from django import forms

from apps.common.time_zones import TimeZoneField
from apps.syncs.models import Sync
from apps.syncs.schedules.compute import KIND_FIELDS, WEEKDAYS, Schedule, ScheduleKind
from apps.tenancy.models import Workspace


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(label="Run this sync", choices=ScheduleKind.choices, widget=forms.RadioSelect)
    every_minutes = forms.IntegerField(label="Minutes between runs")
    minute = forms.IntegerField(label="Minute past the hour")
    weekday = forms.TypedChoiceField(
        label="Day", choices=list(enumerate(WEEKDAYS)), coerce=int, empty_value=None
    )
    at = forms.TimeField(label="Time", widget=forms.TimeInput(attrs={"type": "time"}))
    cron = forms.CharField(
        label="Cron expression",
        max_length=100,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "0 9 * * 1-5"}
        ),
        help_text="Five fields: minute, hour, day of month, month, day of week. "
        "<code>0 9 * * 1-5</code> runs at 09:00 on weekdays; <code>*/30 8-18 * * *</code> every half hour "
        "from 08:00 to 18:30.",
    )
    timezone = TimeZoneField(help_text="Times follow its daylight saving changes.")
    after = forms.ModelChoiceField(
        label="After this sync succeeds",
        queryset=Sync.objects.none(),
        empty_label="Choose a sync",
        error_messages={
            "invalid_choice": "There is no such sync in this workspace.",
        },
    )

    def __init__(self, *args, workspace: Workspace, sync: Sync, default_time_zone: str = "UTC", **kwargs):
        schedule = sync.schedule
        kwargs.setdefault(
            "initial",
            {
                "kind": schedule.kind,
                "every_minutes": schedule.every_minutes or 60,
                "minute": 0 if schedule.minute is None else schedule.minute,
                "weekday": 0 if schedule.weekday is None else schedule.weekday,
                "at": schedule.at or time(9, 0),
                "cron": schedule.cron,
                "timezone": sync.schedule_timezone if schedule.uses_time_zone else default_time_zone,
                "after": sync.schedule_after_id,
            },
        )
        super().__init__(*args, **kwargs)
        syncs = Sync.objects.for_workspace(workspace).order_by("name")
        after = self.fields["after"]
        # Any sync of the workspace is accepted here (the service explains why itself is refused); the
        # list offers the others.
        after.queryset = syncs
        after.widget.choices = [("", after.empty_label), *((s.pk, s.name) for s in syncs if s.pk != sync.pk)]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            used = KIND_FIELDS[ScheduleKind(kind)]
            for name, errors in self.errors.as_data().items():
                missing = errors[0].code == "required"
                if name in self.fields and name != "kind" and (name not in used or missing):
                    del self.errors[name]
        return cleaned

    def schedule(self) -> Schedule:
        data = self.cleaned_data
        return Schedule(
            kind=ScheduleKind(data["kind"]),
            timezone=(data.get("timezone") or "").strip(),
            every_minutes=data.get("every_minutes"),
            minute=data.get("minute"),
            at=data.get("at"),
            weekday=data.get("weekday"),
            cron=data.get("cron") or "",
        )
