"""The staff-only style page (/staff/styles/): every component of static/css/syncline.css with its variants,
drawn from the includes the pages use, so a change to one shows here beside the others. Staff only: anyone
else gets the 404 of a page that does not exist (logged out: the login page first)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.template.response import TemplateResponse

from apps.connections.models import ConnectionStatus
from apps.syncs.models import RunStatus
from apps.tenancy.models import Role


class SampleForm(forms.Form):
    """Fields of each kind, one with an error, as includes/field.html shows them."""

    name = forms.CharField(label="Sync name", help_text="Shown in lists and alerts.")
    email = forms.EmailField(label="Alert email", required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    enabled = forms.BooleanField(label="Send alerts", required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SampleMessage:
    def __init__(self, tags: str, text: str):
        self.tags, self.text = tags, text

    def __str__(self) -> str:
        return self.text


@login_required
def styles(request):
    if not request.user.is_staff:
        raise Http404
    form = SampleForm(data={"name": "", "email": "not-an-email", "role": Role.EDITOR, "enabled": "on"})
    form.is_valid()
    form.add_error(None, "This form's own error: two fields disagree.")
    return TemplateResponse(
        request,
        "staff/styles.html",
        {
            "form": form,
            "row_form": SampleForm(prefix="row"),
            "sample_messages": [
                SampleMessage("success", "Saved “Users to Intercom”."),
                SampleMessage("info", "The run is queued: it starts when a worker is free."),
                SampleMessage("warning", "3 records were refused by Intercom; the run page lists them."),
                SampleMessage("error", "The warehouse refused the query: relation “people” does not exist."),
            ],
            "run_statuses": RunStatus.choices,
            "connection_statuses": ConnectionStatus.choices,
            "roles": Role.choices,
        },
    )
