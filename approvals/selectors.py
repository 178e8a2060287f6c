"""Reads of the approval workflow, scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from approvals.choices import ApprovalStatus
from approvals.models import ApprovalRequest
from governance.choices import DecisionStatus
from governance.models import Decision
from governance.permissions import is_auditor, is_governance_admin
from governance.selectors import on_behalf_of_q

HISTORY_DAYS = 90


def _base() -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.select_related(
        "decision", "decision__runtime", "group", "escalation_group"
    )


def _routed_to(user) -> Q:
    """Requests routed to one of the person's groups (or escalated to one)."""
    groups = user.groups.all()
    return Q(group__in=groups) | Q(escalated_at__isnull=False, escalation_group__in=groups)


def approval_request_list_decidable_by(user) -> QuerySet[ApprovalRequest]:
    """The inbox: pending requests this person may decide, most urgent first.

    Separation of duties is applied here too (not only when voting), so that nobody sees
    their own requests or ones they already voted on as work to do."""
    return (
        _base()
        .filter(_routed_to(user), status=ApprovalStatus.PENDING)
        .exclude(on_behalf_of_q(user, "decision__"))
        .exclude(votes__voter=user)
        .distinct()
        .order_by("expires_at", "pk")
    )


def approval_request_list_decided_by(user) -> QuerySet[ApprovalRequest]:
    """Requests this person voted on, newest vote first."""
    return _base().filter(votes__voter=user).distinct().order_by("-created_at")


def approval_request_list_visible_to(user) -> QuerySet[ApprovalRequest]:
    """Everything the person may look at: all for governance admins and auditors; requests
    routed to their groups, and requests made on their behalf, for everyone else."""
    if is_governance_admin(user) or is_auditor(user):
        return _base().order_by("-created_at")
    own = on_behalf_of_q(user, "decision__")
    return _base().filter(_routed_to(user) | own).distinct().order_by("-created_at")


def inbox_count(user) -> int:
    """The number in the navigation badge (one query)."""
    return approval_request_list_decidable_by(user).count()


def approval_request_ids_due_to_expire(now: datetime) -> list[int]:
    return list(
        ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )


def approval_request_ids_past_sla(now: datetime) -> list[int]:
    return list(
        ApprovalRequest.objects.filter(
            status=ApprovalStatus.PENDING,
            sla_due_at__lte=now,
            expires_at__gt=now,
            escalated_at__isnull=True,
        )
        .order_by("sla_due_at")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class ApprovalStats:
    """How people decided a set of human-routed decisions."""

    total: int
    approved: int
    rejected: int
    expired: int

    @property
    def decided(self) -> int:
        return self.approved + self.rejected + self.expired

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.decided if self.decided else None


HUMAN_ROUTED_FINAL = [
    DecisionStatus.APPROVED,
    DecisionStatus.REJECTED,
    DecisionStatus.EXPIRED,
    DecisionStatus.EXECUTED,
    DecisionStatus.FAILED,
    DecisionStatus.SKIPPED,
]


def _stats(queryset: QuerySet[Decision]) -> ApprovalStats:
    approved = Q(approval__startswith="human:")
    row = queryset.filter(outcome="pending").aggregate(
        total=Count("pk"),
        approved=Count("pk", filter=approved),
        rejected=Count("pk", filter=Q(status=DecisionStatus.REJECTED)),
        expired=Count("pk", filter=Q(status=DecisionStatus.EXPIRED)),
    )
    return ApprovalStats(**row)


@dataclass(frozen=True)
class ApprovalContext:
    """What an approver should know from history before deciding."""

    action_stats: ApprovalStats
    requester_stats: ApprovalStats
    similar: list[Decision]
    days: int = HISTORY_DAYS


def approval_context_get(approval: ApprovalRequest) -> ApprovalContext:
    """How this action type and this person's requests were decided in the last 90 days,
    and the most recent similar decisions (same action and profile)."""
    decision = approval.decision
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    recent = Decision.objects.filter(created_at__gte=since).exclude(pk=decision.pk)
    similar = (
        recent.filter(
            action=decision.action,
            profile_slug=decision.profile_slug,
            outcome="pending",
            status__in=HUMAN_ROUTED_FINAL,
        )
        .select_related("runtime")
        .order_by("-created_at")[:5]
    )
    return ApprovalContext(
        action_stats=_stats(recent.filter(action=decision.action)),
        requester_stats=_stats(recent.filter(on_behalf_of=decision.on_behalf_of)),
        similar=list(similar),
    )
