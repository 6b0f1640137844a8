from django import forms

from apps.common.hosting import shared_hosting
from apps.connections.models import Connection
from apps.models.dbt.relations import DIALECTS
from apps.models.dbt.services import manifest_size_problem
from apps.models.models import DbtModel, SqlModel
from apps.tenancy.models import Workspace


class ManifestForm(forms.Form):
    """A manifest.json for a warehouse: uploaded, or (team hosting) a path on this server."""

    source = forms.ModelChoiceField(
        label="Warehouse",
        queryset=Connection.objects.none(),
        empty_label=None,
        help_text="The connection to the warehouse where dbt builds this project's models.",
    )
    manifest = forms.FileField(
        label="manifest.json",
        required=False,
        help_text="dbt writes it to target/manifest.json on every dbt run, build, compile or parse.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    path = forms.CharField(
        label="Or a path on this server",
        required=False,
        max_length=1000,
        help_text="Inside the DBT_PROJECTS_DIR folder, like jaffle_shop/target/manifest.json: “Reload” reads it "
        "again after the next dbt run.",
    )

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Connection.objects.for_workspace(workspace).filter(
            kind="source", type__in=list(DIALECTS)
        )
        if shared_hosting():
            del self.fields["path"]

    def clean_manifest(self):
        upload = self.cleaned_data.get("manifest")
        if upload and (problem := manifest_size_problem(upload.size)):
            raise forms.ValidationError(problem)
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        upload, path = cleaned.get("manifest"), cleaned.get("path", "").strip()
        if upload and path:
            self.add_error("path", "Give either a file or a path, not both.")
        elif not upload and not path:
            self.add_error("manifest", "Choose the project's manifest.json.")
        return cleaned


class DbtModelUseForm(forms.Form):
    name = forms.CharField(max_length=100)
    primary_key = forms.CharField(
        label="Primary-key column",
        max_length=200,
        help_text="A column whose value is unique and never empty for each row, e.g. your user id.",
        widget=forms.TextInput(attrs={"list": "column-names", "autocomplete": "off"}),
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, workspace: Workspace, dbt_model: DbtModel, **kwargs):
        kwargs.setdefault("initial", {"name": dbt_model.name[:100], "description": dbt_model.description})
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if SqlModel.objects.for_workspace(self.workspace).filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A model named “{name}” already exists in this workspace.")
        return name

    def clean_primary_key(self):
        return self.cleaned_data["primary_key"].strip()
