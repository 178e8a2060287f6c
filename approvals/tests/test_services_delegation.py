"""Out of office: an approver names a stand-in for a date range; requests routed to the
approver reach the stand-in, who votes under the ordinary rules. Audited."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from approvals.models import ApprovalDelegation, ApprovalVote
from approvals.notifications import NEW_REQUEST, approval_notify
from approvals.permissions import vote_refusal
from approvals.selectors import approval_request_list_decidable_by, inbox_count
from approvals.services import (
    approval_delegation_create,
    approval_delegation_end,
    approval_vote_cast,
)
from audit.models import AuditEvent
from governance.choices import Role
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.services import policy_revision_bump
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Alex is away from 2 to 4 December (both days included); the request is made on the 1st.
BEFORE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FIRST_DAY = datetime(2026, 12, 2, 0, 0, 30, tzinfo=UTC)
DURING = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LAST_DAY = datetime(2026, 12, 4, 23, 59, tzinfo=UTC)
AFTER = datetime(2026, 12, 5, 0, 0, 30, tzinfo=UTC)


@pytest.fixture
def stand_in(db):
    """Dana, an approver outside Finance approvers, who also sells (agents act for her)."""
    return UserFactory(username="dana", groups=[Role.APPROVER.value, "Sales"])


@pytest.fixture
def finance_request(policy, make_pending):
    """A critical finance entry for Sam, routed to Finance approvers, open for a week."""
    policy.action_types.finance.approval_ttl_minutes = 60 * 24 * 7
    policy.action_types.finance.save()
    policy_revision_bump()
    with time_machine.travel(BEFORE, tick=False):
        return make_pending("critical")


@pytest.fixture
def away(approver, stand_in):
    """Alex's stand-in, Dana, from 2 to 4 December."""
    with time_machine.travel(BEFORE, tick=False):
        return approval_delegation_create(
            actor=approver,
            stand_in=stand_in,
            starts_on=date(2026, 12, 2),
            ends_on=date(2026, 12, 4),
            note="Holiday",
        )


def config_events():
    return AuditEvent.objects.filter(object_type="approvals.approvaldelegation").order_by("id")


def test_naming_a_stand_in_is_audited(away, approver):
    (event,) = config_events()
    assert event.event_type == "config_created"
    assert event.actor == f"user:{approver.email}"
    assert event.object_id == str(away.pk)
    after = event.changes["after"]
    assert after["stand_in"] == "dana@corp.example"
    assert (after["starts_on"], after["ends_on"]) == ("2026-12-02", "2026-12-04")


@pytest.mark.parametrize(
    ("when", "reaches"),
    [(BEFORE, False), (FIRST_DAY, True), (DURING, True), (LAST_DAY, True), (AFTER, False)],
)
def test_requests_routed_to_the_approver_reach_the_stand_in_only_within_the_range(
    finance_request, away, stand_in, when, reaches
):
    with time_machine.travel(when, tick=False):
        inbox = approval_request_list_decidable_by(stand_in)
        assert (finance_request in inbox) is reaches
        assert inbox_count(stand_in) == (1 if reaches else 0)
        refusal = vote_refusal(stand_in, finance_request)
        assert (refusal is None) is reaches
        if not reaches:
            assert refusal[0] == "not_in_group"


def test_the_stand_in_votes_and_the_record_says_for_whom(finance_request, away, stand_in):
    with time_machine.travel(DURING, tick=False):
        approval_vote_cast(finance_request.pk, voter=stand_in, verdict="approve")
    vote = AuditEvent.objects.get(event_type="approval_vote_cast")
    assert vote.actor == "user:dana@corp.example"
    assert vote.detail["stand_in_for"] == ["alex@corp.example"]


def test_a_stand_in_vote_counts_once_beside_the_others(
    finance_request, away, stand_in, second_approver
):
    with time_machine.travel(DURING, tick=False):
        approval_vote_cast(finance_request.pk, voter=stand_in, verdict="approve")
        approval_vote_cast(finance_request.pk, voter=second_approver, verdict="approve")
    finance_request.refresh_from_db()
    assert finance_request.status == "approved"
    assert finance_request.decision.approval == "human:dana@corp.example,blake@corp.example"


def test_the_stand_in_cannot_approve_a_request_made_on_their_own_behalf(
    policy, approver, stand_in, make_pending
):
    policy.action_types.finance.approval_ttl_minutes = 60 * 24 * 7
    policy.action_types.finance.save()
    policy_revision_bump()
    with time_machine.travel(BEFORE, tick=False):
        own = make_pending("critical", on_behalf_of=stand_in.email)
        approval_delegation_create(
            actor=approver,
            stand_in=stand_in,
            starts_on=date(2026, 12, 2),
            ends_on=date(2026, 12, 4),
        )
    with time_machine.travel(DURING, tick=False):
        assert own not in approval_request_list_decidable_by(stand_in)
        with pytest.raises(PermissionDenied) as refused:
            approval_vote_cast(own.pk, voter=stand_in, verdict="approve")
        assert refused.value.code == "own_request"
    own.refresh_from_db()
    assert own.status == "pending"
    assert not ApprovalVote.objects.filter(request=own).exists()


def test_ending_early_is_audited_and_takes_the_requests_away(
    finance_request, away, approver, stand_in
):
    with time_machine.travel(DURING, tick=False):
        approval_delegation_end(away.pk, actor=approver)
        assert finance_request not in approval_request_list_decidable_by(stand_in)
        with pytest.raises(PermissionDenied):
            approval_vote_cast(finance_request.pk, voter=stand_in, verdict="approve")
    created, ended = config_events()
    assert ended.event_type == "config_updated"
    assert ended.changes["before"]["ended_at"] is None
    assert ended.changes["after"]["ended_at"].startswith("2026-12-03T12:00")
    with time_machine.travel(DURING, tick=False), pytest.raises(Conflict):
        approval_delegation_end(away.pk, actor=approver)
    assert config_events().count() == 2


def test_the_stand_in_may_decline_but_nobody_else_may_end_it(away, stand_in, second_approver):
    with time_machine.travel(DURING, tick=False):
        with pytest.raises(PermissionDenied):
            approval_delegation_end(away.pk, actor=second_approver)
        assert ApprovalDelegation.objects.get(pk=away.pk).ended_at is None
        approval_delegation_end(away.pk, actor=stand_in)
    assert ApprovalDelegation.objects.get(pk=away.pk).ended_by == stand_in


def test_the_stand_in_is_emailed_new_requests_while_in_force(finance_request, away, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(DURING, tick=False):
        approval_notify(finance_request.pk, reason=NEW_REQUEST)
    recipients = {m.to[0] for m in mail.outbox}
    assert "dana@corp.example" in recipients
    assert "alex@corp.example" in recipients


@pytest.mark.parametrize(
    ("who", "starts", "ends", "error", "message"),
    [
        ("self", date(2026, 12, 2), date(2026, 12, 4), ValidationFailed, "yourself"),
        ("outsider", date(2026, 12, 2), date(2026, 12, 4), ValidationFailed, "not an approver"),
        ("stand_in", date(2026, 12, 4), date(2026, 12, 2), ValidationFailed, "comes before"),
        ("stand_in", date(2026, 11, 1), date(2026, 11, 30), ValidationFailed, "over already"),
        ("stand_in", date(2026, 12, 2), date(2027, 6, 1), ValidationFailed, "at most 92 days"),
    ],
)
def test_a_stand_in_that_cannot_be_is_refused_and_nothing_is_written(
    approver, stand_in, outsider, who, starts, ends, error, message
):
    person = {"self": approver, "outsider": outsider, "stand_in": stand_in}[who]
    with time_machine.travel(BEFORE, tick=False), pytest.raises(error, match=message):
        approval_delegation_create(actor=approver, stand_in=person, starts_on=starts, ends_on=ends)
    assert not ApprovalDelegation.objects.exists()
    assert not config_events().exists()


def test_only_approvers_name_a_stand_in(outsider, stand_in):
    with time_machine.travel(BEFORE, tick=False), pytest.raises(PermissionDenied):
        approval_delegation_create(
            actor=outsider,
            stand_in=stand_in,
            starts_on=date(2026, 12, 2),
            ends_on=date(2026, 12, 3),
        )
    assert not ApprovalDelegation.objects.exists()


def test_an_overlapping_range_is_refused(away, approver, second_approver):
    with time_machine.travel(BEFORE, tick=False), pytest.raises(Conflict, match="already stands"):
        approval_delegation_create(
            actor=approver,
            stand_in=second_approver,
            starts_on=date(2026, 12, 4),
            ends_on=date(2026, 12, 9),
        )
    assert ApprovalDelegation.objects.count() == 1
    assert config_events().count() == 1


# The page ---------------------------------------------------------------------------


def test_the_out_of_office_page_names_a_stand_in(client, approver, stand_in):
    client.force_login(approver)
    with time_machine.travel(BEFORE, tick=False):
        response = client.post(
            reverse("approvals:delegation_list"),
            {"stand_in": stand_in.pk, "starts_on": "2026-12-02", "ends_on": "2026-12-04"},
            follow=True,
        )
    assert "dana@corp.example stands in for alex@corp.example" in response.content.decode()
    assert ApprovalDelegation.objects.get().stand_in == stand_in
    assert config_events().count() == 1


def test_the_page_shows_a_refusal_in_place(client, approver, stand_in, away):
    client.force_login(approver)
    with time_machine.travel(BEFORE, tick=False):
        response = client.post(
            reverse("approvals:delegation_list"),
            {"stand_in": stand_in.pk, "starts_on": "2026-12-03", "ends_on": "2026-12-06"},
        )
    assert response.status_code == 400
    assert "already stands in for you" in response.content.decode()
    assert ApprovalDelegation.objects.count() == 1


def test_someone_elses_delegation_cannot_be_ended_from_the_page(client, away, second_approver):
    client.force_login(second_approver)
    response = client.post(reverse("approvals:delegation_end", args=[away.pk]))
    assert response.status_code == 404
    assert ApprovalDelegation.objects.get(pk=away.pk).ended_at is None


def test_the_page_is_for_approvers(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("approvals:delegation_list")).status_code == 403
