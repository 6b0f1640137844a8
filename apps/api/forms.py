from django import forms


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        help_text="Where the key will be used, e.g. “Airflow production”, so you know which to revoke.",
        error_messages={"required": "Name the key after where it will be used, e.g. “Airflow production”."},
    )
