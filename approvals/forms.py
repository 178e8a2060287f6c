"""Forms of the inbox: they parse; the vote service decides."""

import json

from django import forms
from django.conf import settings
from django.db.models import Q

from approvals.choices import Verdict
from approvals.models import COMMENT_MAX_LENGTH
from governance.api.parsers import JSONRejected, json_loads_strict
from governance.choices import Role
from governance.models import User

# "Approve and open the next request": an approval, then the next one of the inbox.
APPROVE_NEXT = "approve_next"


class VoteForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=[*Verdict.choices, (APPROVE_NEXT, "Approve and open the next request")],
        widget=forms.HiddenInput,
    )
    # No max_length here: it would add a maxlength attribute, and the browser would cut a
    # longer paste silently. The limit is said in the label and checked in clean_comment.
    comment = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-max-chars": COMMENT_MAX_LENGTH}),
        help_text=f"Required to reject: the agent and the requester will see it. "
        f"At most {COMMENT_MAX_LENGTH:,} characters.",
    )
    params = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Edit to approve different params (a JSON object); leave as is to approve them.",
    )

    def __init__(self, *args, proposed: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposed = proposed or {}

    def add_error(self, field, error):
        # Tie the message to its field for screen readers (the template gives the
        # message the id "<field>-error").
        super().add_error(field, error)
        if field in self.fields:
            self.fields[field].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{field}-error"}
            )

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

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if len(comment) > COMMENT_MAX_LENGTH:
            raise forms.ValidationError(
                f"This is {len(comment):,} characters long; the limit is "
                f"{COMMENT_MAX_LENGTH:,}. Shorten it (nothing was recorded)."
            )
        return comment

    def clean(self):
        data = super().clean()
        self.open_next = data.get("verdict") == APPROVE_NEXT
        if self.open_next:
            data["verdict"] = Verdict.APPROVE
        if data.get("verdict") == Verdict.REJECT and "comment" in data and not data["comment"]:
            self.add_error("comment", "Give a reason for the rejection.")
        return data


class BulkApproveForm(forms.Form):
    approval_ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH)

    def __init__(self, *args, choices: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approval_ids"].choices = [(pk, pk) for pk in choices]
        self.fields["approval_ids"].error_messages["invalid_choice"] = (
            "Request %(value)s is no longer in your inbox."
        )


class DelegationForm(forms.Form):
    """Name a stand-in for an absence; the service checks who and when."""

    stand_in = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Stand-in",
        help_text="Another approver; they see your requests while you are away.",
    )
    starts_on = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label="Last day (included)", widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label="Note (optional)", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["stand_in"]
        field.queryset = (
            User.objects.filter(is_active=True)
            .filter(
                Q(groups__name=Role.APPROVER.value)
                | Q(groups__approver_for_action_types__isnull=False)
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("email")
        )
        field.label_from_instance = lambda u: (
            f"{u.get_full_name()} <{u.email}>" if u.get_full_name() else u.email
        )
