"""The dashboard's headline: the few numbers leadership reads first, each against the
previous period of the same length and each with a link to the events behind it.

Everything but the approvals at risk comes from the rollups, like the charts; the
approvals at risk are the live pending requests (a handful, read by an index)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from approvals.models import ApprovalRequest
from audit.choices import Category, EventType
from audit.insights import dashboard
from audit.insights.links import audit_log_url
from audit.insights.rollups import percentile

# A pending request is at risk when it expires within this long, or is past its SLA.
AT_RISK_WITHIN = timedelta(hours=1)
AT_RISK_SHOWN = 10
RESOLVED_BY_PEOPLE = [EventType.DECISION_APPROVED, EventType.DECISION_REJECTED]
NEAR_MISS_EVENTS = [EventType.DECISION_REJECTED, EventType.DECISION_EXPIRED]


@dataclass(frozen=True)
class Metric:
    """One headline number and the same number for the previous period."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str  # "%", "min" or "" (a count)
    link: str
    link_text: str

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    def shown(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "%":
            return f"{value:.0f} %"
        if self.unit == "min":
            return f"≤ {value:.0f} min"
        return f"{value:,.0f}"

    @property
    def shown_value(self) -> str:
        return self.shown(self.value)

    @property
    def shown_previous(self) -> str:
        return self.shown(self.previous)

    @property
    def change_text(self) -> str:
        """ "▲ 3 pts", "▼ 12", "no change", or "" when a period has no data."""
        change = self.change
        if change is None:
            return ""
        if round(change) == 0:
            return "no change"
        arrow = "▲" if change > 0 else "▼"
        unit = {"%": " pts", "min": " min"}.get(self.unit, "")
        return f"{arrow} {abs(change):,.0f}{unit}"


def _rate(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _figures(window: dashboard.Window) -> dict[str, float | None]:
    totals = dashboard.totals(window)
    decided = totals[Category.APPROVED] + totals[Category.REJECTED] + totals[Category.EXPIRED]
    timings = dashboard.decision_times(window)
    histogram = [sum(bucket) for bucket in zip(*(t.histogram for t in timings), strict=True)]
    median = percentile(histogram, 0.5) if histogram else None
    people = sum(t.decided for t in timings)
    return {
        "automation": _rate(totals[Category.ALLOWED], sum(totals.values())),
        "approval": _rate(totals[Category.APPROVED], decided),
        "median": None if median is None else median / 60,
        "denials": totals[Category.DENIED],
        "sla": _rate(sum(t.within_sla for t in timings), people),
        "near_misses": sum(r["count"] for r in dashboard.near_misses(window)),
    }


def metrics(window: dashboard.Window) -> list[Metric]:
    """The headline numbers of `window`, near-misses first, each beside the previous
    period of the same length."""
    now, before = _figures(window), _figures(window.previous())

    def link(**filters) -> str:
        return audit_log_url(start=window.start, end=window.end, **{**window.filters(), **filters})

    rows = [
        ("near_misses", "Near-misses: irreversible actions a person rejected or let expire",
         "", link(event_type=NEAR_MISS_EVENTS, reversible="false"), "See them"),
        ("automation", "Ran automatically (share of all actions)",
         "%", link(category=Category.ALLOWED), "See the allowed actions"),
        ("approval", "Approved by people (of those they decided or let expire)",
         "%", link(category=Category.APPROVED), "See the approvals"),
        ("median", "Median time to a person's decision",
         "min", link(event_type=RESOLVED_BY_PEOPLE, connector=""), "See the decisions"),
        ("sla", "Decided within the SLA",
         "%", link(event_type=RESOLVED_BY_PEOPLE, connector=""), "See the decisions"),
        ("denials", "Denied (outside the profile)",
         "", link(category=Category.DENIED), "See the denials"),
    ]  # fmt: skip
    return [
        Metric(key, label, now[key], before[key], unit, url, text)
        for key, label, unit, url, text in rows
    ]


def approvals_at_risk(*, now=None) -> tuple[int, list[ApprovalRequest]]:
    """Pending requests that expire within AT_RISK_WITHIN or are already past their SLA:
    how many, and the most urgent few (soonest to expire first)."""
    now = now or timezone.now()
    at_risk = ApprovalRequest.objects.pending().filter(
        Q(expires_at__lte=now + AT_RISK_WITHIN) | Q(sla_due_at__lte=now), expires_at__gt=now
    )
    shown = at_risk.select_related("decision", "group").order_by("expires_at")[:AT_RISK_SHOWN]
    return at_risk.count(), list(shown)
