"""The approvals API for chat-ops bots: same rules as the inbox, session or personal token."""

import pytest
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest
from governance.models import Decision
from governance.services import user_token_create, user_token_revoke

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_list_shows_the_requests_i_may_decide(approver, pending, make_pending):
    critical = make_pending("critical")
    body = as_user(approver).get("/api/v1/approvals").json()
    ids = [r["id"] for r in body["results"]]
    assert ids == [pending.pk, critical.pk] or set(ids) == {pending.pk, critical.pk}
    first = body["results"][0]
    assert {"action", "on_behalf_of", "params", "expires_at", "console_url"} <= set(first)


def test_list_is_filterable(approver, pending, make_pending):
    make_pending("update")
    body = as_user(approver).get("/api/v1/approvals?action=mail.send_external").json()
    assert [r["id"] for r in body["results"]] == [pending.pk]


def test_approve_with_edited_params(approver, pending, runtime_client):
    response = as_user(approver).post(
        f"/api/v1/approvals/{pending.pk}/approve",
        {"params": {"to": "x@customer.example"}, "comment": "fixed recipient"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    agent_view = runtime_client.get(f"/api/v1/decisions/{pending.decision_id}").json()
    assert agent_view["status"] == "approved"
    assert agent_view["params"] == {"to": "x@customer.example"}
    assert agent_view["edited"] is True


def test_reject_needs_a_reason(approver, pending):
    client = as_user(approver)
    response = client.post(f"/api/v1/approvals/{pending.pk}/reject", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    response = client.post(
        f"/api/v1/approvals/{pending.pk}/reject", {"reason": "  "}, format="json"
    )
    assert response.status_code == 400
    response = client.post(
        f"/api/v1/approvals/{pending.pk}/reject", {"reason": "no"}, format="json"
    )
    assert response.json()["status"] == "rejected"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"params": [1]}, "params"), ({"params": "x"}, "params"), ({"surprise": 1}, "surprise")],
)
def test_bad_approve_input_is_a_400(approver, pending, body, field):
    response = as_user(approver).post(
        f"/api/v1/approvals/{pending.pk}/approve", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_own_request_is_403_with_the_reason(requester, pending, policy):
    policy.approvers.user_set.add(requester)
    response = as_user(requester).post(f"/api/v1/approvals/{pending.pk}/approve")
    assert response.status_code == 403
    assert response.json()["code"] == "own_request"
    assert "own behalf" in response.json()["detail"]


def test_someone_outside_the_group_is_403_on_a_visible_request(governance_admin, pending):
    response = as_user(governance_admin).post(f"/api/v1/approvals/{pending.pk}/approve")
    assert response.status_code == 403
    assert response.json()["code"] == "not_in_group"


def test_voting_twice_is_409(approver, make_pending):
    critical = make_pending("critical")
    client = as_user(approver)
    assert client.post(f"/api/v1/approvals/{critical.pk}/approve").status_code == 200
    response = client.post(f"/api/v1/approvals/{critical.pk}/approve")
    assert response.status_code == 409
    assert response.json()["code"] == "already_voted"


def test_voting_on_a_resolved_request_is_409(approver, second_approver, pending):
    as_user(approver).post(f"/api/v1/approvals/{pending.pk}/approve")
    response = as_user(second_approver).post(
        f"/api/v1/approvals/{pending.pk}/reject", {"reason": "late"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "already_resolved"


def test_request_outside_my_scope_is_404(outsider, pending):
    client = as_user(outsider)
    assert client.get(f"/api/v1/approvals/{pending.pk}").status_code == 404
    assert client.post(f"/api/v1/approvals/{pending.pk}/approve").status_code == 404
    assert client.get("/api/v1/approvals").json()["results"] == []


def test_personal_token_acts_with_the_persons_rights(approver, pending):
    _, token = user_token_create(approver, actor=approver, name="slack-bot")
    response = with_token(token).post(f"/api/v1/approvals/{pending.pk}/approve")
    assert response.status_code == 200
    assert Decision.objects.get(pk=pending.decision_id).approval == "human:alex@corp.example"


def test_revoked_token_is_401(approver, pending):
    token_row, token = user_token_create(approver, actor=approver, name="slack-bot")
    user_token_revoke(token_row, actor=approver)
    assert with_token(token).get("/api/v1/approvals").status_code == 401


def test_runtime_token_cannot_approve(runtime_client, pending):
    response = runtime_client.post(f"/api/v1/approvals/{pending.pk}/approve")
    assert response.status_code == 401
    assert ApprovalRequest.objects.get(pk=pending.pk).status == "pending"


def test_anonymous_is_refused(pending):
    assert APIClient().get("/api/v1/approvals").status_code in (401, 403)


def test_approvals_api_is_in_the_schema(client, governance_admin):
    client.force_login(governance_admin)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "/api/v1/approvals/{id}/approve" in paths
    assert "/api/v1/approvals/{id}/reject" in paths
