"""Template helpers of the console."""

import json

from django import template

register = template.Library()


@register.filter
def json_pretty(value) -> str:
    """Indented JSON (autoescaped by the template like any string)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
