"""Template helpers of the audit pages."""

import json

from django import template

from governance.choices import reason_text

register = template.Library()


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def change_rows(changes) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that changed in a {"before", "after"} record."""
    if not isinstance(changes, dict):
        return []
    before = changes.get("before") or {}
    after = changes.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = sorted(set(before) | set(after))
    return [
        (k, _show(before.get(k)), _show(after.get(k)))
        for k in keys
        if before.get(k) != after.get(k)
    ]


@register.simple_tag
def history_url(obj) -> str:
    from django.urls import reverse

    return reverse("audit:object_history", args=[obj._meta.label_lower, obj.pk])


@register.filter
def reason_words(code: str | None) -> str:
    """A reason code as words (governance.choices.REASON_TEXT)."""
    return reason_text(code)


@register.filter
def approval_words(approval: str | None) -> str:
    """ "auto" as "automatic", "human:a@x,b@x" as "a@x, b@x" (who approved), else empty."""
    if not approval:
        return ""
    if approval == "auto":
        return "automatic"
    if approval.startswith("human:"):
        return ", ".join(approval.removeprefix("human:").split(","))
    return approval


@register.filter
def record_value(value) -> str:
    """A record field as a value a person reads, not a Python repr: lists as their items,
    booleans as yes or no, objects as JSON; empty as a dash."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(map(str, value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
