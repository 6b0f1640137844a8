from django import forms

from apps.connections.models import Connection, ConnectionKind
from apps.models.models import SqlModel
from apps.tenancy.models import Workspace


class SqlModelForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ModelChoiceField(queryset=Connection.objects.none(), empty_label=None)
    sql = forms.CharField(
        label="SQL",
        widget=forms.Textarea(attrs={"rows": 12, "class": "sql-editor", "spellcheck": "false"}),
        help_text="One SELECT (or WITH … SELECT). It runs read-only, with the connection's time limit.",
    )
    primary_key = forms.CharField(
        label="Primary-key column",
        max_length=200,
        help_text="A column whose value is unique and never empty for each row, e.g. your user id.",
        widget=forms.TextInput(attrs={"list": "column-names", "autocomplete": "off"}),
    )

    confirm_dropped_columns = forms.BooleanField(
        required=False, label="Save even though syncs use these columns"
    )

    def __init__(self, *args, workspace: Workspace, model: SqlModel | None = None, **kwargs):
        self.workspace, self.model = workspace, model
        if model is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": model.name,
                    "description": model.description,
                    "source": model.source_id,
                    "sql": model.sql,
                    "primary_key": model.primary_key,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Connection.objects.for_workspace(workspace).filter(
            kind=ConnectionKind.SOURCE
        )
        if model is not None and model.dbt_model_id:
            # dbt owns the SQL: SELECT * FROM the relation of each manifest loaded (apps.models.dbt).
            for name in ("source", "sql"):
                self.fields[name].disabled = True
            self.fields[
                "sql"
            ].help_text = "Read from the dbt model: it follows the relation of each manifest loaded."

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = SqlModel.objects.for_workspace(self.workspace).filter(name__iexact=name)
        if self.model is not None:
            others = others.exclude(pk=self.model.pk)
        if others.exists():
            raise forms.ValidationError(f"A model named “{name}” already exists in this workspace.")
        return name

    def clean_primary_key(self):
        return self.cleaned_data["primary_key"].strip()
