"""Reads of the approval workflow, scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from approvals.choices import ApprovalStatus, Verdict
from approvals.models import ApprovalDelegation, ApprovalRequest
from approvals.permissions import delegation_visible_q, delegations_to
from audit.sealing import digest
from governance.choices import DecisionStatus
from governance.models import Decision
from governance.permissions import is_auditor, is_governance_admin
from governance.selectors import on_behalf_of_q

HISTORY_DAYS = 90


def _base() -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.select_related(
        "decision", "decision__runtime", "group", "escalation_group"
    )


def _deciding_groups(user) -> QuerySet[Group]:
    """The person's groups, and today those of the people they stand in for (out of
    office delegations; one subquery, so the inbox and its badge stay one query each)."""
    delegators = delegations_to(user, timezone.localdate()).filter(delegator__is_active=True)
    return Group.objects.filter(
        Q(user=user) | Q(user__in=delegators.values("delegator_id"))
    ).values("pk")


def _routed_to(user) -> Q:
    """Requests routed to one of the person's groups (or escalated to one), their own or,
    as a stand-in, an absent approver's."""
    groups = _deciding_groups(user)
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


ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth"}


@dataclass(frozen=True)
class ApprovalProgress:
    """How far a pending request is from approved: who approved the current params."""

    needed: int
    approved_by: list[str]

    @property
    def count(self) -> int:
        return len(self.approved_by)

    @property
    def summary(self) -> str:
        """E.g. "1 of 2 approvals — waiting for a second approver"."""
        remaining = self.needed - self.count
        head = f"{self.count} of {self.needed} approval{'s' if self.needed > 1 else ''}"
        if remaining <= 0:
            return head
        if remaining == 1:
            ordinal = ORDINALS.get(self.count + 1)
            who = f"a {ordinal} approver" if self.count and ordinal else "an approver"
        else:
            who = f"{remaining} more approvers"
        return f"{head} — waiting for {who}"


def approval_progress_get(approval: ApprovalRequest) -> ApprovalProgress:
    """Approvals that count: those of the params the agent would now act on (an edit
    restarts the count, as the vote service does)."""
    current = digest(approval.decision.effective_params)
    votes = approval.votes.filter(verdict=Verdict.APPROVE, params_digest=current)
    return ApprovalProgress(
        needed=approval.approvals_needed,
        approved_by=list(votes.order_by("created_at", "pk").values_list("voter__email", flat=True)),
    )


def approval_request_next_for(user, *, after: ApprovalRequest) -> ApprovalRequest | None:
    """The next request of the person's inbox, most urgent first, other than `after`."""
    return approval_request_list_decidable_by(user).exclude(pk=after.pk).first()


def approval_delegation_list_for_user(user) -> QuerySet[ApprovalDelegation]:
    """Stand-ins the person named, and delegations naming them, newest first."""
    return ApprovalDelegation.objects.filter(delegation_visible_q(user)).select_related(
        "delegator", "stand_in", "ended_by"
    )
