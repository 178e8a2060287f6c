"""Forms of the inbox: they parse; the vote service decides."""

import json

from django import forms
from django.conf import settings

from approvals.choices import Verdict
from governance.api.parsers import JSONRejected, json_loads_strict


class VoteForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.HiddenInput)
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Required to reject: the agent and the requester will see it.",
    )
    params = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Edit to approve different params (a JSON object); leave as is to approve them.",
    )

    def __init__(self, *args, proposed: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposed = proposed or {}

    def clean_params(self) -> dict | None:
        text = self.cleaned_data["params"].strip()
        if not text:
            return None
        try:
            value = json_loads_strict(text)
        except JSONRejected as error:
            raise forms.ValidationError(f"Not valid JSON: {error}") from error
        if not isinstance(value, dict):
            raise forms.ValidationError('The params must be a JSON object, e.g. {"to": "..."}.')
        if len(json.dumps(value)) > settings.GOVERNANCE["MAX_PARAMS_BYTES"]:
            raise forms.ValidationError("The params are too large.")
        # Unchanged params are an approval as proposed, not an edit.
        return None if value == self.proposed else value

    def clean(self):
        data = super().clean()
        if data.get("verdict") == Verdict.REJECT and not data.get("comment", "").strip():
            self.add_error("comment", "Give a reason for the rejection.")
        return data


class BulkApproveForm(forms.Form):
    approval_ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    comment = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, choices: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approval_ids"].choices = [(pk, pk) for pk in choices]
        self.fields["approval_ids"].error_messages["invalid_choice"] = (
            "Request %(value)s is no longer in your inbox."
        )
