"""Template helpers of the audit pages."""

import json

from django import template

register = template.Library()


def _show(value) -> str:
    if value is None:
        return "—"
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
