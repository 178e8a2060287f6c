"""What the dashboards show, computed from the rollups only (never the raw tables), for a
time window and filters. Each function returns plain rows that charts.py draws and the
templates also print as tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db.models import QuerySet, Sum
from django.utils import timezone

from audit.choices import Category
from audit.insights.rollups import empty_histogram, percentile
from audit.models import ApprovalTimingRollup, DecisionRollup, RollupState
from governance.periods import last_days

WINDOWS = (7, 30, 90)
CATEGORY_ORDER = [
    Category.ALLOWED,
    Category.APPROVED,
    Category.REJECTED,
    Category.EXPIRED,
    Category.DENIED,
    Category.PENDING,
]


@dataclass(frozen=True)
class Window:
    start: date  # inclusive
    end: date  # inclusive
    profile: str = ""
    connector: str = ""
    action: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        """The period of the same length just before this one, with the same filters."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1)
        )

    def filters(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("profile", self.profile),
                ("connector", self.connector),
                ("action", self.action),
            )
            if v
        }


class WindowError(ValueError):
    """A window or filter a person asked for does not make sense (said plainly)."""


def window_last_days(days: int, *, today: date | None = None, **filters: str) -> Window:
    """The one definition of "the last N days" on every page (Home, Dashboard, summary):
    N calendar days in the configured time zone, today included, each action counted on
    the day the agent proposed it."""
    start, end = last_days(days, today=today)
    return Window(start, end, **filters)


# The beat task refreshes every 5 minutes: three missed runs mean it is not running.
STALE_AFTER = timedelta(minutes=15)


def freshness(*, now: datetime | None = None) -> dict:
    """When the rollups were last counted (every figure of a window is as of then), and
    whether that is so long ago that the periodic refresh must have stopped."""
    now = now or timezone.now()
    refreshed_at = RollupState.objects.filter(id=1).values_list("refreshed_at", flat=True).first()
    return {
        "refreshed_at": refreshed_at,
        "stale": refreshed_at is None or now - refreshed_at > STALE_AFTER,
        "today": timezone.localdate(now),
    }


def last_days_summary(days: int = 30) -> dict:
    """Home's "last N days": the same window, totals and refresh time as the dashboard's
    default view, so that the two pages always show the same numbers."""
    window = window_last_days(days)
    counts = totals(window)
    human = sum(counts[c] for c in (Category.APPROVED, Category.REJECTED, Category.EXPIRED))
    return {
        "window": window,
        "summary": {
            "total": sum(counts.values()),
            "auto": counts[Category.ALLOWED],
            "human": human + counts[Category.PENDING],
            "denied": counts[Category.DENIED],
        },
        **freshness(),
    }


def window_parse(params, *, today: date | None = None) -> Window:
    """?days=7|30|90, or ?start=YYYY-MM-DD&end=YYYY-MM-DD; plus profile, connector, action."""
    today = today or timezone.localdate()
    extra = {name: params.get(name, "").strip() for name in ("profile", "connector", "action")}
    if params.get("start") or params.get("end"):
        try:
            start = date.fromisoformat(params.get("start", ""))
            end = date.fromisoformat(params.get("end", "") or today.isoformat())
        except ValueError as error:
            raise WindowError(
                "Give the custom window as start=YYYY-MM-DD and end=YYYY-MM-DD."
            ) from error
        if start > end:
            raise WindowError("The window starts after it ends.")
        if (end - start).days > 731:
            raise WindowError("A window is at most two years long.")
        return Window(start, end, **extra)
    days = params.get("days", "30")
    if not days.isdigit() or int(days) not in WINDOWS:
        raise WindowError(
            f"days must be one of {', '.join(map(str, WINDOWS))} (or give start and end)."
        )
    return window_last_days(int(days), today=today, **extra)


def _decisions(window: Window) -> QuerySet[DecisionRollup]:
    return DecisionRollup.objects.filter(
        day__gte=window.start, day__lte=window.end, **window.filters()
    )


def _timings(window: Window) -> QuerySet[ApprovalTimingRollup]:
    filters = {k: v for k, v in window.filters().items() if k != "connector"}
    return ApprovalTimingRollup.objects.filter(
        day__gte=window.start, day__lte=window.end, **filters
    )


def over_time(window: Window) -> list[dict]:
    """Per day and category: [{day, category, count}]."""
    rows = _decisions(window).values("day", "category").annotate(n=Sum("count")).order_by("day")
    return [{"day": r["day"], "category": r["category"], "count": r["n"]} for r in rows]


def totals(window: Window) -> dict[str, int]:
    rows = _decisions(window).values("category").annotate(n=Sum("count"))
    found = {r["category"]: r["n"] for r in rows}
    return {category.value: found.get(category.value, 0) for category in CATEGORY_ORDER}


def approval_rates(window: Window) -> list[dict]:
    """Per action type sent to people: approved, rejected, expired, and the approval rate."""
    rows = (
        _decisions(window)
        .filter(category__in=[Category.APPROVED, Category.REJECTED, Category.EXPIRED])
        .values("action", "category")
        .annotate(n=Sum("count"))
    )
    by_action: dict[str, dict] = defaultdict(lambda: {"approved": 0, "rejected": 0, "expired": 0})
    for row in rows:
        by_action[row["action"]][row["category"]] = row["n"]
    result = []
    for action, counts in by_action.items():
        decided = sum(counts.values())
        result.append(
            {"action": action, **counts, "decided": decided, "rate": counts["approved"] / decided}
        )
    return sorted(result, key=lambda r: (-r["decided"], r["action"]))


@dataclass
class Timing:
    group: str
    decided: int = 0
    within_sla: int = 0
    histogram: list[int] = field(default_factory=empty_histogram)

    @property
    def median_minutes(self) -> float | None:
        value = percentile(self.histogram, 0.5)
        return None if value is None else value / 60

    @property
    def p90_minutes(self) -> float | None:
        value = percentile(self.histogram, 0.9)
        return None if value is None else value / 60


def decision_times(window: Window) -> list[Timing]:
    """Time to a human decision per approver group (histograms added over the window)."""
    timings: dict[str, Timing] = {}
    for row in _timings(window).values("group", "decided", "within_sla", "histogram"):
        timing = timings.setdefault(row["group"], Timing(row["group"]))
        timing.decided += row["decided"]
        timing.within_sla += row["within_sla"]
        timing.histogram = [a + b for a, b in zip(timing.histogram, row["histogram"], strict=True)]
    return sorted(timings.values(), key=lambda t: t.group)


def denials(window: Window, by: str, limit: int = 10) -> list[dict]:
    """Denials grouped by `by` (reason, connector or profile), most first."""
    rows = (
        _decisions(window)
        .filter(category=Category.DENIED)
        .values(by)
        .annotate(n=Sum("count"))
        .order_by("-n", by)
    )
    return [{"key": r[by] or "(none)", "count": r["n"]} for r in rows[:limit]]


def denials_by_reason_and(window: Window, by: str) -> list[dict]:
    rows = (
        _decisions(window)
        .filter(category=Category.DENIED)
        .values("reason", by)
        .annotate(n=Sum("count"))
        .order_by("-n")
    )
    return [{"reason": r["reason"], "key": r[by] or "(none)", "count": r["n"]} for r in rows]


def near_misses(window: Window) -> list[dict]:
    """Irreversible actions that people rejected, or let expire: per action type."""
    rows = (
        _decisions(window)
        .filter(reversible=False, category__in=[Category.REJECTED, Category.EXPIRED])
        .values("action", "category")
        .annotate(n=Sum("count"))
        .order_by("action")
    )
    return [{"action": r["action"], "category": r["category"], "count": r["n"]} for r in rows]


def volume(window: Window, by: str) -> list[dict]:
    """Actions per profile or per runtime, split by category."""
    rows = _decisions(window).values(by, "category").annotate(n=Sum("count")).order_by(by)
    return [{"key": r[by], "category": r["category"], "count": r["n"]} for r in rows]
