"""Who may vote on an approval request, and who may name or end a stand-in
(approvals/permissions.py), on requests built with factories: no engine, no API.

Each refusal is a (code, message) pair that the inbox and the API show as they are."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from approvals.models import ApprovalDelegation
from approvals.permissions import (
    can_decide_group,
    can_end_delegation,
    delegation_stand_in_refusal,
    delegation_visible_q,
    delegations_to,
    is_own_request,
    stand_in_for,
    vote_refusal,
)
from approvals.tests.factories import ApprovalDelegationFactory, ApprovalRequestFactory
from governance.choices import Role
from governance.tests.factories import (
    ActionTypeFactory,
    AgentRuntimeFactory,
    DecisionFactory,
    GroupFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.mutation]

# The request is decided on Thursday 3 December; Alex is away from the 2nd to the 4th.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AWAY = (date(2026, 12, 2), date(2026, 12, 4))


@pytest.fixture
def request_(approvers, managers, sam):
    """A pending request made for Sam, routed to Mail approvers, escalating to Managers."""
    return ApprovalRequestFactory(
        decision=DecisionFactory(on_behalf_of_user=sam),
        group=approvers,
        escalation_group=managers,
        created_at=NOW - timedelta(hours=1),
    )


@pytest.fixture
def dana():
    """An approver outside the routed group: Alex's stand-in while Alex is away."""
    return UserFactory(username="dana", groups=[Role.APPROVER.value])


def delegate(delegator, stand_in, days=AWAY, **fields) -> ApprovalDelegation:
    return ApprovalDelegationFactory(
        delegator=delegator, stand_in=stand_in, starts_on=days[0], ends_on=days[1], **fields
    )


# Voting -----------------------------------------------------------------------------


def test_a_member_of_the_routed_group_may_vote(request_, alex):
    assert vote_refusal(alex, request_, now=NOW) is None


@pytest.mark.parametrize("who", ["anonymous", "runtime", "inactive"])
def test_only_active_people_vote(request_, alex, who):
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "runtime":
        user = AgentRuntimeFactory()
    else:
        alex.is_active = False
        alex.save()
        user = alex
    assert vote_refusal(user, request_, now=NOW) == (
        "not_in_group",
        "Only people in the approver group may decide this request.",
    )


@pytest.mark.parametrize("status", ["approved", "rejected", "expired"])
def test_a_resolved_request_says_how_it_ended(request_, alex, status):
    request_.status = status
    request_.save()
    assert vote_refusal(alex, request_, now=NOW) == (
        "already_resolved",
        f"This request was already {status}.",
    )


def test_nobody_decides_a_request_made_on_their_own_behalf(request_, sam, approvers):
    sam.groups.add(approvers)
    assert vote_refusal(sam, request_, now=NOW) == (
        "own_request",
        "You cannot decide a request made on your own behalf.",
    )


def test_own_request_by_user_id_after_the_person_changed_address(request_, sam, approvers):
    """The decision names Sam's user: a new address does not make it someone else's."""
    sam.email = "samuel@corp.example"
    sam.save()
    sam.groups.add(approvers)
    assert is_own_request(sam, request_.decision)
    assert vote_refusal(sam, request_, now=NOW)[0] == "own_request"


def test_an_address_that_passed_to_another_person_is_not_their_own_request(
    request_, sam, approvers
):
    """By user id when both are known: the decision was Sam's, not the new holder's."""
    sam.email = "sam.old@corp.example"
    sam.save()
    successor = UserFactory(username="sam2", email="sam@corp.example", groups=["Mail approvers"])
    assert request_.decision.on_behalf_of == successor.email_key
    assert not is_own_request(successor, request_.decision)
    assert vote_refusal(successor, request_, now=NOW) is None


def test_own_request_by_canonical_address_when_the_decision_names_no_user(approvers):
    pat = UserFactory(username="pat", email="Pat@Corp.Example", groups=["Mail approvers"])
    request_ = ApprovalRequestFactory(
        decision=DecisionFactory(on_behalf_of_user=None, on_behalf_of="pat@corp.example"),
        group=approvers,
    )
    assert vote_refusal(pat, request_, now=NOW) == (
        "own_request",
        "You cannot decide a request made on your own behalf.",
    )


def test_a_person_without_an_address_is_never_taken_for_the_requester(approvers):
    nameless = UserFactory(username="nameless", email="", groups=["Mail approvers"])
    decision = DecisionFactory(on_behalf_of_user=None, on_behalf_of="")
    assert not is_own_request(nameless, decision)


def test_nobody_votes_twice(request_, alex):
    request_.votes.create(voter=alex, verdict="approve", created_at=NOW)
    assert vote_refusal(alex, request_, now=NOW) == (
        "already_voted",
        "You already voted on this request.",
    )


def test_another_approvers_vote_does_not_count_as_yours(request_, alex, approvers):
    blake = UserFactory(username="blake", groups=["Mail approvers"])
    request_.votes.create(voter=blake, verdict="approve", created_at=NOW)
    assert vote_refusal(alex, request_, now=NOW) is None


def test_outside_the_routed_group_the_refusal_names_the_group(request_, dana):
    assert vote_refusal(dana, request_, now=NOW) == (
        "not_in_group",
        "Only members of Mail approvers may decide this request.",
    )


def test_the_escalation_group_decides_only_once_escalated(request_, managers):
    boss = UserFactory(username="boss", groups=["Managers"])
    assert not can_decide_group(boss, request_, now=NOW)
    request_.escalated_at = NOW
    assert can_decide_group(boss, request_, now=NOW)
    assert vote_refusal(boss, request_, now=NOW) is None


def test_an_escalated_request_without_escalation_group_stays_with_its_group(approvers):
    request_ = ApprovalRequestFactory(group=approvers, escalated_at=NOW)
    outsider = UserFactory(username="oscar", groups=["Managers"])
    assert not can_decide_group(outsider, request_, now=NOW)


# Stand-ins -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "stands_in"),
    [
        (datetime(2026, 12, 1, 23, 59, tzinfo=UTC), False),
        (datetime(2026, 12, 2, 0, 0, tzinfo=UTC), True),
        (NOW, True),
        (datetime(2026, 12, 4, 23, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 5, 0, 0, tzinfo=UTC), False),
    ],
)
def test_a_stand_in_decides_on_the_days_of_the_delegation_only(
    request_, alex, dana, moment, stands_in
):
    delegate(alex, dana)
    assert stand_in_for(dana, request_, now=moment) == (["alex@corp.example"] if stands_in else [])
    assert can_decide_group(dana, request_, now=moment) is stands_in
    assert (vote_refusal(dana, request_, now=moment) is None) is stands_in


def test_without_a_moment_the_stand_in_rules_use_the_clock(request_, alex, dana):
    delegate(alex, dana)
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tick=False):
        assert stand_in_for(dana, request_) == []
        assert vote_refusal(dana, request_)[0] == "not_in_group"
    with time_machine.travel(NOW, tick=False):
        assert stand_in_for(dana, request_) == ["alex@corp.example"]
        assert vote_refusal(dana, request_) is None


def test_a_delegation_ended_early_makes_no_stand_in(request_, alex, dana):
    delegate(alex, dana, ended_at=NOW - timedelta(hours=2))
    assert stand_in_for(dana, request_, now=NOW) == []
    assert vote_refusal(dana, request_, now=NOW)[0] == "not_in_group"


def test_a_stand_in_for_someone_outside_the_deciding_groups_may_not_vote(request_, dana):
    lee = UserFactory(username="lee", groups=["Leadership"])
    delegate(lee, dana)
    assert stand_in_for(dana, request_, now=NOW) == []
    assert vote_refusal(dana, request_, now=NOW) == (
        "not_in_group",
        "Only members of Mail approvers may decide this request.",
    )


def test_a_stand_in_for_a_deactivated_approver_may_not_vote(request_, alex, dana):
    delegate(alex, dana)
    alex.is_active = False
    alex.save()
    assert stand_in_for(dana, request_, now=NOW) == []
    assert not can_decide_group(dana, request_, now=NOW)


def test_a_stand_in_for_the_escalation_group_decides_once_escalated(request_, dana, managers):
    boss = UserFactory(username="boss", groups=["Managers"])
    delegate(boss, dana)
    assert stand_in_for(dana, request_, now=NOW) == []
    request_.escalated_at = NOW
    assert stand_in_for(dana, request_, now=NOW) == ["boss@corp.example"]


def test_a_stand_in_for_several_approvers_names_each_once_in_order(request_, alex, dana, managers):
    """Blake is in both deciding groups: named once."""
    blake = UserFactory(username="blake", groups=["Mail approvers", "Managers"])
    delegate(blake, dana)
    delegate(alex, dana)
    request_.escalated_at = NOW
    assert stand_in_for(dana, request_, now=NOW) == ["alex@corp.example", "blake@corp.example"]


def test_a_stand_in_is_not_made_by_someone_elses_delegation(request_, alex, dana):
    """Alex's stand-in is Dana, not Erin."""
    erin = UserFactory(username="erin", groups=[Role.APPROVER.value])
    delegate(alex, dana)
    assert stand_in_for(erin, request_, now=NOW) == []
    assert list(delegations_to(erin, NOW.date())) == []
    assert [d.delegator for d in delegations_to(dana, NOW.date())] == [alex]


def test_nobody_but_a_person_stands_in(request_):
    assert stand_in_for(AnonymousUser(), request_, now=NOW) == []


def test_a_stand_in_may_not_decide_a_request_made_on_their_own_behalf(request_, alex, sam):
    delegate(alex, sam)
    assert stand_in_for(sam, request_, now=NOW) == ["alex@corp.example"]
    assert vote_refusal(sam, request_, now=NOW)[0] == "own_request"


# Naming and ending a stand-in ------------------------------------------------------------


def test_an_approver_may_name_another_active_approver(alex, dana):
    assert delegation_stand_in_refusal(alex, dana) is None


def test_an_approver_by_action_type_group_may_name_a_stand_in(dana):
    """Fay works the inbox as the approver group of an action type, not by role."""
    ActionTypeFactory(approver_group=GroupFactory(name="Finance approvers"))
    fay = UserFactory(username="fay", groups=["Finance approvers"])
    assert delegation_stand_in_refusal(fay, dana) is None
    assert delegation_stand_in_refusal(dana, fay) is None


@pytest.mark.parametrize("actor", ["anonymous", "not an approver"])
def test_only_approvers_name_a_stand_in(dana, actor):
    user = AnonymousUser() if actor == "anonymous" else UserFactory(username="oscar")
    assert delegation_stand_in_refusal(user, dana) == "Only approvers name a stand-in."


@pytest.mark.parametrize("stand_in", ["nobody", "anonymous", "runtime", "inactive"])
def test_the_stand_in_is_an_active_person(alex, dana, stand_in):
    if stand_in == "nobody":
        chosen = None
    elif stand_in == "anonymous":
        chosen = AnonymousUser()
    elif stand_in == "runtime":
        chosen = AgentRuntimeFactory()
    else:
        dana.is_active = False
        dana.save()
        chosen = dana
    assert delegation_stand_in_refusal(alex, chosen) == "Choose an active person as your stand-in."


def test_nobody_stands_in_for_themselves(alex):
    assert delegation_stand_in_refusal(alex, alex) == "You cannot stand in for yourself."


def test_the_stand_in_works_the_inbox(alex):
    oscar = UserFactory(username="oscar")
    assert delegation_stand_in_refusal(alex, oscar) == (
        "oscar@corp.example is not an approver; choose someone who works the inbox."
    )


def test_the_approver_or_the_stand_in_ends_a_delegation(alex, dana):
    delegation = delegate(alex, dana)
    assert can_end_delegation(alex, delegation)
    assert can_end_delegation(dana, delegation)
    assert not can_end_delegation(UserFactory(username="erin"), delegation)
    assert not can_end_delegation(AnonymousUser(), delegation)


def test_a_delegation_is_visible_to_its_two_people_only(alex, dana):
    delegation = delegate(alex, dana)
    erin = UserFactory(username="erin")
    for person, sees in [(alex, True), (dana, True), (erin, False)]:
        visible = ApprovalDelegation.objects.filter(delegation_visible_q(person))
        assert list(visible) == ([delegation] if sees else [])
