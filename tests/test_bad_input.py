"""Bad input gets a 400 (or a 404), never a 5xx, and never an allow."""

import json

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import ActionType, Decision, PermissionProfile, ProfileGrant

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def raw_decision(runtime_client, proposal, params_json: str):
    """POST a decision whose params are the given raw JSON text."""
    body = proposal(params={})
    text = json.dumps(body).replace('"params": {}', f'"params": {params_json}')
    return runtime_client.post("/api/v1/decisions", text, content_type="application/json")


@pytest.mark.parametrize(
    ("params_json", "message"),
    [
        ('{"to": "a\\u0000b"}', "params.to contains a NUL character"),
        ('{"a\\u0000": 1}', "NUL character"),
        ('{"to": "\\ud800"}', "lone surrogate"),
        ('{"to": ["x", "\\udfff"]}', "lone surrogate"),
        ('{"deep": ' + deep(2000) + "}", "nested deeper than"),
        ('{"n": NaN}', "not a JSON number"),
        ('{"n": Infinity}', "not a JSON number"),
    ],
)
def test_unstorable_params_are_a_400_and_never_a_decision(
    runtime_client, proposal, params_json, message
):
    response = raw_decision(runtime_client, proposal, params_json)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not Decision.objects.exists()


def test_a_nul_in_another_field_is_a_400(runtime_client, proposal):
    for field in ("model", "rationale", "request_id", "profile", "plugin"):
        body = proposal(**{field: "x\x00y"})
        response = runtime_client.post("/api/v1/decisions", body, format="json")
        assert response.status_code == 400, (field, response.content)
    assert not Decision.objects.exists()


def test_a_body_that_is_not_utf8_is_a_400(runtime_client):
    response = runtime_client.post(
        "/api/v1/decisions", b'{"request_id": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/decisions/%00",
        "/api/v1/profiles/%00",
        "/api/v1/action-types/a%00b",
        "/api/v1/catalog/items/%00",
        "/profiles/%00/",
        "/audit/history/governance.actiontype/%00/",
    ],
)
def test_nul_path_segments_are_a_400(client, governance_admin, runtime_client, path):
    client.force_login(governance_admin)
    response = client.get(path)
    assert response.status_code == 400
    assert runtime_client.get(path).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/audit/dashboard/?connector=%00",
        "/audit/?action=%00",
        "/decisions/?on_behalf_of=%00",
        "/approvals/?requester=a%00",
        "/catalog/?q=%00",
    ],
)
def test_nul_in_a_query_is_a_400_page_that_explains(client, governance_admin, url):
    client.force_login(governance_admin)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert "Bad request" in response.content.decode()


def test_history_of_an_id_that_is_not_a_number_is_a_404(client, governance_admin, policy):
    client.force_login(governance_admin)
    assert client.get("/audit/history/governance.actiontype/abc/").status_code == 404


def test_a_nul_in_a_related_slug_of_the_configuration_api_is_a_400(governance_admin, policy):
    response = as_user(governance_admin).post(
        "/api/v1/grants",
        {"profile": "sa\x00les", "connector": "crm", "resources": ["x/*"], "access": "read"},
        format="json",
    )
    assert response.status_code == 400
    assert ProfileGrant.objects.count() == 3


def test_the_configuration_api_refuses_unknown_fields(governance_admin, policy):
    response = as_user(governance_admin).patch(
        "/api/v1/profiles/sales", {"always_aks": ["crm.read_record"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"always_aks": ["Unknown field."]}
    assert PermissionProfile.objects.get(slug="sales").always_ask == []
    assert not AuditEvent.objects.filter(event_type="config_updated").exists()


def test_the_configuration_api_refuses_unknown_fields_on_create(governance_admin, policy):
    response = as_user(governance_admin).post(
        "/api/v1/action-types",
        {"key": "x.y", "name": "X", "impact": "low", "reversible": True, "auto_exec": True},
        format="json",
    )
    assert response.status_code == 400
    assert "auto_exec" in response.json()["fields"]
    assert not ActionType.objects.filter(key="x.y").exists()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/audit/events?acton=mail.send_external", "/api/v1/audit/export?format=csv&acton=x"],
)
def test_the_audit_api_refuses_unknown_filters(auditor, pending, url):
    response = as_user(auditor).get(url)
    assert response.status_code == 400
    assert "acton" in json.dumps(response.json())


def test_the_audit_export_page_refuses_unknown_filters(client, auditor, pending):
    client.force_login(auditor)
    response = client.get("/audit/export/?format=csv&acton=<b>x</b>")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")  # never reflected as HTML
    assert b"Unknown filter" in response.content


@pytest.mark.parametrize(("persona", "status"), [("auditor", 200), ("leader", 403)])
def test_runtime_history_is_for_the_roles_that_see_runtimes(
    request, client, policy, persona, status
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(f"/audit/history/governance.agentruntime/{policy.runtime.pk}/")
    assert response.status_code == status


def test_an_unreadable_audit_cursor_is_a_400(auditor, pending):
    response = as_user(auditor).get("/api/v1/audit/events?cursor=CcC%C3%94")
    assert response.status_code == 400
    assert response.json()["fields"] == {"cursor": ["Invalid cursor."]}
