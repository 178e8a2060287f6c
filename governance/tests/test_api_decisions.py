"""POST /api/v1/decisions, GET /api/v1/decisions/{id}, POST .../outcome: what an agent
runtime relies on, including every refusal."""

import json
import uuid
from unittest import mock

import pytest
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from governance.models import Decision
from governance.services import params_digest

pytestmark = pytest.mark.django_db


def test_allow_listed_read_is_allowed_and_audited(decide, policy):
    response = decide()
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "allow"
    assert body["status"] == "allowed"
    assert body["reason"] == "auto_execute_allowlisted"
    assert body["message"]
    assert body["approval"] == "auto"
    assert body["status_url"].endswith(f"/api/v1/decisions/{body['decision_id']}")
    event = AuditEvent.objects.get(decision_id=body["decision_id"])
    assert event.event_type == "decision_made"
    assert event.actor == "runtime:sales-agent"
    assert event.on_behalf_of == policy.requester.email
    assert event.action == "crm.read_record"
    assert event.approval == "auto"
    assert event.data_sources == ["crm:account/42"]
    assert event.model == "claude-sonnet-4-5"
    assert event.plugin == "outreach@2.1.0"
    assert event.reversible is True
    assert event.outcome == "allow"
    assert event.reason == "auto_execute_allowlisted"
    assert event.profile == "sales"
    assert event.policy_revision == body["policy_revision"]
    assert event.params_digest == params_digest({"account_id": 42})
    assert event.content_hash == event.compute_content_hash()


def test_irreversible_action_is_pending_with_an_approval_routed_to_its_group(decide, policy):
    response = decide(
        action="mail.send_external",
        connector="mail",
        data_sources=["mail:outbox/1"],
        params={"to": "buyer@customer.example"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["outcome"], body["status"]) == ("pending", "pending")
    assert body["reason"] == "high_impact_or_irreversible"
    approval = ApprovalRequest.objects.get(pk=body["approval_id"])
    assert approval.group == policy.approvers
    assert approval.approvals_needed == 1
    assert body["expires_at"] == approval.expires_at.isoformat()
    event = AuditEvent.objects.get(decision_id=body["decision_id"])
    assert event.approval is None
    assert event.reversible is False


def test_out_of_scope_data_is_denied_with_the_reason(decide):
    response = decide(data_sources=["crm:contact/7"])
    assert response.status_code == 201
    body = response.json()
    assert (body["outcome"], body["reason"]) == ("deny", "data_source_out_of_scope")
    assert "crm:contact/7" in body["message"]
    assert not ApprovalRequest.objects.exists()


def test_profile_the_runtime_may_not_use_is_403_and_audited(decide, policy):
    response = decide(profile="finance")
    assert response.status_code == 403
    body = response.json()
    assert (body["outcome"], body["reason"]) == ("deny", "runtime_not_allowed_profile")
    assert AuditEvent.objects.filter(reason="runtime_not_allowed_profile").count() == 1


def test_same_request_id_returns_the_same_decision_and_no_second_audit_record(decide):
    request_id = uuid.uuid4().hex
    first = decide(request_id=request_id)
    second = decide(request_id=request_id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["decision_id"] == second.json()["decision_id"]
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="decision_made").count() == 1


def test_reused_request_id_with_different_content_is_a_conflict(decide):
    request_id = uuid.uuid4().hex
    decide(request_id=request_id)
    response = decide(request_id=request_id, params={"account_id": 43})
    assert response.status_code == 409
    assert response.json()["code"] == "request_id_reused"


def test_the_same_request_id_from_another_runtime_is_a_new_decision(decide, policy, proposal):
    from governance.tests.factories import AgentRuntimeFactory

    other = AgentRuntimeFactory(profiles=[policy.profile])
    body = proposal()
    decide(**body)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other.token}")
    response = client.post("/api/v1/decisions", body, format="json")
    assert response.status_code == 201
    assert Decision.objects.count() == 2


def test_trailing_slash_is_accepted_too(runtime_client, proposal):
    response = runtime_client.post("/api/v1/decisions/", proposal(), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"on_behalf_of": "not-an-email"}, "on_behalf_of"),
        ({"plugin": "outreach"}, "plugin"),
        ({"data_sources": "crm:account/1"}, "data_sources"),
        ({"data_sources": ["no-colon"]}, "data_sources"),
        ({"data_sources": ["crm:x"] * 101}, "data_sources"),
        ({"params": [1, 2]}, "params"),
        ({"params": {"blob": "x" * 70000}}, "params"),
        ({"action": "Send Mail"}, "action"),
        ({"request_id": ""}, "request_id"),
        ({"request_id": ...}, "request_id"),
        ({"profile": ...}, "profile"),
        ({"surprise": True}, "surprise"),
        ({"rationale": "x" * 5000}, "rationale"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(decide, overrides, field):
    response = decide(**overrides)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert not Decision.objects.exists()


def test_malformed_json_is_a_400(runtime_client):
    response = runtime_client.post(
        "/api/v1/decisions", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_json_array_body_is_a_400(runtime_client):
    response = runtime_client.post("/api/v1/decisions", data="[]", content_type="application/json")
    assert response.status_code == 400


def test_oversized_body_is_a_400(runtime_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"request_id": "x", "rationale": "y" * 2000})
    response = runtime_client.post("/api/v1/decisions", data=body, content_type="application/json")
    assert response.status_code == 400


def test_missing_token_is_401_and_audited(proposal):
    response = APIClient().post("/api/v1/decisions", proposal(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    event = AuditEvent.objects.get(event_type="api_auth_failed")
    assert event.reason == "missing_token"
    assert event.detail["path"] == "/api/v1/decisions"


def test_invalid_token_is_401_audited_without_the_token(proposal):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer agc_rt_guessedsecretvalue")
    response = client.post("/api/v1/decisions", proposal(), format="json")
    assert response.status_code == 401
    event = AuditEvent.objects.get(event_type="api_auth_failed")
    assert event.reason == "invalid_token"
    assert "guessedsecretvalue" not in json.dumps(event.detail)


def test_revoked_runtime_is_401(runtime_client, proposal, governance_admin, policy):
    from governance.services import runtime_revoke

    runtime_revoke(policy.runtime, actor=governance_admin)
    response = runtime_client.post("/api/v1/decisions", proposal(), format="json")
    assert response.status_code == 401


def test_a_person_signed_in_by_session_cannot_ask_for_decisions(client, requester, proposal):
    client.force_login(requester)
    response = client.post("/api/v1/decisions", proposal(), content_type="application/json")
    assert response.status_code in (401, 403)
    assert not Decision.objects.exists()


def test_internal_error_answers_503_and_never_allow(decide):
    with mock.patch("governance.engine.decide", side_effect=RuntimeError("boom")):
        response = decide()
    assert response.status_code == 503
    body = response.json()
    assert body["outcome"] == "deny"
    assert body["code"] == "internal_error"
    assert not Decision.objects.exists()


def test_get_shows_the_current_state(decide, runtime_client):
    created = decide().json()
    response = runtime_client.get(f"/api/v1/decisions/{created['decision_id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "allowed"
    assert body["params"] == {"account_id": 42}
    assert body["params_digest"] == params_digest({"account_id": 42})


def test_get_of_another_runtimes_decision_is_404(decide, policy):
    from governance.tests.factories import AgentRuntimeFactory

    created = decide().json()
    other = AgentRuntimeFactory(profiles=[policy.profile])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other.token}")
    assert client.get(f"/api/v1/decisions/{created['decision_id']}").status_code == 404


def test_get_of_a_pending_decision_past_its_expiry_reports_expired(decide, runtime_client):
    import time_machine

    created = decide(action="crm.update_record", connector="crm", data_sources=[]).json()
    assert created["status"] == "pending"
    with time_machine.travel(created["expires_at"]):
        body = runtime_client.get(f"/api/v1/decisions/{created['decision_id']}").json()
    assert body["status"] == "expired"
    assert AuditEvent.objects.filter(event_type="decision_expired").count() == 1


def test_outcome_of_an_allowed_decision_is_recorded(decide, runtime_client):
    created = decide().json()
    response = runtime_client.post(
        f"/api/v1/decisions/{created['decision_id']}/outcome",
        {"status": "executed", "params_digest": created["params_digest"], "detail": "ok"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "executed"
    event = AuditEvent.objects.get(event_type="outcome_reported")
    assert event.outcome == "executed"
    assert event.approval == "auto"


def test_outcome_with_the_wrong_digest_is_refused(decide, runtime_client):
    created = decide().json()
    response = runtime_client.post(
        f"/api/v1/decisions/{created['decision_id']}/outcome",
        {"status": "executed", "params_digest": "0" * 64},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "params_digest_mismatch"
    assert Decision.objects.get(pk=created["decision_id"]).status == "allowed"
    assert not AuditEvent.objects.filter(event_type="outcome_reported").exists()


def test_outcome_of_a_denied_decision_is_refused(decide, runtime_client):
    created = decide(data_sources=["crm:contact/7"]).json()
    response = runtime_client.post(
        f"/api/v1/decisions/{created['decision_id']}/outcome",
        {"status": "executed", "params_digest": created["params_digest"]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "decision_not_executable"
    assert Decision.objects.get(pk=created["decision_id"]).status == "denied"
    assert not AuditEvent.objects.filter(event_type="outcome_reported").exists()


def test_outcome_of_a_pending_decision_is_refused(decide, runtime_client):
    created = decide(action="crm.update_record", connector="crm", data_sources=[]).json()
    response = runtime_client.post(
        f"/api/v1/decisions/{created['decision_id']}/outcome",
        {"status": "executed", "params_digest": created["params_digest"]},
        format="json",
    )
    assert response.status_code == 409
    assert Decision.objects.get(pk=created["decision_id"]).status == "pending"
    assert not AuditEvent.objects.filter(event_type="outcome_reported").exists()


def test_reporting_the_same_outcome_twice_is_harmless_but_a_different_one_is_refused(
    decide, runtime_client
):
    created = decide().json()
    url = f"/api/v1/decisions/{created['decision_id']}/outcome"
    report = {"status": "executed", "params_digest": created["params_digest"]}
    assert runtime_client.post(url, report, format="json").status_code == 200
    assert runtime_client.post(url, report, format="json").status_code == 200
    assert AuditEvent.objects.filter(event_type="outcome_reported").count() == 1
    report["status"] = "failed"
    assert runtime_client.post(url, report, format="json").status_code == 409


def test_outcome_with_a_bad_status_is_a_400(decide, runtime_client):
    created = decide().json()
    response = runtime_client.post(
        f"/api/v1/decisions/{created['decision_id']}/outcome",
        {"status": "done", "params_digest": created["params_digest"]},
        format="json",
    )
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_configuration_change_is_used_by_the_next_decision(decide, policy, governance_admin):
    from governance.services import action_type_update

    assert (
        decide(action="crm.update_record", connector="crm", data_sources=[]).json()["outcome"]
        == "pending"
    )
    action_type_update(policy.action_types.update, actor=governance_admin, auto_execute=True)
    body = decide(action="crm.update_record", connector="crm", data_sources=[]).json()
    assert (body["outcome"], body["reason"]) == ("allow", "auto_execute_allowlisted")


def test_openapi_schema_documents_the_decision_api(client, governance_admin):
    client.force_login(governance_admin)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/decisions" in paths
    assert "/api/v1/decisions/{decision_id}/outcome" in paths


def test_api_docs_need_a_sign_in(client):
    assert client.get("/api/docs/").status_code in (302, 401, 403)
    assert client.get("/api/schema/").status_code in (401, 403)
