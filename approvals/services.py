"""Writes of the approval workflow: routing, votes, resolution and expiry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals.choices import ApprovalStatus, Verdict
from approvals.models import (
    COMMENT_MAX_LENGTH,
    ApprovalDelegation,
    ApprovalRequest,
    ApprovalVote,
)
from approvals.notifications import ESCALATED, NEW_REQUEST
from approvals.permissions import (
    can_end_delegation,
    delegation_stand_in_refusal,
    stand_in_for,
    vote_refusal,
)
from approvals.webhooks import webhook_delivery_queue
from audit.choices import EventType, OutboxTopic
from audit.models import OutboxMessage
from audit.outbox import outbox_message_add, outbox_message_build
from audit.sealing import digest
from audit.services import SYSTEM, audit_config_change, audit_event_record, audit_snapshot
from governance import engine
from governance.api.parsers import JSONRejected, json_value_check
from governance.choices import DecisionStatus
from governance.exceptions import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from governance.models import Decision, User
from governance.selectors import Routing

# Refusals that are about the person (403) rather than the request's state (409).
_FORBIDDEN_CODES = {"own_request", "not_in_group"}


def approval_request_build(
    *,
    decision: Decision,
    verdict: engine.Verdict,
    group_id: int,
    routing: Routing | None,
    now: datetime,
) -> tuple[ApprovalRequest, OutboxMessage]:
    """Route a pending decision to its approver group, with expiry and SLA, and the
    e-mail to that group: both unsaved, for the decision's own single write (the e-mail
    leaves through the outbox, never from the decision path)."""
    ttl = timedelta(minutes=verdict.approval_ttl_minutes)
    sla_minutes = routing.sla_minutes if routing else None
    sla = timedelta(minutes=sla_minutes) if sla_minutes else ttl / 2
    approval = ApprovalRequest(
        decision=decision,
        group_id=group_id,
        escalation_group_id=routing.escalation_group_id if routing else None,
        approvals_needed=verdict.approvals_needed,
        created_at=now,
        expires_at=now + ttl,
        sla_due_at=now + min(sla, ttl),
    )
    notification = outbox_message_build(
        topic=OutboxTopic.APPROVAL_NOTIFY, now=now, reason=NEW_REQUEST
    )
    return approval, notification


def _notify(approval_id: int, reason: str) -> None:
    """E-mail is slow and external: an outbox message, sent after commit by a worker."""
    outbox_message_add(topic=OutboxTopic.APPROVAL_NOTIFY, approval_id=approval_id, reason=reason)


def _validate_edited_params(edited_params: Any) -> dict | None:
    if edited_params is None:
        return None
    if not isinstance(edited_params, dict):
        raise ValidationFailed(
            'Edited params must be a JSON object, e.g. {"to": "a@b.example"}.',
            extra={"fields": {"params": ["Must be a JSON object."]}},
        )
    try:
        json_value_check(edited_params, where="params")
    except JSONRejected as error:
        raise ValidationFailed(str(error), extra={"fields": {"params": [str(error)]}}) from error
    limit = settings.GOVERNANCE["MAX_PARAMS_BYTES"]
    if len(json.dumps(edited_params)) > limit:
        raise ValidationFailed(f"Edited params are larger than {limit} bytes.")
    return edited_params


def approval_vote_cast(
    approval_id: int,
    *,
    voter,
    verdict: str,
    comment: str = "",
    edited_params: dict | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Record one approver's verdict and resolve the request when it is decided.

    The approval row is locked (SELECT ... FOR UPDATE) for the whole vote, so two
    approvers acting at the same moment are serialised: the second sees the first's
    vote and the resolved state, and exactly one resolution event is written."""
    if verdict not in Verdict.values:
        raise ValidationFailed("verdict must be approve or reject.")
    if verdict == Verdict.REJECT and not comment.strip():
        raise ValidationFailed(
            "Give a reason for the rejection; the agent and the requester will see it.",
            extra={"fields": {"reason": ["A reason is required to reject."]}},
        )
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationFailed(
            f"The comment is {len(comment):,} characters long; the limit is "
            f"{COMMENT_MAX_LENGTH:,}. Shorten it.",
            extra={"fields": {"comment": [f"At most {COMMENT_MAX_LENGTH:,} characters."]}},
        )
    edited_params = _validate_edited_params(edited_params)
    now = now or timezone.now()
    # Expire first, in a transaction of its own, so that the refusal below does not
    # roll the expiry back.
    approval_request_expire(approval_id, now=now)
    with transaction.atomic():
        approval = (
            ApprovalRequest.objects.select_for_update()
            .select_related("decision", "group")
            .get(pk=approval_id)
        )
        refusal = vote_refusal(voter, approval, now=now)
        if refusal is not None:
            code, message = refusal
            error = PermissionDenied if code in _FORBIDDEN_CODES else Conflict
            raise error(message, code=code)
        _vote_record(approval, voter, verdict, comment, edited_params, now)
    return approval


def _current_params(approval: ApprovalRequest) -> dict:
    decision = approval.decision
    return decision.approved_params if decision.approved_params is not None else decision.params


def _vote_record(
    approval: ApprovalRequest,
    voter,
    verdict: str,
    comment: str,
    edited_params: dict | None,
    now: datetime,
) -> None:
    decision = approval.decision
    if edited_params is not None and verdict == Verdict.APPROVE:
        decision.approved_params = edited_params
    params = _current_params(approval)
    # Whether the voter decides as someone's stand-in, for the record (before the vote
    # exists, while the delegation is what lets them vote).
    stand_in = (
        []
        if voter.groups.filter(pk=approval.group_id).exists()
        else (stand_in_for(voter, approval, now=now))
    )
    vote = ApprovalVote.objects.create(
        request=approval,
        voter=voter,
        verdict=verdict,
        comment=comment,
        edited_params=edited_params if verdict == Verdict.APPROVE else None,
        params_digest=digest(params),
        created_at=now,
    )
    audit_event_record(
        event_type=EventType.APPROVAL_VOTE_CAST,
        actor=voter,
        decision=decision,
        timestamp=now,
        outcome=verdict,
        approved_params_digest=vote.params_digest,
        detail={
            "comment": comment,
            "edited": vote.edited_params is not None,
            **({"stand_in_for": stand_in} if stand_in else {}),
        },
    )
    if verdict == Verdict.REJECT:
        _resolve(approval, ApprovalStatus.REJECTED, actor=voter, now=now, comment=comment)
        return
    approvers = _approvers_of(approval, vote.params_digest)
    if len(approvers) >= approval.approvals_needed:
        decision.approved_params_digest = vote.params_digest
        decision.approval = "human:" + ",".join(approvers)
        _resolve(approval, ApprovalStatus.APPROVED, actor=voter, now=now)
    elif edited_params is not None:
        decision.save(update_fields=["approved_params"])


def _approvers_of(approval: ApprovalRequest, params_digest: str) -> list[str]:
    """E-mails of the approvers who approved exactly these params, in vote order."""
    votes = approval.votes.filter(verdict=Verdict.APPROVE, params_digest=params_digest)
    return [v.voter.email for v in votes.select_related("voter").order_by("created_at", "pk")]


_DECISION_STATUS = {
    ApprovalStatus.APPROVED: DecisionStatus.APPROVED,
    ApprovalStatus.REJECTED: DecisionStatus.REJECTED,
    ApprovalStatus.EXPIRED: DecisionStatus.EXPIRED,
}
_EVENT_TYPE = {
    ApprovalStatus.APPROVED: EventType.DECISION_APPROVED,
    ApprovalStatus.REJECTED: EventType.DECISION_REJECTED,
    ApprovalStatus.EXPIRED: EventType.DECISION_EXPIRED,
}


def _resolve(
    approval: ApprovalRequest, status: ApprovalStatus, *, actor, now: datetime, comment: str = ""
) -> None:
    """Give the request and its decision their final state, once (caller holds the lock)."""
    approval.status = status
    approval.resolved_at = now
    approval.save(update_fields=["status", "resolved_at"])
    decision = approval.decision
    decision.status = _DECISION_STATUS[status]
    decision.resolved_at = now
    if status != ApprovalStatus.APPROVED:
        decision.approval = ""
    decision.save(
        update_fields=[
            "status",
            "resolved_at",
            "approval",
            "approved_params",
            "approved_params_digest",
        ]
    )
    audit_event_record(
        event_type=_EVENT_TYPE[status],
        actor=actor,
        decision=decision,
        timestamp=now,
        outcome=status.value,
        detail={"comment": comment} if comment else {},
    )
    webhook_delivery_queue(decision)


def approval_request_expire(approval_id: int, *, now: datetime | None = None) -> bool:
    """Expire a pending request whose time is up; True if this call expired it.

    Safe to call from many places at once (the periodic task, a poll of the decision):
    the row lock and the status re-check make the second caller a no-op."""
    now = now or timezone.now()
    with transaction.atomic():
        approval = (
            ApprovalRequest.objects.select_for_update()
            .select_related("decision")
            .filter(pk=approval_id, status=ApprovalStatus.PENDING, expires_at__lte=now)
            .first()
        )
        if approval is None:
            return False
        _resolve(approval, ApprovalStatus.EXPIRED, actor=SYSTEM, now=now)
    return True


def approval_request_escalate(approval_id: int, *, now: datetime | None = None) -> bool:
    """Escalate a pending request past its SLA: its escalation group may now decide too,
    and the approvers are reminded. True if this call escalated it (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        approval = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("decision", "escalation_group")
            .filter(
                pk=approval_id,
                status=ApprovalStatus.PENDING,
                escalated_at__isnull=True,
                sla_due_at__lte=now,
                expires_at__gt=now,
            )
            .first()
        )
        if approval is None:
            return False
        approval.escalated_at = now
        approval.save(update_fields=["escalated_at"])
        audit_event_record(
            event_type=EventType.APPROVAL_ESCALATED,
            actor=SYSTEM,
            decision=approval.decision,
            timestamp=now,
            outcome="escalated",
            detail={
                "group": approval.group.name,
                "escalation_group": approval.escalation_group.name
                if approval.escalation_group
                else None,
                "sla_due_at": approval.sla_due_at.isoformat(),
            },
        )
        _notify(approval.pk, ESCALATED)
    return True


@dataclass
class BulkResult:
    approved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def approval_bulk_approve(approval_ids: list[int], *, voter, comment: str = "") -> BulkResult:
    """Approve several low-impact, reversible requests at once, each through the ordinary
    vote (same rules, one audit trail each). Anything else is refused with its reason."""
    result = BulkResult()
    requests = ApprovalRequest.objects.select_related("decision").filter(pk__in=approval_ids)
    found = {approval.pk: approval for approval in requests}
    for approval_id in approval_ids:
        approval = found.get(approval_id)
        if approval is None:
            result.refused[approval_id] = "No such request."
            continue
        decision = approval.decision
        if decision.impact != "low" or decision.reversible is not True:
            result.refused[approval_id] = (
                "Only low-impact, reversible requests can be bulk-approved."
            )
            continue
        try:
            approval_vote_cast(approval_id, voter=voter, verdict=Verdict.APPROVE, comment=comment)
        except ApplicationError as error:
            result.refused[approval_id] = error.message
        else:
            result.approved.append(approval_id)
    return result


# Out of office: an approver's stand-in ------------------------------------------------

# The longest absence one delegation covers; a longer one is a change of group membership.
DELEGATION_MAX_DAYS = 92


def approval_delegation_create(
    *,
    actor,
    stand_in,
    starts_on: date,
    ends_on: date,
    note: str = "",
    now: datetime | None = None,
) -> ApprovalDelegation:
    """Name a stand-in for a date range (both days included): requests routed to the
    actor's groups reach the stand-in too while it is in force. Audited.

    One stand-in at a time: a range that overlaps one of the actor's delegations in force
    is refused (the actor's row is locked, so two tabs cannot both create one)."""
    now = now or timezone.now()
    problem = delegation_stand_in_refusal(actor, stand_in) or _delegation_range_problem(
        starts_on, ends_on, today=timezone.localdate(now)
    )
    if problem is not None:
        error = PermissionDenied if problem.startswith("Only approvers") else ValidationFailed
        raise error(problem)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        overlapping = ApprovalDelegation.objects.filter(
            delegator=actor, ended_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
        ).first()
        if overlapping is not None:
            raise Conflict(
                f"{overlapping.stand_in.email} already stands in for you from "
                f"{overlapping.starts_on} to {overlapping.ends_on}; end that first.",
                code="delegation_overlaps",
            )
        delegation = ApprovalDelegation.objects.create(
            delegator=actor,
            stand_in=stand_in,
            starts_on=starts_on,
            ends_on=ends_on,
            note=note.strip(),
            created_at=now,
        )
        audit_config_change(
            actor=actor, target=delegation, before=None, after=audit_snapshot(delegation)
        )
    return delegation


def _delegation_range_problem(starts_on: date, ends_on: date, *, today: date) -> str | None:
    if ends_on < starts_on:
        return "The last day comes before the first day."
    if ends_on < today:
        return "That range is over already; choose today or a later day."
    if (ends_on - starts_on).days + 1 > DELEGATION_MAX_DAYS:
        return f"A stand-in covers at most {DELEGATION_MAX_DAYS} days at a time."
    return None


def approval_delegation_end(
    delegation_id: int, *, actor, now: datetime | None = None
) -> ApprovalDelegation:
    """End a delegation now (back early, or the stand-in declines). Audited; ending one
    that is over or already ended is refused, so the log holds one end per delegation."""
    now = now or timezone.now()
    with transaction.atomic():
        delegation = (
            ApprovalDelegation.objects.select_for_update()
            .select_related("delegator", "stand_in")
            .get(pk=delegation_id)
        )
        if not can_end_delegation(actor, delegation):
            raise PermissionDenied("Only the approver or their stand-in may end this.")
        if delegation.ended_at is not None or delegation.ends_on < timezone.localdate(now):
            raise Conflict("This delegation has ended already.", code="delegation_ended")
        before = audit_snapshot(delegation)
        delegation.ended_at = now
        delegation.ended_by = actor
        delegation.save(update_fields=["ended_at", "ended_by"])
        audit_config_change(
            actor=actor, target=delegation, before=before, after=audit_snapshot(delegation)
        )
    return delegation
