from django import forms

from apps.api.models import KEY_ROLES
from apps.tenancy.models import Role


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        help_text="Where the key will be used, e.g. “Airflow production”, so you know which to revoke.",
        error_messages={"required": "Name the key after where it will be used, e.g. “Airflow production”."},
    )
    role = forms.ChoiceField(
        label="What the key may do",
        choices=KEY_ROLES,
        initial=Role.EDITOR,
        required=False,  # a client that sends no role (an older script) gets what keys used to be: editor
        widget=forms.RadioSelect,
        help_text="A pipeline that only triggers syncs and reads runs needs an editor key; a dashboard or a "
        "monitor that only reads can do with a viewer key.",
    )

    def clean_role(self):
        return Role(self.cleaned_data.get("role") or Role.EDITOR)
