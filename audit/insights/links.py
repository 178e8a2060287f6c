"""Links from the dashboards and recommendations to the audit log, filtered to exactly the
events behind a number: the decisions proposed in the period, in the category counted."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from audit.choices import Category
from governance.periods import day_start

# Which event of a decision stands for each category.
CATEGORY_EVENTS = {
    Category.ALLOWED: {"event_type": "decision_made", "outcome": "allow"},
    Category.DENIED: {"event_type": "decision_made", "outcome": "deny"},
    Category.PENDING: {"event_type": "decision_made", "outcome": "pending"},
    Category.APPROVED: {"event_type": "decision_approved"},
    Category.REJECTED: {"event_type": "decision_rejected"},
    Category.EXPIRED: {"event_type": "decision_expired"},
}


def audit_log_url(
    *,
    start: date,
    end: date,
    category: str | None = None,
    **filters: str,
) -> str:
    """The audit log filtered to the decisions proposed from `start` to `end` (inclusive),
    in `category`, with any of action, profile, connector, runtime, reason."""
    params: dict[str, str | list[str]] = {
        "decided_after": day_start(start).isoformat(),
        "decided_before": day_start(end + timedelta(days=1)).isoformat(),
    }
    params.update(CATEGORY_EVENTS.get(category, {"event_type": "decision_made"}))
    params.update({name: value for name, value in filters.items() if value})
    return f"{reverse('audit:event_list')}?{urlencode(params, doseq=True)}"
