"""Forms of the policy editor: an action type or a profile with its conditions and grants.

Forms parse and check what an admin typed, field by field, so that an error shows beside
the field it is about (the position of a CEL error, the segment of a bad glob); the
services (action_type_save, profile_save) write. The same forms answer the checks made as
the admin types (htmx posts the whole editor; the view validates the one row asked for)."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.forms.models import fields_for_model

from audit.filters import LocalDateTimeInput
from catalog.choices import ItemKind
from catalog.models import CatalogItem
from governance.choices import Impact
from governance.conditions import (
    MAX_CHARS,
    NAME_RE,
    Condition,
    ConditionError,
    Effect,
    Mode,
    condition_compile,
)
from governance.models import ActionType, PermissionProfile, validate_action_patterns
from governance.paths import PathError, resource_pattern_check
from governance.services import GrantRow

EFFECT_LABELS = {
    Effect.DENY: "deny",
    Effect.REQUIRE_APPROVAL: "require approval (a person decides)",
    Effect.AUTO_EXECUTE: "auto-execute (no person)",
}
MODE_LABELS = {Mode.ENFORCE: "enforce", Mode.SHADOW: "shadow (record only)"}
LIST_SPLIT = re.compile(r"[\s,]+")
# htmx: check a field on the server as the admin types (the whole editor is posted, with
# its CSRF token; the view answers the error, or nothing, for the field that triggered).
LIVE_TRIGGER = "input changed delay:400ms, change"


def is_risky(impact: str, reversible: bool) -> bool:
    """Irreversible, high or critical action types always go to a person: no allow-list,
    no auto_execute condition."""
    return not reversible or impact in (Impact.HIGH, Impact.CRITICAL)


def split_list(value: str) -> list[str]:
    return [item for item in LIST_SPLIT.split(value or "") if item]


def same_text(typed: str, initial: Any) -> Any:
    """The stored text when the typed one is the same but for what a browser's textarea
    and the form's stripping do to it (CRLF line ends, surrounding blanks): opening and
    saving a page must not record a change nobody made."""
    if isinstance(initial, str):
        normal = typed.replace("\r\n", "\n").strip()
        if normal == initial.replace("\r\n", "\n").strip():
            return initial
    return typed.replace("\r\n", "\n")


class LiveCheckMixin:
    """Adds the htmx attributes of the check-as-you-type to the fields in LIVE_FIELDS."""

    LIVE_FIELDS: tuple[str, ...] = ()
    # A field whose check is shown beside another one (impact -> the allow-list's check).
    LIVE_TARGETS: dict[str, str] = {}

    def live_checks(self, url: str) -> None:
        for name in self.LIVE_FIELDS:
            field = self.fields[name]
            target = f"{self[self.LIVE_TARGETS.get(name, name)].auto_id}-check"
            field.widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": LIVE_TRIGGER,
                    "hx-target": f"#{target}",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                    "aria-describedby": target,
                }
            )

    def read_only(self) -> None:
        for field in self.fields.values():
            field.disabled = True


class ConditionForm(LiveCheckMixin, forms.Form):
    """One condition: its `when` compiles (the error says where), its effect is possible
    on its owner, and the test box's params are a JSON object."""

    LIVE_FIELDS = ("when", "effect")

    name = forms.CharField(max_length=80, help_text="Lowercase letters, digits, - and _.")
    when = forms.CharField(
        max_length=MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
        help_text="A CEL expression, e.g. params.amount > 10000",
    )
    effect = forms.ChoiceField(choices=list(EFFECT_LABELS.items()), initial=Effect.DENY)
    mode = forms.ChoiceField(choices=list(MODE_LABELS.items()), initial=Mode.ENFORCE)
    message = forms.CharField(
        max_length=500, required=False, help_text="Shown to the agent and the approver."
    )
    test_params = forms.CharField(
        label="Test with these params (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"}),
    )

    test_data_sources = forms.CharField(
        label="and these data sources",
        required=False,
        help_text="Separated by commas, e.g. hr:employee/7",
    )

    TEST_FIELDS = ("test_params", "test_data_sources")

    def __init__(self, *args: Any, risky: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.risky = risky

    def has_changed(self) -> bool:
        # The test box alone does not make a row: a blank row with test params is still blank.
        return any(name not in self.TEST_FIELDS for name in self.changed_data)

    def test_data_sources_parsed(self) -> tuple[str, ...]:
        return tuple(split_list(self.data.get(self.add_prefix("test_data_sources")) or ""))

    def clean_when(self) -> str:
        return same_text(self.cleaned_data["when"], self.initial.get("when"))

    def clean_message(self) -> str:
        return same_text(self.cleaned_data["message"], self.initial.get("message"))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not NAME_RE.match(name):
            raise ValidationError(
                "1-80 lowercase letters, digits, '-' or '_', starting with a letter or digit."
            )
        return name

    def clean_effect(self) -> str:
        effect = self.cleaned_data["effect"]
        if effect == Effect.AUTO_EXECUTE and self.risky:
            raise ValidationError(
                "An auto_execute condition cannot apply to an irreversible or high-impact "
                "action type; a person always decides those."
            )
        return effect

    def clean(self) -> dict:
        data = super().clean()
        if "when" in data:
            condition = Condition(
                name=data.get("name") or "condition",
                when=data["when"],
                effect=Effect(data.get("effect") or Effect.DENY),
            )
            try:
                condition_compile(condition)
            except ConditionError as error:
                self.add_error("when", str(error).split(": ", 1)[-1])
        return data

    def condition(self) -> dict[str, str]:
        data = self.cleaned_data
        return Condition(
            name=data["name"],
            when=data["when"],
            effect=Effect(data["effect"]),
            mode=Mode(data["mode"]),
            message=data.get("message", ""),
        ).as_dict()

    def test_params_parsed(self) -> dict:
        """The test box's params; ValidationError unless a JSON object."""
        raw = (self.data.get(self.add_prefix("test_params")) or "").strip() or "{}"
        try:
            params = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValidationError(
                f"Not JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from error
        if not isinstance(params, dict):
            raise ValidationError('Give a JSON object, e.g. {"amount": 20000}.')
        return params


class BaseConditionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names = set()
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            name = form.cleaned_data.get("name")
            if name in names:
                form.add_error("name", "Another condition already has this name.")
            names.add(name)

    def conditions(self) -> list[dict[str, str]]:
        return [
            form.condition()
            for form in self.forms
            if form.has_changed() or form in self.initial_forms
            if not self._should_delete_form(form)
        ]


ConditionFormSet = formset_factory(
    ConditionForm, formset=BaseConditionFormSet, extra=0, can_delete=True
)


class GrantForm(LiveCheckMixin, forms.Form):
    """One grant: a connector, resource globs in the path grammar, read or write."""

    LIVE_FIELDS = ("resources",)

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    connector = forms.ModelChoiceField(
        queryset=CatalogItem.objects.filter(kind=ItemKind.CONNECTOR).order_by("slug"),
        to_field_name="slug",
    )
    resources = forms.CharField(
        label="Resources (globs)",
        max_length=2000,
        help_text="Paths under the connector, separated by commas: account/*, contact/*",
    )
    access = forms.ChoiceField(
        choices=[("read", "read"), ("write", "write (and read)")], initial="read"
    )

    def clean_resources(self) -> list[str]:
        patterns = split_list(self.cleaned_data["resources"])
        if not patterns:
            raise ValidationError("Give at least one resource pattern.")
        for pattern in patterns:
            if ":" in pattern.split("/", 1)[0] and not pattern.startswith("*"):
                raise ValidationError(
                    f"Write {pattern!r} without the connector: the path only, e.g. account/*."
                )
            try:
                resource_pattern_check(pattern)
            except PathError as error:
                raise ValidationError(str(error)) from error
        return patterns

    def row(self) -> GrantRow:
        data = self.cleaned_data
        return GrantRow(
            connector=data["connector"],
            resources=data["resources"],
            access=data["access"],
            id=data.get("id"),
        )


class BaseGrantFormSet(forms.BaseFormSet):
    def rows(self) -> list[GrantRow]:
        return [
            form.row()
            for form in self.forms
            if form.has_changed() or form in self.initial_forms
            if not self._should_delete_form(form)
        ]


GrantFormSet = formset_factory(GrantForm, formset=BaseGrantFormSet, extra=0, can_delete=True)


ACTION_TYPE_FIELDS = [
    "key",
    "name",
    "description",
    "impact",
    "reversible",
    "auto_execute",
    "approver_group",
    "escalation_group",
    "approvals_needed",
    "approval_ttl_minutes",
    "approval_sla_minutes",
    "confirmable_by_launcher",
]


class ActionTypeForm(LiveCheckMixin, forms.Form):
    """An action type's own fields (its conditions are a formset beside it)."""

    LIVE_FIELDS = ("impact", "reversible", "auto_execute")
    LIVE_TARGETS = {"impact": "auto_execute", "reversible": "auto_execute"}

    def __init__(self, *args: Any, creating: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(ActionType, fields=ACTION_TYPE_FIELDS))
        self.fields["description"].widget.attrs["rows"] = 2
        self.fields["approver_group"].empty_label = "Governance admins (default)"
        self.fields["escalation_group"].empty_label = "None"
        if not creating:
            # Profiles and decisions name the key: renaming would silently cut them off.
            self.fields["key"].disabled = True
            self.fields["key"].help_text = "The key cannot change; profiles name it."

    def clean_description(self) -> str:
        return same_text(self.cleaned_data["description"], self.initial.get("description"))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("auto_execute") and is_risky(data.get("impact"), data.get("reversible")):
            self.add_error(
                "auto_execute",
                "Only reversible actions of low or medium impact may run without a person.",
            )
        return data

    @property
    def risky(self) -> bool:
        """Whether the action type as typed is irreversible or high impact."""
        impact = self["impact"].value()
        reversible = self.fields["reversible"].clean(self["reversible"].value())
        return is_risky(impact, reversible)


PROFILE_FIELDS = [
    "slug",
    "name",
    "description",
    "status",
    "owner",
    "expires_at",
    "launcher_groups",
    "launcher_users",
    "plugins",
]


class ProfileForm(LiveCheckMixin, forms.Form):
    """A profile's own fields (its grants and conditions are formsets beside it)."""

    LIVE_FIELDS = ("action_types", "always_ask")

    action_types = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "code"}),
        help_text="Action type keys or globs (crm.read_*), separated by commas or lines.",
    )
    always_ask = forms.CharField(
        label="Always ask a person for",
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "class": "code"}),
        help_text="Action types that go to a person under this profile even if allow-listed.",
    )

    def __init__(self, *args: Any, creating: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields = fields_for_model(PermissionProfile, fields=PROFILE_FIELDS)
        self.fields = {**fields, **self.fields}
        self.fields["description"].widget.attrs["rows"] = 2
        self.fields["expires_at"].widget = LocalDateTimeInput()
        self.fields["expires_at"].help_text = "Empty: never."
        self.fields["owner"].empty_label = "Nobody"
        for name in ("launcher_groups", "launcher_users", "plugins"):
            self.fields[name].widget.attrs["size"] = 5
        if not creating:
            # Runtimes, decisions and the audit log name the slug.
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = "The slug cannot change; runtimes name it."

    def clean_description(self) -> str:
        return same_text(self.cleaned_data["description"], self.initial.get("description"))

    def clean_expires_at(self):
        """The stored moment when the field shows it unchanged (the field has no
        sub-second precision)."""
        value = self.cleaned_data["expires_at"]
        initial = self.initial.get("expires_at")
        if value and initial and value == initial.replace(microsecond=0):
            return initial
        return value

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug == "new":
            raise ValidationError("'new' is reserved; choose another slug.")
        return slug

    def _clean_patterns(self, name: str) -> list[str]:
        patterns = split_list(self.cleaned_data[name])
        problem = validate_action_patterns(patterns)
        if problem:
            raise ValidationError(problem)
        return patterns

    def clean_action_types(self) -> list[str]:
        return self._clean_patterns("action_types")

    def clean_always_ask(self) -> list[str]:
        return self._clean_patterns("always_ask")


def action_type_initial(action_type: ActionType) -> dict:
    return {name: getattr(action_type, name) for name in ACTION_TYPE_FIELDS} | {
        "approver_group": action_type.approver_group_id,
        "escalation_group": action_type.escalation_group_id,
    }


def profile_initial(profile: PermissionProfile) -> dict:
    initial = {name: getattr(profile, name) for name in PROFILE_FIELDS[:5]}
    initial["owner"] = profile.owner_id
    initial["expires_at"] = profile.expires_at
    for name in ("launcher_groups", "launcher_users", "plugins"):
        initial[name] = list(getattr(profile, name).all())
    initial["action_types"] = ", ".join(profile.action_types)
    initial["always_ask"] = ", ".join(profile.always_ask)
    return initial


def grant_initial(profile: PermissionProfile) -> list[dict]:
    return [
        {
            "id": g.pk,
            "connector": g.connector.slug,
            "resources": ", ".join(g.resources),
            "access": g.access,
        }
        for g in profile.grants.select_related("connector").order_by("connector__slug", "id")
    ]
