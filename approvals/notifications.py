"""E-mail to approvers: a new request for their group, and a reminder on escalation.

The agent's rationale is quoted (people need it to decide); the params are not, since they
may carry personal or secret data: the e-mail links to the console, which shows them to the
people allowed to see them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from approvals.choices import ApprovalStatus
from approvals.models import ApprovalDelegation, ApprovalRequest
from governance.models import ActionType, User

NEW_REQUEST = "new"
ESCALATED = "escalated"


def _recipients(approval: ApprovalRequest, reason: str) -> list[str]:
    """Active members of the routed group (plus the escalation group on escalation) and
    their stand-ins today; never the person the request was made for, nor those who
    already voted."""
    groups: list[Group] = [approval.group]
    if reason == ESCALATED and approval.escalation_group_id:
        groups.append(approval.escalation_group)
    voted = approval.votes.values_list("voter_id", flat=True)
    # Stand-ins of the group's members who are out of office today hear of it too.
    stand_ins = ApprovalDelegation.objects.active_on(timezone.localdate()).filter(
        delegator__groups__in=groups, delegator__is_active=True
    )
    people = (
        User.objects.filter(
            Q(groups__in=groups) | Q(pk__in=stand_ins.values("stand_in_id")), is_active=True
        )
        .exclude(email="")
        .exclude(pk=approval.decision.on_behalf_of_user_id)
        .exclude(email_key=approval.decision.on_behalf_of)
        .exclude(pk__in=voted)
        .distinct()
    )
    return sorted(people.values_list("email", flat=True))


def approval_notify(approval_id: int, *, reason: str) -> int:
    """E-mail the people who can decide this request; returns how many were sent."""
    approval = ApprovalRequest.objects.select_related(
        "decision", "decision__runtime", "group", "escalation_group"
    ).get(pk=approval_id)
    if approval.status != ApprovalStatus.PENDING:
        return 0  # decided or expired before its e-mail left: nothing to ask anyone
    recipients = _recipients(approval, reason)
    if not recipients:
        return 0
    decision = approval.decision
    context = {
        "approval": approval,
        "decision": decision,
        "action_type": ActionType.objects.filter(key=decision.action).first(),
        "reason": reason,
        "url": settings.SITE_URL.rstrip("/")
        + reverse("approvals:approval_request_detail", args=[approval.pk]),
        "now": timezone.now(),
    }
    subject = render_to_string("approvals/email/subject.txt", context).strip()
    body = render_to_string("approvals/email/request.txt", context)
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients]
    return send_mass_mail(messages, fail_silently=False)
