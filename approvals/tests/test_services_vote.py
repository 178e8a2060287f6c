"""Votes on pending decisions: separation of duties, edits bound to a digest, resolution."""

import pytest

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast
from audit.models import AuditEvent
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import Decision
from governance.services import params_digest
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(decide):
    body = decide(
        action="mail.send_external",
        connector="mail",
        data_sources=["mail:outbox/1"],
        params={"to": "buyer@customer.example", "body": "20% off"},
    ).json()
    return ApprovalRequest.objects.get(pk=body["approval_id"])


@pytest.fixture
def critical(decide):
    body = decide(action="finance.modify_record", data_sources=[], params={"amount": 900}).json()
    return ApprovalRequest.objects.get(pk=body["approval_id"])


def test_approval_resolves_the_decision_and_records_the_approver(pending, approver):
    approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    decision = Decision.objects.get(pk=pending.decision_id)
    assert decision.status == "approved"
    assert decision.approval == "human:alex@corp.example"
    event = AuditEvent.objects.get(event_type="decision_approved")
    assert event.approval == "human:alex@corp.example"
    assert event.params_digest == event.approved_params_digest == decision.params_digest


def test_edited_params_are_what_the_agent_gets_with_their_digest(pending, approver):
    edited = {"to": "buyer@customer.example", "body": "standard pricing"}
    approval_vote_cast(pending.pk, voter=approver, verdict="approve", edited_params=edited)
    decision = Decision.objects.get(pk=pending.decision_id)
    assert decision.effective_params == edited
    assert decision.approved_params_digest == params_digest(edited)
    event = AuditEvent.objects.get(event_type="decision_approved")
    assert event.params_digest == params_digest({"to": "buyer@customer.example", "body": "20% off"})
    assert event.approved_params_digest == params_digest(edited)


def test_rejection_needs_a_reason(pending, approver):
    with pytest.raises(ValidationFailed):
        approval_vote_cast(pending.pk, voter=approver, verdict="reject", comment="  ")
    assert_nothing_changed(pending)


def test_rejection_resolves_the_decision_as_rejected(pending, approver):
    approval_vote_cast(pending.pk, voter=approver, verdict="reject", comment="Wrong recipient")
    assert Decision.objects.get(pk=pending.decision_id).status == "rejected"
    assert AuditEvent.objects.get(event_type="decision_rejected").detail["comment"] == (
        "Wrong recipient"
    )


def test_nobody_approves_a_request_made_on_their_own_behalf(pending, requester, policy):
    policy.approvers.user_set.add(requester)
    with pytest.raises(PermissionDenied, match="own behalf") as error:
        approval_vote_cast(pending.pk, voter=requester, verdict="approve")
    assert error.value.code == "own_request"
    assert_nothing_changed(pending)


def test_only_members_of_the_routed_group_vote(pending, auditor):
    with pytest.raises(PermissionDenied) as error:
        approval_vote_cast(pending.pk, voter=auditor, verdict="approve")
    assert error.value.code == "not_in_group"
    assert_nothing_changed(pending)


def test_a_resolved_request_takes_no_more_votes(pending, approver, second_approver):
    approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    with pytest.raises(Conflict) as error:
        approval_vote_cast(pending.pk, voter=second_approver, verdict="reject", comment="late")
    assert error.value.code == "already_resolved"


def test_critical_action_needs_two_distinct_approvers(critical, approver, second_approver):
    approval_vote_cast(critical.pk, voter=approver, verdict="approve")
    assert Decision.objects.get(pk=critical.decision_id).status == "pending"
    with pytest.raises(Conflict) as error:
        approval_vote_cast(critical.pk, voter=approver, verdict="approve")
    assert error.value.code == "already_voted"
    approval_vote_cast(critical.pk, voter=second_approver, verdict="approve")
    decision = Decision.objects.get(pk=critical.decision_id)
    assert decision.status == "approved"
    assert decision.approval == "human:alex@corp.example,blake@corp.example"


def test_an_edit_after_the_first_approval_needs_fresh_approvals(
    critical, approver, second_approver
):
    """The first approver approved other params than the final ones: it no longer counts."""
    approval_vote_cast(critical.pk, voter=approver, verdict="approve")
    approval_vote_cast(
        critical.pk, voter=second_approver, verdict="approve", edited_params={"amount": 100}
    )
    assert Decision.objects.get(pk=critical.decision_id).status == "pending"


def test_edited_params_must_be_an_object(pending, approver):
    with pytest.raises(ValidationFailed, match="JSON object"):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve", edited_params=[1])


def assert_nothing_changed(approval: ApprovalRequest) -> None:
    approval.refresh_from_db()
    assert approval.status == "pending"
    assert not approval.votes.exists()
    assert Decision.objects.get(pk=approval.decision_id).status == "pending"
    assert not AuditEvent.objects.filter(
        event_type__in=["decision_approved", "decision_rejected", "approval_vote_cast"]
    ).exists()


def test_a_deactivated_approver_cannot_vote_and_nothing_changes(pending, approver):
    approver.is_active = False
    approver.save()
    with pytest.raises(PermissionDenied) as error:
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    assert error.value.code == "not_in_group"
    assert_nothing_changed(pending)


def test_own_request_is_recognised_by_canonical_address_whatever_the_stored_case(pending, policy):
    """A decision that names its person only by address (no user id: recorded before the
    address was linked to a user) is still that person's own request when their stored
    address differs in case."""
    Decision.objects.filter(pk=pending.decision_id).update(
        on_behalf_of="pat@corp.example", on_behalf_of_user=None
    )
    pat = UserFactory(username="pat", email="Pat@Corp.Example", groups=[])
    policy.approvers.user_set.add(pat)
    with pytest.raises(PermissionDenied) as error:
        approval_vote_cast(pending.pk, voter=pat, verdict="approve")
    assert error.value.code == "own_request"
    assert_nothing_changed(pending)
