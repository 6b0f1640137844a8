from django import forms
from django.conf import settings

from apps.common.hosting import shared_hosting
from apps.connections import selectors
from apps.connections.duckdb_files import duckdb_upload_problem
from apps.connections.models import Connection
from apps.connections.sources import errors
from apps.connections.sources.bigquery import ProjectNotFound, ServiceAccountInvalid, ServiceAccountRefused
from apps.connections.sources.google_sheets import (
    SheetNotFound,
    SheetNotShared,
    SheetRangeInvalid,
    SheetsConfigInvalid,
)
from apps.connections.sources.registry import SOURCE_TYPES, ConfigField
from apps.connections.sources.snowflake import (
    AccountNotFound,
    InvalidAccount,
    PrivateKeyInvalid,
    RoleNotGranted,
    SnowflakeKeyRefused,
    WarehouseUnavailable,
)
from apps.tenancy.models import Workspace

# Which field a failed connection test is about, so its message appears next to it.
ERROR_FIELDS = [
    (errors.UnknownHost, "host"),
    (errors.HostNotAllowed, "host"),
    (errors.ConnectTimeout, "host"),
    (errors.ConnectionRefused, "port"),
    (errors.AuthenticationFailed, "password"),
    (errors.DatabaseNotFound, "database"),
    (AccountNotFound, "account"),
    (InvalidAccount, "account"),
    (PrivateKeyInvalid, "private_key"),
    (SnowflakeKeyRefused, "private_key"),
    (RoleNotGranted, "role"),
    (WarehouseUnavailable, "warehouse"),
    (ServiceAccountInvalid, "service_account_json"),
    (ServiceAccountRefused, "service_account_json"),
    (ProjectNotFound, "project"),
    (SheetsConfigInvalid, "tables"),
    (SheetNotShared, "tables"),
    (SheetNotFound, "tables"),
    (SheetRangeInvalid, "tables"),
]
PRIVATE_KEY_MAX_BYTES = 64 * 1024


def field_for_error(error: errors.SourceError, form: forms.Form) -> str | None:
    for error_class, name in ERROR_FIELDS:
        if isinstance(error, error_class) and name in form.fields:
            return name
    if isinstance(error, errors.SslRequired):
        return next((n for n in ("sslmode", "ssl_mode") if n in form.fields), None)
    if "path" in form.fields:
        return "path"
    return None


class SecretTextarea(forms.Textarea):
    """A textarea for a pasted secret (a private key): like a password field, never rendered back, not
    even after a failed submission."""

    def format_value(self, value):
        return None


def _form_field(spec: ConfigField, stored_secret: bool, bound_to: str = "") -> forms.Field:
    common = {
        "label": spec.label,
        "required": spec.required and spec.default is None,
        "help_text": spec.help_text,
    }
    if spec.kind == "password":
        help_text = (
            f"Stored: ••••••••. Leave blank to keep it (only while the {bound_to} stay the same)."
            if stored_secret
            else spec.help_text
        )
        return forms.CharField(
            **(common | {"required": False, "help_text": help_text}),
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    if spec.kind == "secret_text":
        help_text = "Stored: ••••••••. Leave blank to keep it." if stored_secret else spec.help_text
        return forms.CharField(
            **(common | {"required": False, "help_text": help_text}),
            strip=True,
            max_length=PRIVATE_KEY_MAX_BYTES,
            widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        )
    if spec.kind == "lines":
        return forms.CharField(**common, max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))
    if spec.kind == "choice":
        return forms.ChoiceField(**common, choices=spec.choices)
    if spec.kind in ("integer", "seconds"):
        # Django refuses NaN and infinity ("Enter a number."); the bounds say what is sane, in the
        # same words as the registry's own check.
        bounds = {"min_value": spec.min_value, "max_value": spec.max_value}
        messages = {"min_value": spec.bounds_message, "max_value": spec.bounds_message}
        field_class = forms.IntegerField if spec.kind == "integer" else forms.FloatField
        return field_class(**common, **bounds, error_messages=messages)
    return forms.CharField(**common, max_length=500)


class SourceConnectionForm(forms.Form):
    """Generated from the source type's config fields. Secrets are never rendered back."""

    name = forms.CharField(max_length=100, help_text="How this warehouse is called in Syncline.")
    save_untested = forms.BooleanField(
        required=False, label="Save even though the connection test failed (fix it later)"
    )

    def __init__(
        self, *args, workspace: Workspace, type_key: str, connection: Connection | None = None, **kw
    ):
        self.workspace, self.type_key, self.connection = workspace, type_key, connection
        stored = connection.credentials or {} if connection else {}
        initial = kw.pop("initial", {}) or {}
        if connection:
            initial = {"name": connection.name, **connection.config, **initial}
        super().__init__(*args, initial=initial, **kw)
        self.source_type = SOURCE_TYPES[type_key]
        labels = {spec.name: spec.label_in_sentence for spec in self.source_type.fields}
        bound = [labels[name] for name in self.source_type.secret_bound_to]
        bound_to = ", ".join(bound[:-1]) + " and " + bound[-1] if len(bound) > 1 else "".join(bound)
        for spec in self.source_type.fields:
            self.fields[spec.name] = _form_field(spec, bool(stored.get(spec.name)), bound_to)
            if spec.default is not None and spec.name not in self.initial:
                self.initial[spec.name] = spec.default
        if type_key == "duckdb":
            self._add_duckdb_upload()
        for spec in self.source_type.fields:
            if spec.kind == "secret_text":
                self.fields[spec.name].initial = ""  # a secret is never rendered back
                self.initial.pop(spec.name, None)
                self.fields[f"{spec.name}_file"] = forms.FileField(
                    required=False,
                    label=f"Or upload the {spec.label_in_sentence} file",
                    help_text="Its text is stored encrypted, like a password, and never shown again.",
                )
        self.order_fields(["name", *(spec.name for spec in self.source_type.fields), "save_untested"])

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        exclude = self.connection.pk if self.connection else None
        if selectors.connection_name_taken(workspace=self.workspace, name=name, exclude_id=exclude):
            raise forms.ValidationError(f"A connection named “{name}” already exists in this workspace.")
        return name

    def config_values(self) -> dict:
        return {spec.name: self.cleaned_data.get(spec.name) for spec in self.source_type.fields}

    def clean(self):
        cleaned = super().clean()
        for spec in self.source_type.fields:
            upload = cleaned.get(f"{spec.name}_file") if spec.kind == "secret_text" else None
            if not upload:
                continue
            if upload.size > PRIVATE_KEY_MAX_BYTES:
                self.add_error(f"{spec.name}_file", "This file is too large for a key.")
                continue
            try:
                cleaned[spec.name] = upload.read().decode().strip()
            except UnicodeDecodeError:
                self.add_error(f"{spec.name}_file", "Upload the key as a PEM (text) file.")
        return cleaned

    @property
    def config_fields(self):
        names = [spec.name for spec in self.source_type.fields]
        for spec in self.source_type.fields:
            if spec.kind == "secret_text":
                names.insert(names.index(spec.name) + 1, f"{spec.name}_file")
        if "upload" in self.fields:
            names.insert(names.index("path") + 1, "upload")
        return [self[name] for name in names]

    # --- DuckDB: a file uploaded into the workspace's folder, or (team hosting) a path in the data folder

    def _add_duckdb_upload(self):
        path = self.fields["path"]
        path.required = False
        if shared_hosting():
            path.help_text = "The uploaded file this connection reads. Upload a new file to replace it."
        else:
            path.help_text = (
                "The name of a file uploaded to this workspace, or the full path of a .duckdb file inside "
                f"Syncline's DuckDB data folder, {settings.DUCKDB_DATA_DIR}."
            )
        self.fields["upload"] = forms.FileField(
            required=False,
            label="Upload a DuckDB file",
            help_text=f"A .duckdb database file of up to {settings.DUCKDB_UPLOAD_MAX_MB:,} MB; it is stored in "
            "this workspace's own folder and opened read-only.",
        )

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload:
            if problem := duckdb_upload_problem(upload):
                raise forms.ValidationError(problem)
        elif not self.cleaned_data.get("path"):
            raise forms.ValidationError("Upload a DuckDB file, or enter the path of one above.")
        return upload
