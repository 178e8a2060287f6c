"""Two approvers acting on the same request at the same moment get exactly one final
state and one resolution event. Real threads, real PostgreSQL row locks."""

import threading

import pytest
from django.db import connection

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast
from audit.models import AuditEvent
from governance.exceptions import ApplicationError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RESOLUTIONS = ("decision_approved", "decision_rejected", "decision_expired")


def race(approval_id: int, votes: list[tuple]) -> list[str]:
    """Run each (voter, verdict) in its own thread and connection, released together."""
    barrier = threading.Barrier(len(votes))
    results: list[str] = [""] * len(votes)

    def vote(index, voter, verdict):
        try:
            barrier.wait(timeout=10)
            approval_vote_cast(approval_id, voter=voter, verdict=verdict, comment="race")
            results[index] = "ok"
        except ApplicationError as error:
            results[index] = error.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=vote, args=(i, voter, verdict))
        for i, (voter, verdict) in enumerate(votes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def resolution_events(approval: ApprovalRequest) -> int:
    return AuditEvent.objects.filter(
        decision_id=approval.decision_id, event_type__in=RESOLUTIONS
    ).count()


@pytest.mark.parametrize("round_", range(5))
def test_approve_against_reject_resolves_once(make_pending, approver, second_approver, round_):
    approval = make_pending("send")
    results = race(approval.pk, [(approver, "approve"), (second_approver, "reject")])
    assert sorted(results) == ["already_resolved", "ok"]
    approval.refresh_from_db()
    assert approval.status in ("approved", "rejected")
    assert resolution_events(approval) == 1
    assert approval.votes.count() == 1


@pytest.mark.parametrize("round_", range(5))
def test_approve_against_approve_resolves_once(make_pending, approver, second_approver, round_):
    approval = make_pending("send")
    results = race(approval.pk, [(approver, "approve"), (second_approver, "approve")])
    assert sorted(results) == ["already_resolved", "ok"]
    assert resolution_events(approval) == 1


@pytest.mark.parametrize("round_", range(5))
def test_two_approvals_of_a_critical_action_both_count_once(
    make_pending, approver, second_approver, round_
):
    approval = make_pending("critical")
    results = race(approval.pk, [(approver, "approve"), (second_approver, "approve")])
    assert results == ["ok", "ok"]
    approval.refresh_from_db()
    assert approval.status == "approved"
    assert resolution_events(approval) == 1
    assert approval.decision.approval in (
        "human:alex@corp.example,blake@corp.example",
        "human:blake@corp.example,alex@corp.example",
    )


def test_the_same_approver_twice_at_once_counts_once(make_pending, approver):
    approval = make_pending("critical")
    results = race(approval.pk, [(approver, "approve"), (approver, "approve")])
    assert sorted(results) == ["already_voted", "ok"]
    assert approval.votes.count() == 1
