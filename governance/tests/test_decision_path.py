"""The decision path at the speed of the database: no reads on the way, one round trip to
write on PostgreSQL, and still never a decision on a policy older than the one committed
before it began."""

import pytest
from django.db import connection

from approvals.models import ApprovalRequest
from audit.models import AuditEvent, OutboxMessage
from governance.api.decision_endpoint import decision_answer
from governance.api.serializers import DecisionSerializer
from governance.models import AgentRuntime, Decision
from governance.selectors import policy_cache_get
from governance.services import (
    action_type_update,
    profile_update,
    runtime_revoke,
    runtime_token_rotate,
)
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALLOW = {}
DENY = {"data_sources": ["crm:contact/1"]}
PENDING = {
    "action": "mail.send_external",
    "connector": "mail",
    "data_sources": ["mail:outbox/1"],
    "params": {"to": "buyer@customer.example"},
}
# Queries per decision once the policy cache is warm. PostgreSQL: the one statement that
# checks the revision and writes everything (a replay adds the read of the first decision).
# SQLite (the ORM, in one transaction, a savepoint here inside the test's): the revision
# check, a savepoint around the decision's insert (for idempotency), the inserts.
QUERIES = {
    "postgresql": {"allow": 1, "deny": 1, "pending": 1, "replay": 2},
    "sqlite": {"allow": 7, "deny": 7, "pending": 9, "replay": 8},
}


@pytest.fixture
def warm(decide):
    """One decision first: builds the policy cache and records the runtime as seen."""
    assert decide().status_code == 201
    return decide


@pytest.mark.parametrize(
    ("kind", "overrides", "outcome"),
    [("allow", ALLOW, "allow"), ("deny", DENY, "deny"), ("pending", PENDING, "pending")],
)
def test_each_outcome_costs_a_fixed_number_of_queries(
    warm, django_assert_num_queries, kind, overrides, outcome
):
    with django_assert_num_queries(QUERIES[connection.vendor][kind]):
        response = warm(**overrides)
    assert response.status_code == 201
    assert response.json()["outcome"] == outcome


def test_a_replay_costs_the_write_attempt_and_one_read(warm, django_assert_num_queries):
    first = warm(request_id="replayed-1")
    with django_assert_num_queries(QUERIES[connection.vendor]["replay"]):
        again = warm(request_id="replayed-1")
    assert again.status_code == 200
    assert again.json() == first.json()


def test_a_pending_decision_writes_its_approval_event_and_notification_together(warm):
    body = warm(**PENDING).json()
    decision = Decision.objects.get(pk=body["decision_id"])
    approval = ApprovalRequest.objects.get(decision=decision)
    assert body["approval_id"] == approval.pk
    assert AuditEvent.objects.filter(decision=decision, event_type="decision_made").count() == 1
    message = OutboxMessage.objects.get()
    assert message.payload == {"approval_id": approval.pk, "reason": "new"}
    assert message.delivered_at is None
    event = AuditEvent.objects.get(decision=decision)
    assert event.compute_content_hash() == event.content_hash


def test_a_change_made_elsewhere_is_used_by_the_next_decision(warm, policy, governance_admin):
    """The cache is not re-read before deciding; the write notices the revision moved and
    the decision is made again on the new policy."""
    cached = policy_cache_get(verify=False)
    profile_update(policy.profile, actor=governance_admin, action_types=["crm.update_record"])
    assert policy_cache_get(verify=False) is cached  # nothing refreshed it yet
    body = warm().json()
    assert (body["outcome"], body["reason"]) == ("deny", "action_not_in_profile")
    assert body["policy_revision"] > cached.snapshot.revision
    assert Decision.objects.get(pk=body["decision_id"]).policy_revision == body["policy_revision"]


def test_an_allow_list_change_made_elsewhere_applies_at_once(warm, policy, governance_admin):
    action_type_update(policy.action_types.read, actor=governance_admin, auto_execute=False)
    body = warm().json()
    assert (body["outcome"], body["reason"]) == ("pending", "requires_human_approval")


def test_a_runtime_revoked_elsewhere_is_refused_at_once(warm, policy, governance_admin):
    runtime_revoke(policy.runtime, actor=governance_admin)
    response = warm()
    assert response.status_code == 401
    assert Decision.objects.count() == 1  # only the warm-up


def test_a_rotated_token_stops_working_at_once_and_the_new_one_works(
    warm, policy, governance_admin, runtime_client, proposal
):
    new_token = runtime_token_rotate(policy.runtime, actor=governance_admin)
    assert warm().status_code == 401
    runtime_client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_token}")
    assert runtime_client.post("/api/v1/decisions", proposal(), format="json").status_code == 201


def test_a_runtime_created_after_the_cache_was_built_is_known(warm, policy, proposal):
    from rest_framework.test import APIClient

    from governance.tests.factories import AgentRuntimeFactory

    other = AgentRuntimeFactory(name="late-agent", profiles=[policy.profile])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other.token}")
    assert client.post("/api/v1/decisions", proposal(), format="json").status_code == 201


def test_joining_a_launcher_group_elsewhere_applies_at_once(warm, policy):
    """Group membership is read from the cache too; changing it bumps the revision."""
    newcomer = UserFactory(username="nia")
    assert warm(on_behalf_of=newcomer.email).json()["reason"] == "launcher_not_allowed"
    newcomer.groups.add(policy.requester.groups.get(name="Sales"))
    assert warm(on_behalf_of=newcomer.email).json()["outcome"] == "allow"


def test_a_deactivated_person_loses_their_groups_at_once(warm, policy):
    policy.requester.is_active = False
    policy.requester.save()
    assert warm().json()["reason"] == "launcher_not_allowed"


def test_last_seen_is_written_at_most_once_a_minute(warm, policy):
    seen = AgentRuntime.objects.get(pk=policy.runtime.pk).last_used_at
    assert seen is not None
    warm()
    assert AgentRuntime.objects.get(pk=policy.runtime.pk).last_used_at == seen


@pytest.mark.parametrize("overrides", [ALLOW, DENY, PENDING], ids=["allow", "deny", "pending"])
def test_the_answer_is_the_serializers_output_exactly(warm, overrides, rf):
    body = warm(**overrides).json()
    decision = Decision.objects.select_related("approval_request").get(pk=body["decision_id"])
    request = rf.get("/", HTTP_HOST="testserver")
    expected = DecisionSerializer(decision, context={"request": request}).data
    assert decision_answer(decision, request=request) == dict(expected)
    assert body == dict(expected)


def test_the_answer_of_an_approved_edited_decision_is_the_serializers_too(warm, approver, rf):
    from approvals.services import approval_vote_cast

    body = warm(**PENDING).json()
    approval_vote_cast(
        body["approval_id"], voter=approver, verdict="approve", edited_params={"to": "x@y.example"}
    )
    decision = Decision.objects.select_related("approval_request").get(pk=body["decision_id"])
    request = rf.get("/", HTTP_HOST="testserver")
    expected = DecisionSerializer(decision, context={"request": request}).data
    assert decision_answer(decision, request=request) == dict(expected)
    assert expected["edited"] is True


def test_a_decision_does_not_touch_the_broker(warm, approver, django_capture_on_commit_callbacks):
    """With the broker down (an address nothing listens on) a pending decision still
    succeeds: the approvers' e-mail waits in the outbox and leaves when a worker runs."""
    from django.core import mail

    from audit.outbox import outbox_deliver
    from governance.celery import app

    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks() as queued:
            response = warm(**PENDING)
        assert response.status_code == 201
        assert queued == []
        assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 1
    finally:
        app.conf.task_always_eager = True
        app.conf.broker_url = "memory://"
    assert outbox_deliver() == 1
    assert mail.outbox and "mail.send_external" in mail.outbox[0].subject
