"""The policy editor: governance admins create and edit action types and profiles (with
their conditions and grants) in the console; every other overseeing role sees the same
page read-only, and a POST from them is refused (403).

A change goes in two steps. "Preview" checks everything and replays the last 30 days of
recorded requests under the proposed configuration (nothing is written); "Save" writes it
through the services, with the admin's reason, but only the exact change that was
previewed (the preview's fingerprint travels with the form). Checks as the admin types
and the conditions' test box are htmx posts of the whole editor to two small endpoints."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.insights.preview import PREVIEW_DAYS, action_type_preview, profile_preview
from governance import permissions
from governance.conditions import (
    Condition,
    ConditionEvaluationError,
    Effect,
    Mode,
    condition_compile,
    condition_variables,
)
from governance.exceptions import ApplicationError
from governance.forms import (
    ActionTypeForm,
    ConditionForm,
    ConditionFormSet,
    GrantForm,
    GrantFormSet,
    ProfileForm,
    action_type_initial,
    grant_initial,
    is_risky,
    profile_initial,
)
from governance.models import ActionType, PermissionProfile
from governance.selectors import policy_revision_current
from governance.services import action_type_save, profile_save
from governance.views import role_required


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why this change?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to save; kept in the audit log with the change.",
    )


ROWS = ("conditions", "grants")
NEW_ROW = {"conditions": {"effect": "deny", "mode": "enforce"}, "grants": {"access": "read"}}


def _posted(request) -> tuple[Any, bool]:
    """The posted editor (None on GET) and whether a row was added rather than submitted:
    "Add a condition" / "Add a grant" re-render the editor with one more blank row."""
    if request.method != "POST":
        return None, False
    data = request.POST.copy()
    for prefix in ROWS:
        if f"add_{prefix}" in data:
            try:
                total = int(data.get(f"{prefix}-TOTAL_FORMS", "0"))
            except ValueError:
                return data, False
            total = min(total, 99)
            data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
            # The new row's selects as their first options show, so that an untouched
            # row is blank (not an error) when the editor comes back.
            for name, value in NEW_ROW[prefix].items():
                data[f"{prefix}-{total}-{name}"] = value
            return data, True
    return data, False


def _editable(request) -> bool:
    can_edit = permissions.can_manage_policy(request.user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only governance admins change the policy.")
    return can_edit


def _prepare(forms_: list, *, can_edit: bool) -> None:
    """Live checks for admins; everything disabled for the others (read-only page)."""
    url = reverse("governance:policy_field_check")
    for form in forms_:
        if can_edit:
            form.live_checks(url)
        else:
            form.read_only()


def _errors_onto(form: forms.Form, error: ValidationError | ApplicationError, extra: dict):
    """Put a model's or a service's errors beside the fields they are about; errors about
    the conditions or grants go to `extra` (shown above those rows)."""
    if isinstance(error, ValidationError):
        fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    else:
        fields = error.extra.get("fields") or {"__all__": [error.message]}
    for name, problems in fields.items():
        if name in ROWS or name == "resources":
            extra.setdefault(name, []).extend(problems)
        elif name in form.fields and not form.fields[name].disabled:
            form.add_error(name, problems)
        else:
            form.add_error(None, problems)


def _fingerprint(fields: dict[str, Any]) -> str:
    """What the preview showed, as a digest: Save writes only that change, and only on the
    policy the preview was replayed on (another admin's change in between moves the policy
    revision's token, so the admin sees a fresh preview before saving)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Model):
            return value.pk
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
        return value

    shown = {k: plain(v) for k, v in sorted(fields.items())}
    shown["policy"] = policy_revision_current()[1]
    text = json.dumps(shown, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# Action types


@role_required(permissions.can_manage_policy)
def action_type_create(request):
    return _action_type_editor(request, None)


@role_required(permissions.can_view_policy)
def action_type_edit(request, pk):
    action_type = get_object_or_404(
        ActionType.objects.select_related("approver_group", "escalation_group"), pk=pk
    )
    return _action_type_editor(request, action_type)


def _action_type_editor(request, action_type: ActionType | None):
    can_edit = _editable(request)
    data, adding = _posted(request)
    form, conditions = _action_type_forms(data, action_type)
    _prepare([form, *conditions.forms], can_edit=can_edit)
    context = _context(request, data, can_edit, form=form, conditions=conditions)
    context.update(
        action_type=action_type,
        context_action=action_type.key if action_type else "",
        cancel_url=_url_of(action_type, "governance:action_type_list"),
    )
    template = "governance/action_type_form.html"
    if data is None or adding:
        return render(request, template, context)
    if not (form.is_valid() and conditions.is_valid()):
        return render(request, template, context, status=400)
    fields = dict(form.cleaned_data, conditions=conditions.conditions())
    proposed = _proposed(action_type or ActionType(), fields, form, context)
    if proposed is None:
        return render(request, template, context, status=400)
    return _preview_or_save(
        request,
        context,
        template=template,
        fingerprint=_fingerprint(fields),
        preview=lambda: action_type_preview(proposed),
        save=lambda reason: action_type_save(
            action_type, actor=request.user, reason=reason, **fields
        ),
    )


def _action_type_forms(data, action_type: ActionType | None):
    """The action type's form and its conditions' rows; a condition's effect is checked
    against the action type as typed (an auto_execute condition needs a low-risk one)."""
    form = ActionTypeForm(
        data,
        initial=action_type_initial(action_type) if action_type else {},
        creating=action_type is None,
    )
    saved_risky = action_type is None or is_risky(action_type.impact, action_type.reversible)
    conditions = ConditionFormSet(
        data,
        initial=action_type.conditions if action_type else [],
        prefix="conditions",
        form_kwargs={"risky": form.risky if data is not None else saved_risky},
    )
    return form, conditions


def _url_of(instance: Model | None, list_name: str) -> str:
    return instance.get_absolute_url() if instance else reverse(list_name)


def _context(request, data, can_edit: bool, **forms_: Any) -> dict[str, Any]:
    return {
        **forms_,
        "reason_form": ReasonForm(data),
        "can_edit": can_edit,
        "row_errors": {},
        "preview_days": PREVIEW_DAYS,
    }


def _proposed(instance: Model, fields: dict[str, Any], form, context) -> Model | None:
    """A copy of `instance` with the editor's values, checked like a save would check it
    (uniqueness, the allow-list, the conditions), never saved; None (and the errors put
    beside their fields) when it would not save."""
    proposed = copy.copy(instance)
    m2m = {f.name for f in instance._meta.many_to_many}
    for name, value in fields.items():
        if name not in m2m:
            setattr(proposed, name, value)
    try:
        proposed.full_clean(exclude=list(m2m))
    except ValidationError as error:
        _errors_onto(form, error, context["row_errors"])
        return None
    return proposed


def _preview_or_save(request, context, *, template, fingerprint, preview, save):
    """Save the change if this exact change was previewed and a reason is given; otherwise
    show (again) the preview of the change as it stands."""
    context["fingerprint"] = fingerprint
    if "save" in request.POST:
        if request.POST.get("previewed") == fingerprint:
            revision = policy_revision_current()
            try:
                saved = save(request.POST.get("reason", ""))
            except ApplicationError as error:
                _errors_onto(context["reason_form"], error, context["row_errors"])
                context["preview"] = preview()
                return render(request, template, context, status=error.status_code)
            if policy_revision_current() == revision:
                messages.info(request, f"Nothing changed: {saved} was already so.")
            else:
                messages.success(request, f"Saved {saved}; the change is in its history.")
            return redirect(saved.get_absolute_url())
        context["stale"] = True
    context["preview"] = preview()
    return render(request, template, context)


# ---------------------------------------------------------------------------
# Profiles


@role_required(permissions.can_manage_policy)
def profile_create(request):
    return _profile_editor(request, None)


@role_required(permissions.can_view_policy)
def profile_edit(request, slug):
    profile = get_object_or_404(PermissionProfile.objects.select_related("owner"), slug=slug)
    return _profile_editor(request, profile)


def _profile_editor(request, profile: PermissionProfile | None):
    can_edit = _editable(request)
    data, adding = _posted(request)
    form, conditions, grants = _profile_forms(data, profile)
    _prepare([form, *conditions.forms, *grants.forms], can_edit=can_edit)
    context = _context(request, data, can_edit, form=form, conditions=conditions, grants=grants)
    context.update(
        profile=profile,
        context_profile=profile.slug if profile else "",
        cancel_url=_url_of(profile, "governance:profile_list"),
    )
    template = "governance/profile_form.html"
    if data is None or adding:
        return render(request, template, context)
    if not all([form.is_valid(), conditions.is_valid(), grants.is_valid()]):
        return render(request, template, context, status=400)
    fields = dict(form.cleaned_data, conditions=conditions.conditions())
    rows = grants.rows()
    proposed = _proposed(profile or PermissionProfile(), fields, form, context)
    if proposed is None:
        return render(request, template, context, status=400)
    related = {name: list(fields[name]) for name in PROFILE_M2M}
    related["grants"] = [(row.connector.slug, row.resources, row.access) for row in rows]
    return _preview_or_save(
        request,
        context,
        template=template,
        fingerprint=_fingerprint({**fields, "grants": rows}),
        preview=lambda: profile_preview(proposed, related=related),
        save=lambda reason: profile_save(
            profile, actor=request.user, reason=reason, grants=rows, **fields
        ),
    )


def _profile_forms(data, profile: PermissionProfile | None):
    """The profile's form, its conditions' rows and its grants' rows."""
    form = ProfileForm(
        data, initial=profile_initial(profile) if profile else {}, creating=profile is None
    )
    conditions = ConditionFormSet(
        data, initial=profile.conditions if profile else [], prefix="conditions"
    )
    grants = GrantFormSet(data, initial=grant_initial(profile) if profile else [], prefix="grants")
    return form, conditions, grants


PROFILE_M2M = ("launcher_groups", "launcher_users", "plugins")


# ---------------------------------------------------------------------------
# Checks as the admin types, and the conditions' test box

FIELD_NAME = re.compile(r"(conditions|grants)-(\d{1,3})-(when|effect|resources|test)")
# The action type's own fields checked as they change, all about the allow-list.
ALLOW_LIST_FIELDS = {"impact", "reversible", "auto_execute"}
PATTERN_FIELDS = {"action_types", "always_ask"}


def _row_form(request):
    """The form the htmx trigger (HX-Trigger-Name) belongs to, bound to the posted editor,
    and the field whose check is shown."""
    trigger = request.htmx.trigger_name or ""
    if trigger in ALLOW_LIST_FIELDS:
        return ActionTypeForm(request.POST, creating=True), "auto_execute"
    if trigger in PATTERN_FIELDS:
        return ProfileForm(request.POST, creating=True), trigger
    match = FIELD_NAME.fullmatch(trigger)
    if not match:
        return None, ""
    rows, index, field = match.groups()
    prefix = f"{rows}-{index}"
    if rows == "grants":
        return GrantForm(request.POST, prefix=prefix), field
    data = request.POST
    risky = "impact" in data and is_risky(data["impact"], data.get("reversible") == "on")
    return ConditionForm(data, prefix=prefix, risky=risky), field


CHECKED = {"when": "Compiles.", "resources": "Valid paths.", "effect": "", "auto_execute": ""}
CHECKED |= {"action_types": "", "always_ask": ""}


@require_POST
@role_required(permissions.can_manage_policy)
def policy_field_check(request):
    """One field of the editor, checked on the server as it is typed: a condition's
    expression compiles (or the error, with its position), a grant's globs follow the path
    grammar, a condition's effect and the allow-list are possible on the action type."""
    form, field = _row_form(request)
    if form is None or field not in CHECKED:
        return HttpResponse("Unknown field.", status=400, content_type="text/plain")
    form.is_valid()
    errors = form.errors.get(field)
    return render(
        request,
        "governance/includes/_field_check.html",
        {"errors": errors, "ok": CHECKED[field]},
        status=400 if errors else 200,
    )


@require_POST
@role_required(permissions.can_manage_policy)
def condition_test(request):
    """The test box: with these params (JSON), this condition gives matched, not matched
    or an evaluation error, and what the decision would then be."""
    form, field = _row_form(request)
    if form is None or field != "test" or not isinstance(form, ConditionForm):
        return HttpResponse("Unknown condition.", status=400, content_type="text/plain")
    result = _test_result(form, request.POST)
    return render(
        request,
        "governance/includes/_condition_test.html",
        {"result": result},
        status=400 if result["kind"] == "invalid" else 200,
    )


def _test_result(form: ConditionForm, data) -> dict[str, Any]:
    form.is_valid()
    problems = [*form.errors.get("name", []), *form.errors.get("when", [])]
    if problems:
        return {"kind": "invalid", "text": "Fix the condition first: " + " ".join(problems)}
    try:
        params = form.test_params_parsed()
    except ValidationError as error:
        return {"kind": "invalid", "text": error.messages[0]}
    cleaned = form.cleaned_data
    effect = Effect(cleaned.get("effect") or Effect.DENY)
    condition = Condition(name=cleaned["name"], when=cleaned["when"], effect=effect)
    variables = condition_variables(
        params=params,
        data_sources=form.test_data_sources_parsed(),
        on_behalf_of="",
        profile=data.get("context_profile", ""),
        action=data.get("context_action", ""),
        connector="",
        plugin="",
        model="",
        now=timezone.now(),
    )
    try:
        matched = condition_compile(condition).evaluate(variables)
    except ConditionEvaluationError as error:
        return {"kind": "error", "text": str(error), "then": ERROR_THEN[effect]}
    shadow = cleaned.get("mode") == Mode.SHADOW
    return {
        "kind": "matched" if matched else "not_matched",
        "then": MATCHED_THEN[effect] if matched else "this condition changes nothing.",
        "shadow": shadow,
    }


MATCHED_THEN = {
    Effect.DENY: "the decision is denied (condition_denied).",
    Effect.REQUIRE_APPROVAL: "a person decides (condition_requires_approval).",
    Effect.AUTO_EXECUTE: "it runs without a person (condition_auto_execute), unless a rule "
    "before it stopped it.",
}
ERROR_THEN = {
    Effect.DENY: "a deny condition that fails denies (condition_error).",
    Effect.REQUIRE_APPROVAL: "a require_approval condition that fails sends it to a person.",
    Effect.AUTO_EXECUTE: "an auto_execute condition that fails does not apply.",
}
