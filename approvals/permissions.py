"""Who may decide an approval request (separation of duties lives here)."""

from approvals.choices import ApprovalStatus
from approvals.models import ApprovalRequest
from governance.identity import same_person
from governance.permissions import _is_person


def vote_refusal(user, approval: ApprovalRequest) -> tuple[str, str] | None:
    """Why `user` may not vote on `approval` as (code, message), or None if they may.

    Nobody decides a request made on their own behalf, nobody votes twice, and only
    members of the routed group (or, once escalated, the escalation group) vote."""
    if not _is_person(user) or not user.is_active:
        return "not_in_group", "Only people in the approver group may decide this request."
    if approval.status != ApprovalStatus.PENDING:
        return "already_resolved", f"This request was already {approval.status}."
    if is_own_request(user, approval.decision):
        return "own_request", "You cannot decide a request made on your own behalf."
    if approval.votes.filter(voter=user).exists():
        return "already_voted", "You already voted on this request."
    if not can_decide_group(user, approval):
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


def can_decide_group(user, approval: ApprovalRequest) -> bool:
    """Member of the routed group, or of the escalation group once escalated."""
    group_ids = {approval.group_id}
    if approval.escalated_at is not None and approval.escalation_group_id:
        group_ids.add(approval.escalation_group_id)
    return user.groups.filter(pk__in=group_ids).exists()
