"""The Django admin writes through the services: every save is audited with its actor."""

import pytest

from audit.models import AuditEvent
from governance.models import ActionType

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, governance_admin):
    client.force_login(governance_admin)
    return client


def action_type_form(**overrides) -> dict:
    data = {
        "key": "crm.read_record",
        "name": "Read a CRM record",
        "description": "",
        "impact": "low",
        "reversible": "on",
        "auto_execute": "on",
        "approver_group": "",
        "escalation_group": "",
        "approvals_needed": "1",
        "approval_ttl_minutes": "60",
        "approval_sla_minutes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_change_of_an_action_type_is_audited(admin_client, policy):
    url = f"/admin/governance/actiontype/{policy.action_types.update.pk}/change/"
    data = action_type_form(key="crm.update_record", impact="medium", auto_execute="on")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(event_type="config_updated")
    assert event.actor == "user:gina@corp.example"
    assert event.changes["before"]["auto_execute"] is False
    assert event.changes["after"]["auto_execute"] is True


def test_admin_add_of_an_action_type_is_audited(admin_client, policy):
    response = admin_client.post(
        "/admin/governance/actiontype/add/", action_type_form(key="drive.read_file")
    )
    assert response.status_code == 302
    assert ActionType.objects.filter(key="drive.read_file").exists()
    assert AuditEvent.objects.filter(event_type="config_created").count() == 1


def test_admin_refuses_to_allow_list_an_irreversible_action(admin_client, policy):
    url = f"/admin/governance/actiontype/{policy.action_types.send.pk}/change/"
    data = action_type_form(key="mail.send_external", impact="high", reversible=None)
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form comes back with the error
    assert "Only reversible actions" in response.content.decode()
    assert not AuditEvent.objects.exclude(event_type="login_succeeded").exists()


def test_admin_grant_inline_changes_are_audited_on_the_profile(admin_client, policy):
    profile = policy.profile
    grants = list(profile.grants.all())
    url = f"/admin/governance/permissionprofile/{profile.pk}/change/"
    data = {
        "slug": profile.slug,
        "name": profile.name,
        "description": "",
        "status": "active",
        "owner": "",
        "expires_at_0": "",
        "expires_at_1": "",
        "launcher_groups": [g.pk for g in profile.launcher_groups.all()],
        "action_types": '["crm.read_record"]',
        "always_ask": "[]",
        "plugins": [p.pk for p in profile.plugins.all()],
        "grants-TOTAL_FORMS": str(len(grants) + 1),
        "grants-INITIAL_FORMS": str(len(grants)),
        "grants-MIN_NUM_FORMS": "0",
        "grants-MAX_NUM_FORMS": "1000",
    }
    for index, grant in enumerate(grants):
        data.update(
            {
                f"grants-{index}-id": grant.pk,
                f"grants-{index}-profile": profile.pk,
                f"grants-{index}-connector": grant.connector_id,
                f"grants-{index}-resources": '["' + grant.resources[0] + '"]',
                f"grants-{index}-access": grant.access,
            }
        )
    data[f"grants-{len(grants)}-profile"] = profile.pk
    data[f"grants-{len(grants)}-connector"] = policy.crm.pk
    data[f"grants-{len(grants)}-resources"] = '["contact/*"]'
    data[f"grants-{len(grants)}-access"] = "read"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    events = AuditEvent.objects.filter(object_type="governance.permissionprofile")
    assert events.count() == 2  # the profile's own change, then the added grant
    assert any(
        g["resources"] == ["contact/*"] for g in events.latest("id").changes["after"]["grants"]
    )


def test_decisions_and_audit_events_are_read_only_in_the_admin(admin_client, decide):
    decide()
    assert admin_client.get("/admin/governance/decision/").status_code == 200
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    event = AuditEvent.objects.first()
    response = admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
