"""The quarterly review: what was denied and nearly went wrong, what was recommended and
done about it, what changed in the configuration, what waits in intake; and its sign-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from audit.choices import Category, EventType, RecommendationStatus
from audit.models import AuditEvent, DecisionRollup, QuarterlySignOff, Recommendation
from audit.services import audit_event_record
from catalog.choices import OPEN_INTAKE_STATES
from catalog.models import IntakeRequest
from governance.exceptions import PermissionDenied
from governance.permissions import is_governance_admin

CONFIG_EVENTS = [
    EventType.CONFIG_CREATED,
    EventType.CONFIG_UPDATED,
    EventType.CONFIG_DELETED,
    EventType.CATALOG_VERSION_PINNED,
    EventType.CATALOG_VERSION_YANKED,
    EventType.RUNTIME_TOKEN_REVOKED,
    EventType.GROUP_MEMBERSHIP_CHANGED,
    EventType.POLICY_IMPORTED,
]


# The page lists the newest configuration changes; the CSV has every one.
PAGE_CHANGES = 100


class QuarterError(ValueError):
    pass


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter."""
        following = Quarter(self.year + (self.number == 4), self.number % 4 + 1)
        return following.start - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        start = timezone.make_aware(datetime.combine(self.start, datetime.min.time()))
        end = timezone.make_aware(
            datetime.combine(self.end + timedelta(days=1), datetime.min.time())
        )
        return start, end

    @classmethod
    def parse(cls, label: str) -> Quarter:
        year, _, number = label.strip().upper().partition("-Q")
        if not (year.isdigit() and number in ("1", "2", "3", "4")) or not 2000 <= int(year) <= 2100:
            raise QuarterError(f"{label!r} is not a quarter such as 2026-Q4.")
        return cls(int(year), int(number))

    @classmethod
    def current(cls) -> Quarter:
        today = timezone.localdate()
        return cls(today.year, (today.month - 1) // 3 + 1)

    @classmethod
    def recent(cls, count: int) -> list[Quarter]:
        quarters, quarter = [], cls.current()
        for _ in range(count):
            quarters.append(quarter)
            quarter = cls(quarter.year - (quarter.number == 1), (quarter.number - 2) % 4 + 1)
        return quarters


@dataclass
class Review:
    denied_by_profile: list[dict]
    denied_by_connector: list[dict]
    near_misses: list[dict]
    recommendations: dict[str, list[Recommendation]]
    config_changes: list[AuditEvent]  # the newest, for the page
    config_change_count: int
    all_config_changes: QuerySet[AuditEvent]  # every one, for the CSV
    open_intake: list[IntakeRequest]

    def csv_rows(self):
        yield (
            "denied by profile",
            [[r["key"], r["reason"], r["count"]] for r in self.denied_by_profile],
        )
        yield (
            "denied by connector",
            [[r["key"], r["reason"], r["count"]] for r in self.denied_by_connector],
        )
        yield (
            "near-misses",
            [
                [r["action"], f"{r['category']} ({r['profile']})", r["count"]]
                for r in self.near_misses
            ],
        )
        for status, items in self.recommendations.items():
            yield f"recommendations {status}", [[r.kind, r.title, 1] for r in items]
        yield (
            "configuration changes",
            [
                [e.get_event_type_display(), f"{e.object_repr} by {e.actor}", 1]
                for e in self.all_config_changes.iterator()
            ],
        )
        yield (
            "open intake requests",
            [[r.target_label, r.get_state_display(), 1] for r in self.open_intake],
        )


def quarter_review(quarter: Quarter) -> Review:
    rollups = DecisionRollup.objects.filter(day__gte=quarter.start, day__lte=quarter.end)
    denied = rollups.filter(category=Category.DENIED)
    start, end = quarter.bounds()
    made = Recommendation.objects.filter(created_at__gte=start, created_at__lt=end)
    changes = AuditEvent.objects.filter(
        event_type__in=CONFIG_EVENTS, timestamp__gte=start, timestamp__lt=end
    )
    return Review(
        denied_by_profile=_grouped(denied, "profile"),
        denied_by_connector=_grouped(denied, "connector"),
        near_misses=[
            {
                "action": r["action"],
                "category": r["category"],
                "profile": r["profile"],
                "count": r["n"],
            }
            for r in rollups.filter(
                reversible=False, category__in=[Category.REJECTED, Category.EXPIRED]
            )
            .values("action", "category", "profile")
            .annotate(n=Sum("count"))
            .order_by("-n")
        ],
        recommendations={
            "made": list(made),
            "applied": list(
                Recommendation.objects.filter(
                    status=RecommendationStatus.APPLIED, decided_at__gte=start, decided_at__lt=end
                )
            ),
            "dismissed": list(
                Recommendation.objects.filter(
                    status=RecommendationStatus.DISMISSED, decided_at__gte=start, decided_at__lt=end
                )
            ),
        },
        config_changes=list(changes.order_by("-id")[:PAGE_CHANGES]),
        config_change_count=changes.count(),
        all_config_changes=changes.order_by("-id"),
        open_intake=list(
            IntakeRequest.objects.filter(
                Q(state__in=OPEN_INTAKE_STATES), created_at__lt=end
            ).select_related("item")
        ),
    )


def _grouped(queryset, by: str) -> list[dict]:
    rows = queryset.values(by, "reason").annotate(n=Sum("count")).order_by("-n")
    return [{"key": r[by] or "(none)", "reason": r["reason"], "count": r["n"]} for r in rows]


def quarterly_signoff(quarter: Quarter, *, actor, note: str = "") -> QuarterlySignOff:
    """A governance admin signs the review off (audited)."""
    if not is_governance_admin(actor):
        raise PermissionDenied("Only governance admins sign off the quarterly review.")
    with transaction.atomic():
        signoff = QuarterlySignOff.objects.create(quarter=quarter.label, signed_by=actor, note=note)
        audit_event_record(
            event_type=EventType.QUARTERLY_REVIEW_SIGNED,
            actor=actor,
            target=signoff,
            detail={"quarter": quarter.label, "note": note},
        )
    return signoff
