from django import forms

from apps.connections.intercom.attributes import CREATABLE_TYPES
from apps.connections.models import IntercomRegion

REGION_HELP = (
    "Match your Intercom workspace's data host region (Intercom: Settings → Workspace → General → "
    "Data hosting region). Most workspaces are in the US."
)


class RegionForm(forms.Form):
    region = forms.ChoiceField(
        choices=IntercomRegion.choices, initial=IntercomRegion.US, help_text=REGION_HELP
    )


class TokenForm(RegionForm):
    token = forms.CharField(
        label="Access token",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="From Intercom's Developer Hub: your app → Configure → Authentication. Checked with Intercom at once.",
    )

    def clean_token(self):
        # It travels in an HTTP header, which carries printable ASCII only; Intercom's tokens are such.
        token = self.cleaned_data["token"].strip()
        if not all("!" <= char <= "~" for char in token):
            raise forms.ValidationError(
                "This is not an Intercom access token: a token is one word of letters, digits and signs "
                "such as = or _, without spaces. Copy it again from the Developer Hub."
            )
        return token


class AttributeCreateForm(forms.Form):
    name = forms.CharField(max_length=190, help_text="Letters, digits, spaces, hyphens and underscores.")
    model = forms.ChoiceField(choices=[("contact", "Contacts"), ("company", "Companies")])
    data_type = forms.ChoiceField(
        label="Type",
        choices=CREATABLE_TYPES,
        help_text="Intercom never lets an attribute's type change: choose it with care.",
    )
