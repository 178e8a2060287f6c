"""Expiry and escalation on Celery beat, with a frozen clock; e-mail to approvers."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from approvals.models import ApprovalRequest
from approvals.notifications import approval_notify
from approvals.services import approval_vote_cast
from approvals.tasks import escalate_approvals, expire_approvals
from audit.models import AuditEvent
from audit.tasks import deliver_outbox
from governance.models import Decision
from governance.tests.factories import GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_expiry_resolves_the_request_as_expired_and_audits_it(pending, runtime_client):
    with time_machine.travel(pending.expires_at + timedelta(seconds=1)):
        assert expire_approvals() == 1
        assert expire_approvals() == 0  # idempotent
    assert Decision.objects.get(pk=pending.decision_id).status == "expired"
    event = AuditEvent.objects.get(event_type="decision_expired")
    assert event.actor == "system"
    body = runtime_client.get(f"/api/v1/decisions/{pending.decision_id}").json()
    assert body["status"] == "expired"


def test_nothing_expires_before_its_time(pending):
    with time_machine.travel(pending.expires_at - timedelta(seconds=1)):
        assert expire_approvals() == 0
    assert ApprovalRequest.objects.get(pk=pending.pk).status == "pending"


def test_a_vote_after_expiry_is_refused(pending, approver):
    from governance.exceptions import Conflict

    with time_machine.travel(pending.expires_at + timedelta(minutes=1)), pytest.raises(Conflict):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    assert ApprovalRequest.objects.get(pk=pending.pk).status == "expired"


@pytest.fixture
def escalation_group(policy):
    group = GroupFactory(name="Sales leads")
    policy.action_types.send.escalation_group = group
    policy.action_types.send.approval_sla_minutes = 30
    policy.action_types.send.save()
    return group


def test_past_its_sla_a_request_is_escalated_and_the_approvers_reminded(
    escalation_group, make_pending, approver
):
    lead = UserFactory(username="lena", groups=["Sales leads"])
    pending = make_pending("send")
    deliver_outbox()
    mail.outbox.clear()
    with time_machine.travel(pending.sla_due_at + timedelta(seconds=1)):
        assert escalate_approvals() == 1
        assert escalate_approvals() == 0
        assert not mail.outbox  # the reminder waits in the outbox, off the request path
        assert deliver_outbox() == 1
    pending.refresh_from_db()
    assert pending.escalated_at is not None
    event = AuditEvent.objects.get(event_type="approval_escalated")
    assert event.detail["escalation_group"] == "Sales leads"
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["alex@corp.example", "lena@corp.example"]
    assert mail.outbox[0].subject.startswith("[Agent governance] Overdue:")
    # Once escalated, the escalation group may decide too.
    approval_vote_cast(pending.pk, voter=lead, verdict="approve")
    assert Decision.objects.get(pk=pending.decision_id).status == "approved"


def test_the_escalation_group_may_not_decide_before_escalation(escalation_group, pending):
    from governance.exceptions import PermissionDenied

    lead = UserFactory(username="lena", groups=["Sales leads"])
    with pytest.raises(PermissionDenied):
        approval_vote_cast(pending.pk, voter=lead, verdict="approve")


def test_new_request_mails_the_routed_group_with_the_rationale_not_the_params(
    make_pending, approver, second_approver, requester, policy, django_capture_on_commit_callbacks
):
    policy.approvers.user_set.add(requester)  # the requester is in the group too
    with django_capture_on_commit_callbacks(execute=True) as queued:
        pending = make_pending("send", params={"to": "x@y.example", "api_key": "sk-secret-123"})
    assert not queued and not mail.outbox  # nothing on the decision path: an outbox row
    assert deliver_outbox() == 1
    assert deliver_outbox() == 0  # delivered once
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["alex@corp.example", "blake@corp.example"]  # not sam
    message = mail.outbox[0]
    assert "mail.send_external" in message.subject
    assert "> Follow-up <b>after</b> the call." in message.body
    assert "sk-secret-123" not in message.body
    assert f"/approvals/{pending.pk}/" in message.body


def test_nobody_to_mail_sends_nothing(pending):
    from django.contrib.auth.models import Group

    Group.objects.get(name="Approvers").user_set.clear()
    assert approval_notify(pending.pk, reason="new") == 0


def test_a_request_decided_before_its_email_left_is_not_announced(pending, approver):
    from django.core import mail

    approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    mail.outbox.clear()
    assert deliver_outbox() == 1  # the message is done with...
    assert mail.outbox == []  # ...without asking anyone to decide a decided request
