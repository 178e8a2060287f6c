"""The vote service rule by rule (approvals/services.py): votes, quorum, edits bound to a
digest, refusals that change nothing, expiry, escalation, bulk approval and stand-ins,
on requests built with factories (no engine, no API: these run once per mutant in
`make mutation`). The end-to-end journeys are in test_services_vote.py and the views'
tests."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import ApprovalDelegation, ApprovalVote, WebhookDelivery
from approvals.services import (
    DELEGATION_MAX_DAYS,
    approval_bulk_approve,
    approval_delegation_create,
    approval_delegation_end,
    approval_request_build,
    approval_request_escalate,
    approval_request_expire,
    approval_vote_cast,
)
from approvals.tests.factories import ApprovalDelegationFactory, ApprovalRequestFactory
from audit.models import AuditEvent, OutboxMessage
from audit.sealing import digest
from governance import engine
from governance.choices import Impact, Role
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import Decision
from governance.selectors import Routing
from governance.tests.factories import (
    AgentRuntimeFactory,
    DecisionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.mutation]

# The request was made at 11:00 on 3 December; its SLA is due at 13:00, it expires at 15:00.
MADE = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
NOW = MADE + timedelta(hours=1)
PARAMS = {"to": "buyer@customer.example", "body": "20% off"}
EDITED = {"to": "buyer@customer.example", "body": "standard pricing"}


@pytest.fixture
def blake(approvers):
    return UserFactory(username="blake", groups=[Role.APPROVER.value, "Mail approvers"])


@pytest.fixture
def carol(approvers):
    return UserFactory(username="carol", groups=[Role.APPROVER.value, "Mail approvers"])


@pytest.fixture
def dana():
    """An approver outside Mail approvers."""
    return UserFactory(username="dana", groups=[Role.APPROVER.value])


def make_request(group, sam, *, needed=1, **decision_fields):
    return ApprovalRequestFactory(
        decision=DecisionFactory(on_behalf_of_user=sam, params=PARAMS, **decision_fields),
        group=group,
        approvals_needed=needed,
        created_at=MADE,
    )


@pytest.fixture
def request_(approvers, managers, sam):
    """Sam's e-mail, for Mail approvers, escalating to Managers, needing one approval."""
    approval = make_request(approvers, sam)
    approval.escalation_group = managers
    approval.save()
    return approval


@pytest.fixture
def critical(approvers, sam):
    """A request that needs two approvals."""
    return make_request(approvers, sam, needed=2)


def events(event_type):
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def assert_nothing_changed(approval) -> None:
    """A refused vote leaves no vote, no audit event, and the request and its decision as
    they were."""
    approval.refresh_from_db()
    assert approval.status == "pending"
    assert approval.resolved_at is None
    assert not approval.votes.exists()
    decision = Decision.objects.get(pk=approval.decision_id)
    assert (decision.status, decision.approval, decision.approved_params) == ("pending", "", None)
    assert decision.approved_params_digest == ""
    assert not AuditEvent.objects.exists()


# One approval ------------------------------------------------------------------------------


def test_an_approval_resolves_the_request_and_its_decision(request_, alex):
    returned = approval_vote_cast(
        request_.pk, voter=alex, verdict="approve", comment="Fine", now=NOW
    )
    assert returned.pk == request_.pk
    assert returned.status == "approved"
    request_.refresh_from_db()
    assert (request_.status, request_.resolved_at) == ("approved", NOW)
    decision = Decision.objects.get(pk=request_.decision_id)
    assert (decision.status, decision.resolved_at) == ("approved", NOW)
    assert decision.approval == "human:alex@corp.example"
    assert decision.approved_params is None
    assert decision.approved_params_digest == digest(PARAMS)

    vote = ApprovalVote.objects.get()
    assert (vote.request, vote.voter, vote.verdict, vote.comment) == (
        request_,
        alex,
        "approve",
        "Fine",
    )
    assert (vote.edited_params, vote.params_digest, vote.created_at) == (None, digest(PARAMS), NOW)

    (cast,) = events("approval_vote_cast")
    assert (cast.actor, cast.timestamp, cast.outcome) == ("user:alex@corp.example", NOW, "approve")
    assert cast.actor_user == alex
    assert cast.decision_id == decision.pk
    assert cast.approved_params_digest == digest(PARAMS)
    assert cast.detail == {"comment": "Fine", "edited": False}
    (approved,) = events("decision_approved")
    assert (approved.actor, approved.timestamp, approved.outcome) == (
        "user:alex@corp.example",
        NOW,
        "approved",
    )
    assert approved.approval == "human:alex@corp.example"
    assert approved.detail == {}
    assert cast.id < approved.id


def test_a_resolution_queues_the_webhook_of_a_runtime_that_has_one(approvers, sam, alex):
    runtime = AgentRuntimeFactory(callback_url="https://agent.example/hook")
    approval = ApprovalRequestFactory(
        decision=DecisionFactory(on_behalf_of_user=sam, runtime=runtime), group=approvers
    )
    approval_vote_cast(approval.pk, voter=alex, verdict="approve", now=approval.created_at)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.decision_id, delivery.url) == (approval.decision_id, runtime.callback_url)
    assert delivery.payload["decision"]["status"] == "approved"


def test_a_rejection_resolves_with_its_reason(request_, alex):
    approval_vote_cast(
        request_.pk, voter=alex, verdict="reject", comment="Wrong recipient", now=NOW
    )
    request_.refresh_from_db()
    assert (request_.status, request_.resolved_at) == ("rejected", NOW)
    decision = Decision.objects.get(pk=request_.decision_id)
    assert (decision.status, decision.resolved_at, decision.approval) == ("rejected", NOW, "")
    assert decision.approved_params_digest == ""
    vote = ApprovalVote.objects.get()
    assert (vote.verdict, vote.comment, vote.params_digest) == (
        "reject",
        "Wrong recipient",
        digest(PARAMS),
    )
    (cast,) = events("approval_vote_cast")
    assert (cast.outcome, cast.detail) == (
        "reject",
        {"comment": "Wrong recipient", "edited": False},
    )
    (rejected,) = events("decision_rejected")
    assert (rejected.actor, rejected.timestamp, rejected.outcome) == (
        "user:alex@corp.example",
        NOW,
        "rejected",
    )
    assert rejected.detail == {"comment": "Wrong recipient"}
    assert not events("decision_approved")


def test_a_rejection_ignores_edited_params(request_, alex):
    approval_vote_cast(
        request_.pk, voter=alex, verdict="reject", comment="No", edited_params=EDITED, now=NOW
    )
    decision = Decision.objects.get(pk=request_.decision_id)
    assert decision.approved_params is None
    vote = ApprovalVote.objects.get()
    assert (vote.edited_params, vote.params_digest) == (None, digest(PARAMS))
    assert events("approval_vote_cast")[0].detail["edited"] is False


def test_edited_params_are_what_the_agent_gets_with_their_digest(request_, alex):
    approval_vote_cast(request_.pk, voter=alex, verdict="approve", edited_params=EDITED, now=NOW)
    decision = Decision.objects.get(pk=request_.decision_id)
    assert decision.params == PARAMS
    assert decision.approved_params == EDITED
    assert decision.approved_params_digest == digest(EDITED)
    vote = ApprovalVote.objects.get()
    assert (vote.edited_params, vote.params_digest) == (EDITED, digest(EDITED))
    (cast,) = events("approval_vote_cast")
    assert cast.detail == {"comment": "", "edited": True}
    assert cast.approved_params_digest == digest(EDITED)
    assert events("decision_approved")[0].params_digest == digest(PARAMS)


# Quorum ----------------------------------------------------------------------------------


def test_two_approvals_needed_resolve_at_the_second_in_vote_order(critical, alex, blake):
    approval_vote_cast(critical.pk, voter=blake, verdict="approve", now=NOW)
    critical.refresh_from_db()
    assert critical.status == "pending"
    decision = Decision.objects.get(pk=critical.decision_id)
    assert (decision.status, decision.approval, decision.approved_params_digest) == (
        "pending",
        "",
        "",
    )
    assert not events("decision_approved")
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", now=NOW + timedelta(minutes=5))
    decision.refresh_from_db()
    assert decision.status == "approved"
    assert decision.approval == "human:blake@corp.example,alex@corp.example"


def test_approvers_are_named_in_the_order_of_their_votes_moments(critical, alex, blake):
    """Blake's vote is recorded as earlier (cast on a server whose clock is behind): the
    approval names the approvers by the moments of their votes."""
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", now=NOW + timedelta(minutes=5))
    approval_vote_cast(critical.pk, voter=blake, verdict="approve", now=NOW)
    decision = Decision.objects.get(pk=critical.decision_id)
    assert decision.approval == "human:blake@corp.example,alex@corp.example"


def test_the_final_vote_reads_the_approvers_at_once(approvers, sam, alex, blake, carol):
    """The queries of the deciding vote do not grow with the number of approvals needed."""
    two, three = make_request(approvers, sam, needed=2), make_request(approvers, sam, needed=3)
    approval_vote_cast(two.pk, voter=alex, verdict="approve", now=NOW)
    approval_vote_cast(three.pk, voter=alex, verdict="approve", now=NOW)
    approval_vote_cast(three.pk, voter=blake, verdict="approve", now=NOW)
    with CaptureQueriesContext(connection) as of_two:
        approval_vote_cast(two.pk, voter=carol, verdict="approve", now=NOW)
    with CaptureQueriesContext(connection) as of_three:
        approval_vote_cast(three.pk, voter=carol, verdict="approve", now=NOW)
    assert Decision.objects.get(pk=three.decision_id).approval == (
        "human:alex@corp.example,blake@corp.example,carol@corp.example"
    )
    assert len(of_three.captured_queries) == len(of_two.captured_queries)


def test_votes_at_the_same_moment_are_named_in_the_order_cast(critical, alex, blake):
    approval_vote_cast(critical.pk, voter=blake, verdict="approve", now=NOW)
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", now=NOW)
    decision = Decision.objects.get(pk=critical.decision_id)
    assert decision.approval == "human:blake@corp.example,alex@corp.example"


def test_an_edit_before_the_quorum_is_kept_and_the_next_approval_of_it_counts(
    critical, alex, blake
):
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", edited_params=EDITED, now=NOW)
    decision = Decision.objects.get(pk=critical.decision_id)
    assert decision.status == "pending"
    assert decision.approved_params == EDITED
    assert decision.approved_params_digest == ""
    # Blake approves what is now on the table: the edited params.
    approval_vote_cast(critical.pk, voter=blake, verdict="approve", now=NOW)
    decision.refresh_from_db()
    assert decision.status == "approved"
    assert decision.approval == "human:alex@corp.example,blake@corp.example"
    assert decision.approved_params == EDITED
    assert decision.approved_params_digest == digest(EDITED)
    assert ApprovalVote.objects.get(voter=blake).params_digest == digest(EDITED)


def test_an_edit_after_the_first_approval_needs_fresh_approvals(critical, alex, blake, carol):
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", now=NOW)
    approval_vote_cast(critical.pk, voter=blake, verdict="approve", edited_params=EDITED, now=NOW)
    assert Decision.objects.get(pk=critical.decision_id).status == "pending"
    approval_vote_cast(critical.pk, voter=carol, verdict="approve", now=NOW)
    decision = Decision.objects.get(pk=critical.decision_id)
    assert decision.status == "approved"
    assert decision.approval == "human:blake@corp.example,carol@corp.example"


def test_a_rejection_is_not_counted_as_an_approval(approvers, sam, alex, blake, carol):
    """Two approvals needed: an approval, then a rejection, resolves it as rejected."""
    approval = make_request(approvers, sam, needed=2)
    approval_vote_cast(approval.pk, voter=alex, verdict="approve", now=NOW)
    approval_vote_cast(approval.pk, voter=blake, verdict="reject", comment="No", now=NOW)
    decision = Decision.objects.get(pk=approval.decision_id)
    assert (decision.status, decision.approval) == ("rejected", "")


# Refusals change nothing -----------------------------------------------------------------


def test_a_request_made_on_your_own_behalf_is_refused(request_, sam, approvers):
    sam.groups.add(approvers)
    with pytest.raises(PermissionDenied) as error:
        approval_vote_cast(request_.pk, voter=sam, verdict="approve", now=NOW)
    assert (error.value.code, error.value.message) == (
        "own_request",
        "You cannot decide a request made on your own behalf.",
    )
    assert_nothing_changed(request_)


def test_someone_outside_the_group_is_refused(request_, dana):
    with pytest.raises(PermissionDenied) as error:
        approval_vote_cast(request_.pk, voter=dana, verdict="approve", now=NOW)
    assert (error.value.code, error.value.message) == (
        "not_in_group",
        "Only members of Mail approvers may decide this request.",
    )
    assert_nothing_changed(request_)


def test_a_second_vote_is_a_conflict(critical, alex):
    approval_vote_cast(critical.pk, voter=alex, verdict="approve", now=NOW)
    with pytest.raises(Conflict) as error:
        approval_vote_cast(critical.pk, voter=alex, verdict="reject", comment="No", now=NOW)
    assert (error.value.code, error.value.message) == (
        "already_voted",
        "You already voted on this request.",
    )
    assert ApprovalVote.objects.count() == 1
    assert Decision.objects.get(pk=critical.decision_id).status == "pending"


def test_a_resolved_request_is_a_conflict(request_, alex, blake):
    approval_vote_cast(request_.pk, voter=alex, verdict="approve", now=NOW)
    with pytest.raises(Conflict) as error:
        approval_vote_cast(request_.pk, voter=blake, verdict="reject", comment="Late", now=NOW)
    assert (error.value.code, error.value.message) == (
        "already_resolved",
        "This request was already approved.",
    )
    assert ApprovalVote.objects.count() == 1
    assert Decision.objects.get(pk=request_.decision_id).status == "approved"


def test_a_vote_after_the_expiry_finds_it_expired_and_the_expiry_stays(request_, alex):
    with pytest.raises(Conflict) as error:
        approval_vote_cast(request_.pk, voter=alex, verdict="approve", now=request_.expires_at)
    assert (error.value.code, error.value.message) == (
        "already_resolved",
        "This request was already expired.",
    )
    request_.refresh_from_db()
    assert request_.status == "expired"
    assert not request_.votes.exists()
    assert [e.actor for e in AuditEvent.objects.all()] == ["system"]


def test_the_verdict_is_approve_or_reject(request_, alex):
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(request_.pk, voter=alex, verdict="maybe", now=NOW)
    assert error.value.message == "verdict must be approve or reject."
    assert_nothing_changed(request_)


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_a_rejection_needs_a_reason(request_, alex, comment):
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(request_.pk, voter=alex, verdict="reject", comment=comment, now=NOW)
    assert error.value.message == (
        "Give a reason for the rejection; the agent and the requester will see it."
    )
    assert error.value.extra == {"fields": {"reason": ["A reason is required to reject."]}}
    assert_nothing_changed(request_)


def test_an_approval_needs_no_comment(request_, alex):
    approval_vote_cast(request_.pk, voter=alex, verdict="approve", comment="", now=NOW)
    assert Decision.objects.get(pk=request_.decision_id).status == "approved"


def test_a_comment_longer_than_the_limit_is_refused_not_cut(request_, alex):
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(request_.pk, voter=alex, verdict="reject", comment="x" * 2001, now=NOW)
    assert error.value.message == (
        "The comment is 2,001 characters long; the limit is 2,000. Shorten it."
    )
    assert error.value.extra == {"fields": {"comment": ["At most 2,000 characters."]}}
    assert_nothing_changed(request_)


def test_a_comment_of_exactly_the_limit_is_kept_whole(request_, alex):
    approval_vote_cast(request_.pk, voter=alex, verdict="reject", comment="x" * 2000, now=NOW)
    assert ApprovalVote.objects.get().comment == "x" * 2000


def test_edited_params_must_be_an_object(request_, alex):
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(request_.pk, voter=alex, verdict="approve", edited_params=[1], now=NOW)
    assert error.value.message == 'Edited params must be a JSON object, e.g. {"to": "a@b.example"}.'
    assert error.value.extra == {"fields": {"params": ["Must be a JSON object."]}}
    assert_nothing_changed(request_)


def test_edited_params_that_are_not_json_are_refused_naming_the_place(request_, alex):
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(
            request_.pk,
            voter=alex,
            verdict="approve",
            edited_params={"amount": math.nan},
            now=NOW,
        )
    assert error.value.message == "params.amount is not a finite number."
    assert error.value.extra == {"fields": {"params": ["params.amount is not a finite number."]}}
    assert isinstance(error.value.__cause__, ValueError)
    assert_nothing_changed(request_)


def test_edited_params_larger_than_the_limit_are_refused(request_, alex, settings):
    size = len('{"to": "buyer@customer.example", "body": "standard pricing"}')
    settings.GOVERNANCE = {**settings.GOVERNANCE, "MAX_PARAMS_BYTES": size - 1}
    with pytest.raises(ValidationFailed) as error:
        approval_vote_cast(
            request_.pk, voter=alex, verdict="approve", edited_params=EDITED, now=NOW
        )
    assert error.value.message == f"Edited params are larger than {size - 1} bytes."
    assert_nothing_changed(request_)
    settings.GOVERNANCE = {**settings.GOVERNANCE, "MAX_PARAMS_BYTES": size}
    approval_vote_cast(request_.pk, voter=alex, verdict="approve", edited_params=EDITED, now=NOW)
    assert Decision.objects.get(pk=request_.decision_id).approved_params == EDITED


# Stand-ins -------------------------------------------------------------------------------


def test_a_stand_ins_vote_says_for_whom(request_, alex, dana):
    ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=NOW.date(), ends_on=NOW.date()
    )
    approval_vote_cast(request_.pk, voter=dana, verdict="approve", now=NOW)
    (cast,) = events("approval_vote_cast")
    assert cast.detail == {"comment": "", "edited": False, "stand_in_for": ["alex@corp.example"]}
    assert Decision.objects.get(pk=request_.decision_id).approval == "human:dana@corp.example"


def test_a_member_who_is_also_a_stand_in_votes_as_themselves(request_, alex, blake):
    ApprovalDelegationFactory(
        delegator=alex, stand_in=blake, starts_on=NOW.date(), ends_on=NOW.date()
    )
    approval_vote_cast(request_.pk, voter=blake, verdict="approve", now=NOW)
    assert events("approval_vote_cast")[0].detail == {"comment": "", "edited": False}


def test_a_stand_in_votes_only_on_the_days_of_the_delegation(request_, alex, dana):
    ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=NOW.date(), ends_on=NOW.date()
    )
    with pytest.raises(PermissionDenied):
        approval_vote_cast(
            request_.pk, voter=dana, verdict="approve", now=MADE - timedelta(hours=12)
        )
    assert_nothing_changed(request_)


# Expiry ----------------------------------------------------------------------------------


def test_a_request_expires_when_its_time_is_up_once(request_):
    expires = request_.expires_at
    assert approval_request_expire(request_.pk, now=expires - timedelta(seconds=1)) is False
    request_.refresh_from_db()
    assert request_.status == "pending"
    assert approval_request_expire(request_.pk, now=expires) is True
    assert approval_request_expire(request_.pk, now=expires + timedelta(hours=1)) is False
    request_.refresh_from_db()
    assert (request_.status, request_.resolved_at) == ("expired", expires)
    decision = Decision.objects.get(pk=request_.decision_id)
    assert (decision.status, decision.resolved_at, decision.approval) == ("expired", expires, "")
    (expired,) = AuditEvent.objects.all()
    assert (expired.event_type, expired.actor, expired.timestamp, expired.outcome) == (
        "decision_expired",
        "system",
        expires,
        "expired",
    )
    assert expired.detail == {}


def test_expiring_one_request_leaves_the_others_alone(request_, approvers, sam):
    """Another request, overdue since earlier, is the periodic task's business."""
    earlier = ApprovalRequestFactory(
        decision=DecisionFactory(on_behalf_of_user=sam),
        group=approvers,
        created_at=MADE - timedelta(hours=1),
    )
    assert approval_request_expire(request_.pk, now=request_.expires_at) is True
    request_.refresh_from_db()
    earlier.refresh_from_db()
    assert (request_.status, earlier.status) == ("expired", "pending")


def test_expiry_reads_the_clock_when_no_moment_is_given(request_):
    with time_machine.travel(request_.expires_at - timedelta(minutes=1), tick=False):
        assert approval_request_expire(request_.pk) is False
    with time_machine.travel(request_.expires_at, tick=False):
        assert approval_request_expire(request_.pk) is True


def test_a_decided_request_does_not_expire(request_, alex):
    approval_vote_cast(request_.pk, voter=alex, verdict="approve", now=NOW)
    assert approval_request_expire(request_.pk, now=request_.expires_at) is False
    request_.refresh_from_db()
    assert request_.status == "approved"
    assert not events("decision_expired")


# Escalation -------------------------------------------------------------------------------


def test_a_request_escalates_once_at_its_sla(request_):
    due = request_.sla_due_at
    assert approval_request_escalate(request_.pk, now=due - timedelta(seconds=1)) is False
    assert approval_request_escalate(request_.pk, now=due) is True
    assert approval_request_escalate(request_.pk, now=due + timedelta(minutes=1)) is False
    request_.refresh_from_db()
    assert request_.escalated_at == due
    assert request_.status == "pending"
    (escalated,) = AuditEvent.objects.all()
    assert (escalated.event_type, escalated.actor, escalated.timestamp, escalated.outcome) == (
        "approval_escalated",
        "system",
        due,
        "escalated",
    )
    assert escalated.decision_id == request_.decision_id
    assert escalated.detail == {
        "group": "Mail approvers",
        "escalation_group": "Managers",
        "sla_due_at": due.isoformat(),
    }
    (message,) = OutboxMessage.objects.all()
    assert message.topic == "approval.notify"
    assert message.payload == {"approval_id": request_.pk, "reason": "escalated"}


def test_escalation_without_escalation_group_reminds_the_group(approvers, sam):
    approval = make_request(approvers, sam)
    assert approval_request_escalate(approval.pk, now=approval.sla_due_at) is True
    assert AuditEvent.objects.get().detail["escalation_group"] is None


def test_an_expired_or_decided_request_does_not_escalate(request_, approvers, sam, alex):
    assert approval_request_escalate(request_.pk, now=request_.expires_at) is False
    other = make_request(approvers, sam)
    approval_vote_cast(other.pk, voter=alex, verdict="approve", now=NOW)
    assert approval_request_escalate(other.pk, now=other.sla_due_at) is False
    assert not events("approval_escalated")
    assert not OutboxMessage.objects.exists()


def test_escalation_reads_the_clock_when_no_moment_is_given(request_):
    with time_machine.travel(request_.sla_due_at - timedelta(minutes=1), tick=False):
        assert approval_request_escalate(request_.pk) is False
    with time_machine.travel(request_.sla_due_at, tick=False):
        assert approval_request_escalate(request_.pk) is True


def test_the_escalation_group_may_vote_after_escalation(request_):
    boss = UserFactory(username="boss", groups=["Managers"])
    with pytest.raises(PermissionDenied):
        approval_vote_cast(request_.pk, voter=boss, verdict="approve", now=NOW)
    approval_request_escalate(request_.pk, now=request_.sla_due_at)
    approval_vote_cast(request_.pk, voter=boss, verdict="approve", now=request_.sla_due_at)
    assert Decision.objects.get(pk=request_.decision_id).approval == "human:boss@corp.example"


# Routing a new request ----------------------------------------------------------------------


def verdict(**fields):
    return engine.Verdict(
        outcome=engine.Outcome.PENDING,
        reason=engine.Reason.HIGH_IMPACT_OR_IRREVERSIBLE,
        message="A person decides.",
        approvals_needed=fields.pop("approvals_needed", 2),
        approval_ttl_minutes=fields.pop("approval_ttl_minutes", 240),
    )


@pytest.mark.parametrize(
    ("routing", "sla_minutes"),
    [
        (None, 120),
        (Routing(escalation_group_id=None, sla_minutes=None), 120),
        (Routing(escalation_group_id=None, sla_minutes=0), 120),
        (Routing(escalation_group_id=None, sla_minutes=30), 30),
        (Routing(escalation_group_id=None, sla_minutes=600), 240),
    ],
)
def test_a_new_request_expires_after_its_ttl_with_an_sla_within_it(approvers, routing, sla_minutes):
    decision = DecisionFactory.build()
    approval, notification = approval_request_build(
        decision=decision, verdict=verdict(), group_id=approvers.pk, routing=routing, now=NOW
    )
    assert approval.pk is None
    assert (approval.decision, approval.group_id, approval.approvals_needed) == (
        decision,
        approvers.pk,
        2,
    )
    assert approval.escalation_group_id is None
    assert (approval.created_at, approval.expires_at) == (NOW, NOW + timedelta(minutes=240))
    assert approval.sla_due_at == NOW + timedelta(minutes=sla_minutes)
    assert approval.status == "pending"
    assert notification.pk is None
    assert (notification.topic, notification.payload) == ("approval.notify", {"reason": "new"})
    assert (notification.created_at, notification.available_at) == (NOW, NOW)


def test_a_new_request_escalates_to_the_routed_escalation_group(approvers, managers):
    approval, _ = approval_request_build(
        decision=DecisionFactory.build(),
        verdict=verdict(),
        group_id=approvers.pk,
        routing=Routing(escalation_group_id=managers.pk, sla_minutes=30),
        now=NOW,
    )
    assert approval.escalation_group_id == managers.pk


# Bulk approval ------------------------------------------------------------------------------


def test_bulk_approval_approves_the_low_reversible_ones_and_says_why_not_the_others(
    approvers, sam, alex
):
    low = [make_request(approvers, sam, impact=Impact.LOW, reversible=True) for _ in range(2)]
    high = make_request(approvers, sam, impact=Impact.HIGH, reversible=True)
    irreversible = make_request(approvers, sam, impact=Impact.LOW, reversible=False)
    unknown = make_request(approvers, sam, impact=Impact.LOW, reversible=None)
    own = make_request(approvers, alex, impact=Impact.LOW, reversible=True)
    ids = [low[1].pk, 999_999, high.pk, irreversible.pk, unknown.pk, own.pk, low[0].pk]
    with time_machine.travel(NOW, tick=False):
        result = approval_bulk_approve(ids, voter=alex, comment="Routine")
    assert result.approved == [low[1].pk, low[0].pk]
    only = "Only low-impact, reversible requests can be bulk-approved."
    assert result.refused == {
        999_999: "No such request.",
        high.pk: only,
        irreversible.pk: only,
        unknown.pk: only,
        own.pk: "You cannot decide a request made on your own behalf.",
    }
    for approval in low:
        decision = Decision.objects.get(pk=approval.decision_id)
        assert (decision.status, decision.approval) == ("approved", "human:alex@corp.example")
        assert ApprovalVote.objects.get(request=approval).comment == "Routine"
    assert ApprovalVote.objects.count() == 2


def test_bulk_approval_without_a_comment_leaves_none(approvers, sam, alex):
    approval = make_request(approvers, sam, impact=Impact.LOW, reversible=True)
    with time_machine.travel(NOW, tick=False):
        assert approval_bulk_approve([approval.pk], voter=alex).approved == [approval.pk]
    assert ApprovalVote.objects.get().comment == ""
    assert events("approval_vote_cast")[0].detail["comment"] == ""


def test_bulk_approval_reads_the_requests_at_once(approvers, sam, alex):
    """The queries of a bulk approval do not grow with the requests it refuses."""
    one = [make_request(approvers, sam, impact=Impact.HIGH, reversible=True)]
    four = [make_request(approvers, sam, impact=Impact.HIGH, reversible=True) for _ in range(4)]
    with CaptureQueriesContext(connection) as of_one:
        approval_bulk_approve([r.pk for r in one], voter=alex)
    with CaptureQueriesContext(connection) as of_four:
        result = approval_bulk_approve([r.pk for r in four], voter=alex)
    assert len(result.refused) == 4
    assert len(of_four.captured_queries) == len(of_one.captured_queries)


# Stand-ins: naming and ending ---------------------------------------------------------------

TODAY = date(2026, 12, 3)


def delegation_events():
    return list(
        AuditEvent.objects.filter(object_type="approvals.approvaldelegation").order_by("id")
    )


def test_naming_a_stand_in_is_recorded_and_audited(alex, dana):
    delegation = approval_delegation_create(
        actor=alex,
        stand_in=dana,
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=2),
        note="  Holiday ",
        now=NOW,
    )
    delegation.refresh_from_db()
    assert (delegation.delegator, delegation.stand_in) == (alex, dana)
    assert (delegation.starts_on, delegation.ends_on) == (TODAY, TODAY + timedelta(days=2))
    assert (delegation.note, delegation.created_at, delegation.ended_at) == ("Holiday", NOW, None)
    (event,) = delegation_events()
    assert (event.event_type, event.actor, event.object_id) == (
        "config_created",
        "user:alex@corp.example",
        str(delegation.pk),
    )
    assert event.changes["after"]["stand_in"] == "dana@corp.example"


def test_naming_a_stand_in_reads_the_clock_when_no_moment_is_given(alex, dana):
    with time_machine.travel(NOW, tick=False):
        delegation = approval_delegation_create(
            actor=alex, stand_in=dana, starts_on=TODAY, ends_on=TODAY
        )
    assert delegation.created_at == NOW
    assert delegation.note == ""


@pytest.mark.parametrize(
    ("who", "error", "message"),
    [
        ("outsider", PermissionDenied, "Only approvers name a stand-in."),
        ("self", ValidationFailed, "You cannot stand in for yourself."),
        ("not approver", ValidationFailed, "is not an approver; choose someone"),
    ],
)
def test_a_stand_in_that_cannot_be_is_refused_and_nothing_is_written(
    alex, dana, who, error, message
):
    actor, stand_in = alex, dana
    if who == "outsider":
        actor = UserFactory(username="oscar")
    elif who == "self":
        stand_in = alex
    else:
        stand_in = UserFactory(username="oscar")
    with pytest.raises(error, match=message):
        approval_delegation_create(
            actor=actor, stand_in=stand_in, starts_on=TODAY, ends_on=TODAY, now=NOW
        )
    assert not ApprovalDelegation.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "message"),
    [
        (TODAY, TODAY - timedelta(days=1), "The last day comes before the first day."),
        (
            TODAY - timedelta(days=3),
            TODAY - timedelta(days=1),
            "That range is over already; choose today or a later day.",
        ),
        (
            TODAY,
            TODAY + timedelta(days=DELEGATION_MAX_DAYS),
            "A stand-in covers at most 92 days at a time.",
        ),
    ],
)
def test_a_range_that_cannot_be_is_refused(alex, dana, starts_on, ends_on, message):
    with pytest.raises(ValidationFailed) as error:
        approval_delegation_create(
            actor=alex, stand_in=dana, starts_on=starts_on, ends_on=ends_on, now=NOW
        )
    assert error.value.message == message
    assert not ApprovalDelegation.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (TODAY - timedelta(days=3), TODAY),
        (TODAY, TODAY + timedelta(days=DELEGATION_MAX_DAYS - 1)),
    ],
)
def test_a_range_ending_today_or_of_the_longest_length_is_accepted(alex, dana, starts_on, ends_on):
    approval_delegation_create(
        actor=alex, stand_in=dana, starts_on=starts_on, ends_on=ends_on, now=NOW
    )
    assert ApprovalDelegation.objects.count() == 1


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "overlaps"),
    [
        (date(2026, 12, 3), date(2026, 12, 5), True),
        (date(2026, 12, 8), date(2026, 12, 9), True),
        (date(2026, 12, 4), date(2026, 12, 6), True),
        (date(2026, 12, 3), date(2026, 12, 4), False),
        (date(2026, 12, 9), date(2026, 12, 10), False),
    ],
)
def test_one_stand_in_at_a_time(alex, dana, blake, starts_on, ends_on, overlaps):
    """Blake stands in for Alex from the 5th to the 8th."""
    approval_delegation_create(
        actor=alex, stand_in=blake, starts_on=date(2026, 12, 5), ends_on=date(2026, 12, 8), now=NOW
    )
    if not overlaps:
        approval_delegation_create(
            actor=alex, stand_in=dana, starts_on=starts_on, ends_on=ends_on, now=NOW
        )
        assert ApprovalDelegation.objects.count() == 2
        return
    with pytest.raises(Conflict) as error:
        approval_delegation_create(
            actor=alex, stand_in=dana, starts_on=starts_on, ends_on=ends_on, now=NOW
        )
    assert error.value.code == "delegation_overlaps"
    assert error.value.message == (
        "blake@corp.example already stands in for you from 2026-12-05 to 2026-12-08; "
        "end that first."
    )
    assert ApprovalDelegation.objects.count() == 1


def test_a_delegation_ended_early_or_someone_elses_does_not_overlap(alex, dana, blake):
    ApprovalDelegationFactory(
        delegator=alex, stand_in=blake, starts_on=TODAY, ends_on=TODAY, ended_at=NOW
    )
    ApprovalDelegationFactory(delegator=blake, stand_in=dana, starts_on=TODAY, ends_on=TODAY)
    approval_delegation_create(actor=alex, stand_in=dana, starts_on=TODAY, ends_on=TODAY, now=NOW)
    assert ApprovalDelegation.objects.filter(delegator=alex, ended_at__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["delegator", "stand-in"])
def test_ending_a_delegation_is_recorded_and_audited(alex, dana, who):
    delegation = ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=TODAY, ends_on=TODAY + timedelta(days=1)
    )
    actor = alex if who == "delegator" else dana
    ended = approval_delegation_end(delegation.pk, actor=actor, now=NOW)
    assert ended.pk == delegation.pk
    delegation.refresh_from_db()
    assert (delegation.ended_at, delegation.ended_by) == (NOW, actor)
    (event,) = delegation_events()
    assert (event.event_type, event.actor) == ("config_updated", f"user:{actor.email}")
    assert event.changes["before"]["ended_at"] is None
    assert event.changes["after"]["ended_at"] == NOW.isoformat()


def test_ending_reads_the_clock_when_no_moment_is_given(alex, dana):
    delegation = ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=TODAY, ends_on=TODAY
    )
    with time_machine.travel(NOW, tick=False):
        approval_delegation_end(delegation.pk, actor=alex)
    delegation.refresh_from_db()
    assert delegation.ended_at == NOW


def test_only_the_two_people_end_a_delegation(alex, dana, blake):
    delegation = ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=TODAY, ends_on=TODAY
    )
    with pytest.raises(PermissionDenied) as error:
        approval_delegation_end(delegation.pk, actor=blake, now=NOW)
    assert error.value.message == "Only the approver or their stand-in may end this."
    delegation.refresh_from_db()
    assert delegation.ended_at is None
    assert not delegation_events()


@pytest.mark.parametrize(
    ("ends_on", "ended_at"),
    [(TODAY - timedelta(days=1), None), (TODAY, MADE)],
)
def test_a_delegation_that_is_over_cannot_be_ended_again(alex, dana, ends_on, ended_at):
    delegation = ApprovalDelegationFactory(
        delegator=alex,
        stand_in=dana,
        starts_on=TODAY - timedelta(days=2),
        ends_on=ends_on,
        ended_at=ended_at,
    )
    with pytest.raises(Conflict) as error:
        approval_delegation_end(delegation.pk, actor=alex, now=NOW)
    assert (error.value.code, error.value.message) == (
        "delegation_ended",
        "This delegation has ended already.",
    )
    delegation.refresh_from_db()
    assert delegation.ended_at == ended_at
    assert not delegation_events()


def test_a_delegation_on_its_last_day_can_be_ended(alex, dana):
    delegation = ApprovalDelegationFactory(
        delegator=alex, stand_in=dana, starts_on=TODAY - timedelta(days=2), ends_on=TODAY
    )
    approval_delegation_end(delegation.pk, actor=alex, now=NOW)
    delegation.refresh_from_db()
    assert delegation.ended_at == NOW
