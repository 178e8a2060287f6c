"""Forms of the tool mapping pages: they parse; the services decide."""

from django import forms

from catalog.forms import ListField
from governance.models import PermissionProfile


class ToolMappingForm(forms.Form):
    tool = forms.CharField(
        max_length=200, help_text="Bash, Edit, mcp__git__git_commit, or a pattern: mcp__git__*"
    )
    action = forms.CharField(max_length=100, help_text="shell.exec, or git.{tool} for a pattern")
    connector = forms.CharField(
        max_length=100, required=False, help_text="The connector it changes (empty: it reads)."
    )
    data_sources = ListField(
        required=False, help_text="Comma-separated templates, e.g. repo:{file_path}"
    )
    description = forms.CharField(max_length=300, required=False)


class ToolCallTestForm(forms.Form):
    """The test box: "this tool call maps to ..."."""

    tool_name = forms.CharField(max_length=200, initial="Bash")
    tool_input = forms.JSONField(
        required=False,
        initial={"command": "rm -rf build/"},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cwd = forms.CharField(max_length=500, initial="/home/devon/src/shop", label="Project directory")
    profile = forms.ModelChoiceField(
        queryset=PermissionProfile.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="— no profile —",
        help_text="Say whether this profile allows the action.",
    )

    def clean_tool_input(self):
        value = self.cleaned_data["tool_input"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(
                'Give the tool input as a JSON object, e.g. {"command": "ls"}.'
            )
        return value
