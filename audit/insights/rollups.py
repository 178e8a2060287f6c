"""Rollups for the dashboards: daily counts of decisions by outcome category, and daily
histograms of how long people took to decide.

The refresh is incremental and idempotent: it finds the days touched since the last run
(decisions created or resolved since the watermark), deletes those days' rows and counts
them again from the decisions, in one transaction per day. Running it twice, or after a
crash, gives the same rows. The watermark lags the run's start by a margin, so that a
decision committed late is counted on the next run."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from approvals.choices import ApprovalStatus
from approvals.models import ApprovalRequest
from audit.choices import Category
from audit.models import ApprovalTimingRollup, DecisionRollup, RollupState
from governance.models import ActionType, Decision

# Upper bounds (seconds) of the wait-time histogram buckets; the last bucket is open.
BUCKETS = [60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400]
MARGIN = timedelta(minutes=2)


def category_of(outcome: str, status: str, approval: str) -> str:
    """The final category of a decision from its first outcome and where it ended."""
    if outcome == "allow":
        return Category.ALLOWED
    if outcome == "deny":
        return Category.DENIED
    if approval.startswith("human:"):
        return Category.APPROVED
    if status in (Category.REJECTED, Category.EXPIRED, Category.PENDING):
        return status
    return Category.PENDING


def primary_connector(connector: str, data_sources: list) -> str:
    if connector:
        return connector
    return data_sources[0].split(":", 1)[0] if data_sources else ""


def bucket_of(seconds: float) -> int:
    return bisect_left(BUCKETS, seconds)


def empty_histogram() -> list[int]:
    return [0] * (len(BUCKETS) + 1)


def percentile(histogram: list[int], fraction: float) -> float | None:
    """The `fraction` quantile (0.5 = median) in seconds, at the upper bound of the bucket
    that holds it: an upper estimate within the bucket's resolution."""
    total = sum(histogram)
    if not total:
        return None
    rank, seen = fraction * total, 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return float(BUCKETS[index]) if index < len(BUCKETS) else float(BUCKETS[-1] * 2)
    return float(BUCKETS[-1] * 2)


def rollups_refresh(*, full: bool = False, now: datetime | None = None) -> list[date]:
    """Count again every day touched since the last refresh (or every day, with `full`).
    Returns the days refreshed."""
    now = now or timezone.now()
    state, _ = RollupState.objects.get_or_create(id=1)
    days = _touched_days(None if full else state.watermark)
    for day in days:
        with transaction.atomic():
            # Two refreshes at once (a slow beat run and `manage.py refresh_rollups`) take
            # turns day by day: otherwise both could delete, then both insert, a day's rows.
            RollupState.objects.select_for_update().get(id=1)
            _refresh_day(day)
    RollupState.objects.filter(id=1).update(refreshed_at=now, watermark=now - MARGIN)
    return days


def _touched_days(since: datetime | None) -> list[date]:
    decisions = Decision.objects.all()
    if since is not None:
        decisions = decisions.filter(Q(created_at__gte=since) | Q(resolved_at__gte=since))
    # Days in the configured time zone, computed by the database: a full refresh of ten
    # million decisions reads a few hundred dates, not ten million timestamps.
    tz = timezone.get_current_timezone()
    days = set(
        decisions.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
        .order_by()
    )
    if since is None:
        days |= set(DecisionRollup.objects.values_list("day", flat=True).distinct())
    return sorted(days)


def _day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(
        datetime.combine(day, datetime.min.time()), timezone.get_current_timezone()
    )
    return start, start + timedelta(days=1)


def _refresh_day(day: date) -> None:
    start, end = _day_range(day)
    DecisionRollup.objects.filter(day=day).delete()
    ApprovalTimingRollup.objects.filter(day=day).delete()
    counts: Counter = Counter()
    rows = Decision.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "outcome",
        "status",
        "approval",
        "profile_slug",
        "action",
        "connector",
        "data_sources",
        "runtime__name",
        "reason",
        "reversible",
    )
    for (
        outcome,
        status,
        approval,
        profile,
        action,
        connector,
        sources,
        runtime,
        reason,
        rev,
    ) in rows:
        key = (
            category_of(outcome, status, approval),
            profile,
            action,
            primary_connector(connector, sources),
            runtime,
            reason,
            rev,
        )
        counts[key] += 1
    fields = ("category", "profile", "action", "connector", "runtime", "reason", "reversible")
    DecisionRollup.objects.bulk_create(
        DecisionRollup(day=day, count=n, **dict(zip(fields, key, strict=True)))
        for key, n in counts.items()
    )
    _refresh_timings(day, start, end)


def _refresh_timings(day: date, start: datetime, end: datetime) -> None:
    sla = {
        a.key: a.approval_sla_minutes or a.approval_ttl_minutes / 2
        for a in ActionType.objects.all()
    }
    groups: dict[tuple, dict] = defaultdict(
        lambda: {"hist": empty_histogram(), "n": 0, "ok": 0, "sum": 0.0}
    )
    decided = ApprovalRequest.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        status__in=[ApprovalStatus.APPROVED, ApprovalStatus.REJECTED],
    ).values_list(
        "group__name", "decision__action", "decision__profile_slug", "created_at", "resolved_at"
    )
    for group, action, profile, created, resolved in decided:
        seconds = (resolved - created).total_seconds()
        entry = groups[(group, action, profile)]
        entry["hist"][bucket_of(seconds)] += 1
        entry["n"] += 1
        entry["sum"] += seconds
        entry["ok"] += seconds <= sla.get(action, 30) * 60
    ApprovalTimingRollup.objects.bulk_create(
        ApprovalTimingRollup(
            day=day,
            group=g,
            action=a,
            profile=p,
            decided=e["n"],
            within_sla=e["ok"],
            histogram=e["hist"],
            total_seconds=e["sum"],
        )
        for (g, a, p), e in groups.items()
    )
