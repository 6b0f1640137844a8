from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction

from apps.common.time_zones import TimeZoneField
from apps.tenancy import services
from apps.tenancy.models import Role
from apps.tenancy.selectors import invitation_find_by_token

INVALID_INVITATION = (
    "This invitation link is not valid: it may be mistyped, already used, revoked or older than 7 days. "
    "Ask the person who invited you for a new one."
)


class WorkspaceFieldsMixin(forms.Form):
    workspace_name = forms.CharField(label="Workspace name", max_length=100, required=False)
    workspace_slug = forms.CharField(
        label="Workspace address",
        max_length=50,
        required=False,
        help_text="Lowercase letters, digits and hyphens; used in URLs (/w/your-team/). Leave blank to derive it.",
    )

    def clean_workspace_slug(self):
        slug = self.cleaned_data.get("workspace_slug", "").strip().lower()
        if slug:
            error = services.workspace_slug_error(slug)
            if error:
                raise forms.ValidationError(error)
        return slug


class SignupForm(WorkspaceFieldsMixin, AllauthSignupForm):
    """Sign-up creates the user's first workspace, or joins the workspace of an invitation; both or none."""

    invitation = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["email", "password1", "password2", "workspace_name", "workspace_slug", "invitation"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new account creates its workspace, so the name is required (and labelled so); one that joins an
        # invitation's workspace does not show the field (the invitation link fills in the invited address).
        name = self.fields["workspace_name"]
        name.required = not (self.is_bound and self.data.get("invitation"))
        name.error_messages["required"] = "Name your workspace (your team or company name)."

    def clean(self):
        cleaned = super().clean()
        token = cleaned.get("invitation", "")
        self.pending_invitation = invitation_find_by_token(raw_token=token) if token else None
        if token and self.pending_invitation is None:
            raise forms.ValidationError(INVALID_INVITATION, code="invalid_invitation")
        if self.pending_invitation is not None:
            email = cleaned.get("email") or ""
            mismatch = services.invitation_email_mismatch(invitation=self.pending_invitation, email=email)
            if email and mismatch:
                self.add_error("email", mismatch)
        elif not cleaned.get("workspace_name", "").strip():
            self.add_error("workspace_name", "Name your workspace (your team or company name).")
        return cleaned

    def save(self, request):
        with transaction.atomic():
            user = super().save(request)
            if self.pending_invitation is not None:
                services.invitation_accept(invitation=self.pending_invitation, user=user)
            else:
                services.workspace_create(
                    user=user,
                    name=self.cleaned_data["workspace_name"],
                    slug=self.cleaned_data["workspace_slug"],
                )
        return user


class LoginForm(AllauthLoginForm):
    """The page has its own "Forgot your password?" link under the form; allauth would add a second one as
    the password field's help."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = ""


class WorkspaceCreateForm(WorkspaceFieldsMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace_name"].required = True


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=100)
    time_zone = TimeZoneField(
        help_text="Times and days on every page of this workspace are shown in it, and new schedules start "
        "in it. Search by city or region (Paris, New York), or type the first letters of the name.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
