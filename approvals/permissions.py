"""Who may decide an approval request (separation of duties lives here)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from approvals.choices import ApprovalStatus
from approvals.models import ApprovalDelegation, ApprovalRequest
from governance.identity import same_person
from governance.permissions import _is_person, is_approver


def vote_refusal(
    user, approval: ApprovalRequest, *, now: datetime | None = None
) -> tuple[str, str] | None:
    """Why `user` may not vote on `approval` as (code, message), or None if they may.

    Nobody decides a request made on their own behalf (a stand-in included), nobody votes
    twice, and only members of the routed group (or, once escalated, the escalation
    group), or a stand-in for one of them, vote."""
    if not _is_person(user) or not user.is_active:
        return "not_in_group", "Only people in the approver group may decide this request."
    if approval.status != ApprovalStatus.PENDING:
        return "already_resolved", f"This request was already {approval.status}."
    if is_own_request(user, approval.decision):
        return "own_request", "You cannot decide a request made on your own behalf."
    if approval.votes.filter(voter=user).exists():
        return "already_voted", "You already voted on this request."
    if not can_decide_group(user, approval, now=now):
        return "not_in_group", f"Only members of {approval.group.name} may decide this request."
    return None


def is_own_request(user, decision) -> bool:
    """Was this decision made on behalf of `user`? By user id, else by canonical address."""
    return same_person(
        user.pk,
        user.email_key,
        other_user_id=decision.on_behalf_of_user_id,
        other_key=decision.on_behalf_of,
    )


def _deciding_group_ids(approval: ApprovalRequest) -> set[int]:
    group_ids = {approval.group_id}
    if approval.escalated_at is not None and approval.escalation_group_id:
        group_ids.add(approval.escalation_group_id)
    return group_ids


def can_decide_group(user, approval: ApprovalRequest, *, now: datetime | None = None) -> bool:
    """Member of the routed group (or of the escalation group once escalated), or the
    stand-in, today, of such a member."""
    group_ids = _deciding_group_ids(approval)
    if user.groups.filter(pk__in=group_ids).exists():
        return True
    return bool(stand_in_for(user, approval, now=now))


def delegations_to(user, day: date) -> QuerySet[ApprovalDelegation]:
    """The delegations that make `user` a stand-in on `day`."""
    return ApprovalDelegation.objects.active_on(day).filter(stand_in=user)


def stand_in_for(user, approval: ApprovalRequest, *, now: datetime | None = None) -> list[str]:
    """E-mails of the people in the deciding groups for whom `user` stands in today."""
    if not _is_person(user):
        return []
    day = timezone.localdate(now or timezone.now())
    return sorted(
        delegations_to(user, day)
        .filter(delegator__groups__in=_deciding_group_ids(approval), delegator__is_active=True)
        .values_list("delegator__email", flat=True)
        .distinct()
    )


def delegation_stand_in_refusal(actor, stand_in) -> str | None:
    """Why `stand_in` cannot stand in for `actor`, or None: a stand-in is another active
    person who works the inbox."""
    if not _is_person(actor) or not is_approver(actor):
        return "Only approvers name a stand-in."
    if stand_in is None or not _is_person(stand_in) or not stand_in.is_active:
        return "Choose an active person as your stand-in."
    if stand_in.pk == actor.pk:
        return "You cannot stand in for yourself."
    if not is_approver(stand_in):
        return f"{stand_in.email} is not an approver; choose someone who works the inbox."
    return None


def can_end_delegation(user, delegation: ApprovalDelegation) -> bool:
    """The person who named the stand-in, or the stand-in (declining), may end it."""
    return _is_person(user) and user.pk in (delegation.delegator_id, delegation.stand_in_id)


def delegation_visible_q(user) -> Q:
    return Q(delegator=user) | Q(stand_in=user)
