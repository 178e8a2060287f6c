"""Template helpers of the approval pages (and of the audit event that shows a decision)."""

from django import template

from approvals.diff import params_diff as _params_diff
from approvals.summary import params_summary as _params_summary

register = template.Library()


@register.simple_tag
def params_diff(before, after) -> list:
    """{% params_diff proposed approved as changes %}: the leaves that differ."""
    if after is None:
        return []
    return _params_diff(before, after)


@register.filter
def params_summary(decision) -> str:
    """The inbox row's one-line summary of a decision's params."""
    return _params_summary(decision.action, decision.effective_params)


@register.filter
def char_count(value) -> str:
    """The length of a text with a thousands separator, as the live count writes it."""
    return f"{len(value or ''):,}"
