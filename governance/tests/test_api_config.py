"""Configuration API: governance admins write, overseeing roles read, others are refused;
every write goes through the audited services."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import ActionType, AgentRuntime, ProfileGrant
from governance.tokens import token_hash

pytestmark = pytest.mark.django_db

READ_ENDPOINTS = [
    "/api/v1/action-types",
    "/api/v1/profiles",
    "/api/v1/profiles/sales",
    "/api/v1/grants",
    "/api/v1/runtimes",
    "/api/v1/policy",
]


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("governance_admin", 200),
        ("auditor", 200),
        ("leader", 200),
        ("approver", 200),
        ("connector_owner", 200),
        ("outsider", 403),
        ("requester", 403),
    ],
)
def test_configuration_is_readable_by_overseeing_roles_only(
    request, policy, endpoint, persona, status
):
    if endpoint == "/api/v1/runtimes" and persona in ("leader", "approver", "connector_owner"):
        status = 403  # runtimes are for the roles that see the Runtimes page
    response = as_user(request.getfixturevalue(persona)).get(endpoint)
    assert response.status_code == status
    if status == 403:
        assert "results" not in response.json()


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_anonymous_callers_are_refused(policy, endpoint):
    assert APIClient().get(endpoint).status_code in (401, 403)


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_runtimes_cannot_read_the_configuration(runtime_client, endpoint):
    assert runtime_client.get(endpoint).status_code in (401, 403)


@pytest.mark.parametrize("persona", ["auditor", "leader", "approver", "connector_owner"])
def test_only_governance_admins_write(request, policy, persona):
    client = as_user(request.getfixturevalue(persona))
    response = client.patch("/api/v1/action-types/crm.update_record", {"auto_execute": True})
    assert response.status_code == 403
    assert ActionType.objects.get(key="crm.update_record").auto_execute is False


def test_admin_moves_an_action_onto_the_allow_list_through_the_api(governance_admin, policy):
    response = as_user(governance_admin).patch(
        "/api/v1/action-types/crm.update_record", {"auto_execute": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["auto_execute"] is True
    event = AuditEvent.objects.get(event_type="config_updated")
    assert event.actor == "user:gina@corp.example"
    assert event.changes["after"]["auto_execute"] is True


def test_allow_listing_an_irreversible_action_through_the_api_is_a_400(governance_admin, policy):
    response = as_user(governance_admin).patch(
        "/api/v1/action-types/mail.send_external", {"auto_execute": True}, format="json"
    )
    assert response.status_code == 400
    assert "auto_execute" in response.json()["fields"]


def test_admin_creates_an_action_type(governance_admin, policy):
    response = as_user(governance_admin).post(
        "/api/v1/action-types",
        {
            "key": "drive.read_file",
            "name": "Read a file",
            "impact": "low",
            "reversible": True,
            "auto_execute": True,
            "approver_group": "Approvers",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert AuditEvent.objects.filter(event_type="config_created").count() == 1


def test_admin_adds_and_removes_a_grant(governance_admin, policy):
    client = as_user(governance_admin)
    response = client.post(
        "/api/v1/grants",
        {"profile": "sales", "connector": "crm", "resources": ["contact/*"], "access": "read"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    grant_id = response.json()["id"]
    assert client.delete(f"/api/v1/grants/{grant_id}").status_code == 204
    assert not ProfileGrant.objects.filter(pk=grant_id).exists()
    assert AuditEvent.objects.filter(object_type="governance.permissionprofile").count() == 2


def test_grant_on_a_plugin_is_refused(governance_admin, policy):
    grants, events = list(ProfileGrant.objects.values()), AuditEvent.objects.count()
    response = as_user(governance_admin).post(
        "/api/v1/grants",
        {"profile": "sales", "connector": "outreach", "resources": ["*"], "access": "read"},
        format="json",
    )
    assert response.status_code == 400
    assert "connector" in response.json()["fields"]
    assert list(ProfileGrant.objects.values()) == grants
    assert AuditEvent.objects.count() == events


def test_profiles_filter_by_status(governance_admin, policy):
    from governance.tests.factories import PermissionProfileFactory

    PermissionProfileFactory(slug="draft-one", status="draft")
    response = as_user(governance_admin).get("/api/v1/profiles?status=draft")
    assert [p["slug"] for p in response.json()["results"]] == ["draft-one"]


def test_creating_a_runtime_answers_its_token_once(governance_admin, policy):
    response = as_user(governance_admin).post(
        "/api/v1/runtimes", {"name": "ops-agent", "profiles": ["sales"]}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert AgentRuntime.objects.get(name="ops-agent").token_hash == token_hash(token)
    listed = as_user(governance_admin).get("/api/v1/runtimes/ops-agent").json()
    assert "token" not in listed


def test_revoking_a_runtime_through_the_api(governance_admin, runtime_client, proposal):
    response = as_user(governance_admin).post(
        "/api/v1/runtimes/sales-agent/revoke", {"reason": "x"}
    )
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert runtime_client.post("/api/v1/decisions", proposal(), format="json").status_code == 401


def test_revoking_twice_is_a_409(governance_admin, policy):
    client = as_user(governance_admin)
    client.post("/api/v1/runtimes/sales-agent/revoke")
    response = client.post("/api/v1/runtimes/sales-agent/revoke")
    assert response.status_code == 409


def test_unknown_runtime_is_a_404(governance_admin, policy):
    assert as_user(governance_admin).post("/api/v1/runtimes/nope/revoke").status_code == 404


def test_policy_export_as_yaml(governance_admin, policy):
    response = as_user(governance_admin).get("/api/v1/policy", HTTP_ACCEPT="application/yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert b"action_types:" in response.content


def test_policy_import_dry_run_through_the_api(governance_admin, policy):
    client = as_user(governance_admin)
    document = client.get("/api/v1/policy").json()
    document["action_types"][0]["approvals_needed"] = 3
    response = client.put("/api/v1/policy?dry_run=1", document, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["applied"] is False
    assert len(body["changes"]) == 1


def test_policy_import_of_yaml_with_errors_is_a_400_listing_them(governance_admin, policy):
    response = as_user(governance_admin).put(
        "/api/v1/policy",
        data="action_types:\n  - key: Bad Key\n",
        content_type="application/yaml",
    )
    assert response.status_code == 400
    assert any(line.startswith("action_types[0].key") for line in response.json()["errors"])


def test_policy_import_needs_a_governance_admin(auditor, policy):
    response = as_user(auditor).put("/api/v1/policy", {}, format="json")
    assert response.status_code == 403
