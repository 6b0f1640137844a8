import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.alerts.models import DEFAULT_REJECTED_THRESHOLD, WebhookEvent
from apps.alerts.webhooks import webhook_url_check
from apps.common.outbound import OutboundUrlError
from apps.tenancy.models import Membership


class RecipientsForm(forms.Form):
    """Workspace members to email, plus addresses outside the workspace (a team list, an on-call alias)."""

    members = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Members"
    )
    extra_emails = forms.CharField(
        required=False,
        label="Other email addresses",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "data-alerts@example.com"}),
        help_text="One per line or separated by commas, e.g. a team list or an on-call alias.",
    )

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [
            (m.user_id, f"{m.user.email} ({m.get_role_display().lower()})") for m in members
        ]

    def clean_extra_emails(self) -> list[str]:
        addresses = [a for a in re.split(r"[\s,;]+", self.cleaned_data["extra_emails"]) if a]
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            listed = ", ".join(f"“{a}”" for a in wrong)
            raise ValidationError(
                f"{listed} {'is not an email address' if len(wrong) == 1 else 'are not email addresses'}; "
                "fix or remove it to save."
            )
        return sorted({a.lower() for a in addresses})


class SyncAlertsForm(RecipientsForm):
    enabled = forms.BooleanField(required=False, label="Email alerts for this sync")
    recipients = forms.ChoiceField(
        choices=[
            ("workspace", "The workspace's alert recipients"),
            ("own", "Choose recipients for this sync"),
        ],
        widget=forms.RadioSelect,
        initial="workspace",
        label="Who gets them",
    )
    rejected_threshold = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=DEFAULT_REJECTED_THRESHOLD,
        label="Rejected records threshold (%)",
        help_text="Alert when Intercom rejects more than this share of the records a run sends it.",
        error_messages={
            "min_value": "Use a percentage from 1 to 100.",
            "max_value": "Use a percentage from 1 to 100.",
            "required": "Enter a percentage from 1 to 100 (75 is the default).",
        },
    )
    max_duration_minutes = forms.IntegerField(
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        label="Alert when a run takes longer than (minutes)",
        help_text="Checked every minute while a run is still going. Leave empty for no limit.",
        error_messages={
            "min_value": "Enter at least 1 minute, or leave it empty for no limit.",
            "max_value": "Enter at most 10080 minutes (a week), or leave it empty for no limit.",
        },
    )

    def clean(self):
        data = super().clean()
        own = data.get("recipients") == "own"
        if data.get("enabled") and own and not data.get("members") and not data.get("extra_emails"):
            self.add_error(
                "members",
                "Choose at least one member or enter an address, or use the workspace's recipients.",
            )
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "use_workspace_recipients": data["recipients"] == "workspace",
            "member_ids": data["members"],
            "extra_emails": data["extra_emails"],
            "rejected_threshold": data["rejected_threshold"],
            "max_duration_minutes": data["max_duration_minutes"],
        }

    @staticmethod
    def initial_from(own) -> dict:
        return {
            "enabled": own.enabled,
            "recipients": "workspace" if own.use_workspace_recipients else "own",
            "members": own.member_ids,
            "extra_emails": "\n".join(own.extra_emails),
            "rejected_threshold": own.rejected_threshold,
            "max_duration_minutes": own.max_duration_minutes,
        }


class WebhookForm(forms.Form):
    url = forms.CharField(
        max_length=2000,
        label="Endpoint URL",
        widget=forms.URLInput(
            attrs={"placeholder": "https://example.com/hooks/syncline", "autocomplete": "off"}
        ),
        error_messages={"required": "Enter the URL that should receive the events."},
    )
    description = forms.CharField(
        max_length=200,
        required=False,
        label="Description",
        help_text="What listens there, e.g. “Airflow: start the dbt job”.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        error_messages={"required": "Choose at least one event to send."},
        help_text="A partially failed run sends run.failed with data.status “partially_failed”; a run that "
        "succeeded with warnings sends run.succeeded with data.status “succeeded_with_warnings”. "
        "A cancelled run sends no end event.",
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            webhook_url_check(url)
        except OutboundUrlError as error:
            raise ValidationError(str(error)) from None
        return url


class WebhookEditForm(WebhookForm):
    enabled = forms.BooleanField(required=False, label="Send events to this endpoint")
