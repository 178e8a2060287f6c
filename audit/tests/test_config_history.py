"""Every governed model × every write path leaves an audit event with who and
before/after: the service, the REST API, the admin and the policy import."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from catalog.models import CatalogVersion
from governance.models import ActionType
from governance.policy import policy_export, policy_import

pytestmark = pytest.mark.django_db


def new_events(since: int):
    return AuditEvent.objects.filter(id__gt=since)


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def api_client(governance_admin):
    client = APIClient()
    client.force_authenticate(governance_admin)
    return client


@pytest.fixture
def admin_client(client, governance_admin):
    governance_admin.is_superuser = True  # the admin's own model permissions
    governance_admin.save()
    client.force_login(governance_admin)
    return client


API_WRITES = [
    (
        "patch",
        "/api/v1/action-types/crm.update_record",
        {"auto_execute": True},
        "governance.actiontype",
    ),
    ("patch", "/api/v1/profiles/sales", {"status": "retired"}, "governance.permissionprofile"),
    (
        "post",
        "/api/v1/grants",
        {"profile": "sales", "connector": "crm", "resources": ["x/*"]},
        "governance.permissionprofile",
    ),
    ("patch", "/api/v1/runtimes/sales-agent", {"description": "new"}, "governance.agentruntime"),
    ("post", "/api/v1/runtimes/sales-agent/revoke", {}, "governance.agentruntime"),
    (
        "post",
        "/api/v1/runtimes/sales-agent/callback",
        {"url": "https://a.example/h"},
        "governance.agentruntime",
    ),
]


@pytest.mark.parametrize(("method", "url", "body", "object_type"), API_WRITES)
def test_api_writes_are_audited_with_the_actor(api_client, policy, method, url, body, object_type):
    since = last_id()
    response = getattr(api_client, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.content
    events = new_events(since).filter(object_type=object_type)
    assert events.exists()
    assert {e.actor for e in events} == {"user:gina@corp.example"}


def test_admin_writes_are_audited(admin_client, policy, connector_owner):
    checks = [
        (
            f"/admin/catalog/catalogitem/{policy.crm.pk}/change/",
            {
                "slug": "crm", "name": "CRM", "kind": "connector", "description": "x", "owner": "",
                "owning_group": "", "vendor": "", "systems": "[]", "data_classes": '["internal"]',
                "reach": "read", "status": "approved", "mcp_server": "{}",
                "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
                "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000",
            },
            "catalog.catalogitem",
        ),
        (
            f"/admin/governance/user/{connector_owner.pk}/change/",
            {
                "username": "owen", "email": "owen@corp.example", "first_name": "Owen",
                "last_name": "", "is_active": "on", "groups": [],
                "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00",
            },
            "governance.user",
        ),
    ]  # fmt: skip
    for url, data, object_type in checks:
        since = last_id()
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        events = new_events(since).filter(object_type=object_type)
        assert events.exists(), object_type
        assert {e.actor for e in events} == {"user:gina@corp.example"}


def test_policy_import_changes_are_audited_per_object(policy, governance_admin):
    document = policy_export()
    document["action_types"][0]["approvals_needed"] = 3
    since = last_id()
    policy_import(document, actor=governance_admin)
    changed = new_events(since).filter(
        event_type="config_updated", object_type="governance.actiontype"
    )
    assert changed.count() == 1
    assert changed.get().changes["after"]["approvals_needed"] == 3
    assert new_events(since).filter(event_type="policy_imported").exists()


def test_pin_and_yank_are_audited_with_before_and_after(policy, governance_admin):
    from catalog.services import catalog_version_pin, catalog_version_yank

    since = last_id()
    older = CatalogVersion.objects.get(item=policy.outreach, version="2.0.0")
    catalog_version_pin(older, actor=governance_admin)
    catalog_version_yank(
        CatalogVersion.objects.get(item=policy.outreach, version="2.1.0"),
        actor=governance_admin,
        reason="x",
    )
    types = list(new_events(since).order_by("id").values_list("event_type", flat=True))
    assert types == ["catalog_version_pinned", "catalog_version_yanked"]


def test_action_type_history_answers_who_moved_it_onto_the_allow_list(policy, governance_admin):
    from governance.services import action_type_update

    action_type_update(policy.action_types.update, actor=governance_admin, auto_execute=True)
    event = AuditEvent.objects.filter(
        object_type="governance.actiontype",
        object_id=str(ActionType.objects.get(key="crm.update_record").pk),
    ).latest("id")
    assert event.actor == "user:gina@corp.example"
    assert (event.changes["before"]["auto_execute"], event.changes["after"]["auto_execute"]) == (
        False,
        True,
    )
    assert event.policy_revision is not None
