"""A condition's shadow page: what it would have done over a window, with links to exactly
those decisions in the audit log, and (for governance admins) promote it to enforce or
delete it, each with a reason. Everyone who may read the policy sees the page."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.insights.dashboard import WINDOWS
from audit.insights.links import audit_log_url
from audit.selectors import can_read_audit
from governance import permissions
from governance.exceptions import ApplicationError
from governance.services import condition_delete, condition_promote
from governance.shadow import (
    DEFAULT_DAYS,
    MAX_DAYS,
    URL_KINDS,
    WOULD,
    WOULD_LABELS,
    ConditionRef,
    condition_find,
    shadow_counts,
)
from governance.views import role_required

ACTIONS = {"promote": condition_promote, "delete": condition_delete}


def _found(owner_kind: str, owner: str, name: str):
    """The condition named by the URL, with its owner; 404 if either does not exist."""
    kind = URL_KINDS.get(owner_kind)
    if kind is None:
        raise Http404("No such kind of owner.")
    ref = ConditionRef(kind, owner, name)
    owner_object, condition = condition_find(ref)
    if condition is None:
        raise Http404("No such condition.")
    return ref, owner_object, condition


def _days(request) -> tuple[int, str]:
    raw = request.GET.get("days", "") or str(DEFAULT_DAYS)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        return DEFAULT_DAYS, f"days must be a whole number from 1 to {MAX_DAYS}."
    return int(raw), ""


def _context(request, ref, owner_object, condition, days: int) -> dict:
    counts = shadow_counts(ref, days=days)
    rows = [
        {
            "would": would,
            "label": WOULD_LABELS[would],
            "count": counts.would[would],
            "changed": counts.changed[would],
            "link": audit_log_url(
                start=counts.start,
                end=counts.end,
                condition=str(ref),
                condition_would=would,
            ),
        }
        for would in WOULD
    ]
    return {
        "simulate_link": _simulate_link(ref, condition, days),
        "ref": ref,
        "owner": owner_object,
        "condition": condition,
        "counts": counts,
        "rows": rows,
        "days": days,
        "windows": WINDOWS,
        "is_admin": permissions.is_governance_admin(request.user),
        "can_read_audit": can_read_audit(request.user),
    }


def _simulate_link(ref: ConditionRef, condition, days: int) -> str:
    """The what-if simulator with this condition enforced: a replay of the recorded requests
    through the engine (a check of the page's counts, and of anything they cannot show)."""
    owner = {"action": ref.owner} if ref.owner_kind == "action_type" else {"profile": ref.owner}
    query = {
        "kind": "condition_set",
        **owner,
        "condition_name": condition.name,
        "when": condition.when,
        "effect": condition.effect.value,
        "mode": "enforce",
        "message": condition.message,
        "days": days if days in WINDOWS else 30,
    }
    return f"{reverse('audit:simulate')}?{urlencode(query)}"


@role_required(permissions.can_view_policy)
def condition_shadow(request, owner_kind, owner, name):
    ref, owner_object, condition = _found(owner_kind, owner, name)
    days, error = _days(request)
    context = _context(request, ref, owner_object, condition, days)
    context["error"] = error
    return render(
        request, "audit/insights/condition_shadow.html", context, status=400 if error else 200
    )


@role_required(permissions.is_governance_admin)
@require_POST
def condition_act(request, owner_kind, owner, name, action):
    """Promote to enforce, or delete; a reason is required (refused in place otherwise)."""
    ref, owner_object, condition = _found(owner_kind, owner, name)
    service = ACTIONS.get(action)
    if service is None:
        raise Http404("No such action.")
    try:
        service(owner_object, name=name, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        context = _context(request, ref, owner_object, condition, DEFAULT_DAYS)
        context.update(error=error.message, failed_action=action)
        return render(
            request,
            "audit/insights/condition_shadow.html",
            context,
            status=error.status_code,
        )
    if action == "delete":
        messages.success(request, f"Deleted the condition '{name}' of {owner_object}.")
        return redirect(reverse("audit:tuning"))
    messages.success(request, f"'{name}' is now enforced (audited; the policy revision moved on).")
    return redirect(reverse("audit:condition_shadow", args=[ref.url_kind, ref.owner, ref.name]))
