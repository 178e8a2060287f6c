"""Configuration services: every change is permission-checked, validated, audited with
before/after, and bumps the policy revision; a no-op changes nothing."""

import pytest

from audit.models import AuditEvent
from catalog.tests.factories import CatalogItemFactory
from governance import services
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import ActionType, AgentRuntime
from governance.selectors import policy_revision_current
from governance.tests.factories import GroupFactory
from governance.tokens import token_hash

pytestmark = pytest.mark.django_db


def revision() -> int:
    return policy_revision_current()[0]


def test_creating_an_action_type_is_audited_and_bumps_the_revision(governance_admin):
    before = revision()
    action_type = services.action_type_create(
        actor=governance_admin, key="crm.read_record", name="Read", impact="low", reversible=True
    )
    event = AuditEvent.objects.get(event_type="config_created")
    assert event.actor == "user:gina@corp.example"
    assert event.actor_user == governance_admin
    assert event.object_type == "governance.actiontype"
    assert event.object_id == str(action_type.pk)
    assert event.changes["before"] is None
    assert event.changes["after"]["key"] == "crm.read_record"
    assert revision() == before + 1
    assert event.policy_revision == revision()


def test_moving_an_action_onto_the_allow_list_records_who_and_before_after(
    governance_admin, policy
):
    services.action_type_update(
        policy.action_types.update, actor=governance_admin, auto_execute=True
    )
    event = AuditEvent.objects.get(event_type="config_updated")
    assert event.changes["before"]["auto_execute"] is False
    assert event.changes["after"]["auto_execute"] is True
    assert event.actor == "user:gina@corp.example"


def test_saving_the_same_values_again_changes_nothing(governance_admin, policy):
    before = revision()
    services.action_type_update(
        policy.action_types.read, actor=governance_admin, name="crm.read_record"
    )
    assert revision() == before
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "persona", ["approver", "auditor", "leader", "connector_owner", "outsider"]
)
def test_only_governance_admins_change_the_configuration(persona, request, policy):
    person = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.action_type_update(policy.action_types.update, actor=person, auto_execute=True)
    policy.action_types.update.refresh_from_db()
    assert policy.action_types.update.auto_execute is False
    assert not AuditEvent.objects.exists()


def test_irreversible_action_cannot_be_allow_listed(governance_admin, policy):
    with pytest.raises(ValidationFailed) as error:
        services.action_type_update(
            policy.action_types.send, actor=governance_admin, auto_execute=True
        )
    assert "auto_execute" in error.value.extra["fields"]
    assert ActionType.objects.get(key="mail.send_external").auto_execute is False


def test_invalid_action_key_is_refused_with_the_field(governance_admin):
    with pytest.raises(ValidationFailed) as error:
        services.action_type_create(actor=governance_admin, key="Send Mail!", name="x")
    assert "key" in error.value.extra["fields"]


def test_action_type_a_profile_allows_cannot_be_deleted(governance_admin, policy):
    with pytest.raises(Conflict, match="sales"):
        services.action_type_delete(policy.action_types.read, actor=governance_admin)
    assert ActionType.objects.filter(key="crm.read_record").exists()


def test_deleting_an_unused_action_type_is_audited(governance_admin):
    action_type = services.action_type_create(actor=governance_admin, key="x.y", name="X")
    services.action_type_delete(action_type, actor=governance_admin)
    event = AuditEvent.objects.get(event_type="config_deleted")
    assert event.changes["before"]["key"] == "x.y"
    assert event.changes["after"] is None


def test_profile_change_bumps_its_own_revision(governance_admin, policy):
    start = policy.profile.revision
    services.profile_update(policy.profile, actor=governance_admin, status="retired")
    policy.profile.refresh_from_db()
    assert policy.profile.revision == start + 1


def test_invalid_action_patterns_in_a_profile_are_refused(governance_admin, policy):
    with pytest.raises(ValidationFailed):
        services.profile_update(policy.profile, actor=governance_admin, action_types="crm.*")


def test_grant_changes_are_recorded_in_the_profiles_history(governance_admin, policy):
    grant = services.profile_grant_add(
        actor=governance_admin,
        profile=policy.profile,
        connector=policy.crm,
        resources=["contact/*"],
        access="read",
    )
    added = AuditEvent.objects.get(event_type="config_updated")
    assert added.object_type == "governance.permissionprofile"
    assert {"connector": "crm", "resources": ["contact/*"], "access": "read"} in added.changes[
        "after"
    ]["grants"]
    services.profile_grant_remove(grant, actor=governance_admin)
    removed = AuditEvent.objects.filter(event_type="config_updated").latest("id")
    assert len(removed.changes["after"]["grants"]) == 3


def test_grant_without_resources_is_refused(governance_admin, policy):
    with pytest.raises(ValidationFailed):
        services.profile_grant_add(
            actor=governance_admin, profile=policy.profile, connector=policy.crm, resources=[]
        )


def test_runtime_token_is_returned_once_and_stored_as_a_hash(governance_admin, policy):
    runtime, token = services.runtime_create(
        actor=governance_admin, name="ops-agent", profiles=[policy.profile]
    )
    stored = AgentRuntime.objects.get(name="ops-agent")
    assert token.startswith("agc_rt_")
    assert stored.token_hash == token_hash(token)
    assert token not in str(AgentRuntime.objects.filter(pk=stored.pk).values().get())
    created = AuditEvent.objects.get(event_type="config_created", object_repr="ops-agent")
    assert created.changes["after"]["token_hash"] == "********"
    assert token not in str(created.changes)
    assert AuditEvent.objects.filter(event_type="runtime_token_issued").count() == 1


def test_rotating_a_token_invalidates_the_old_one(governance_admin, policy):
    old_hash = policy.runtime.token_hash
    new_token = services.runtime_token_rotate(policy.runtime, actor=governance_admin)
    policy.runtime.refresh_from_db()
    assert policy.runtime.token_hash == token_hash(new_token) != old_hash


def test_revoking_a_runtime_is_audited_and_cannot_happen_twice(governance_admin, policy):
    services.runtime_revoke(policy.runtime, actor=governance_admin, reason="laptop lost")
    event = AuditEvent.objects.get(event_type="runtime_token_revoked")
    assert event.detail["reason"] == "laptop lost"
    with pytest.raises(Conflict):
        services.runtime_revoke(policy.runtime, actor=governance_admin)


def test_group_membership_change_is_audited(governance_admin, requester):
    approvers = GroupFactory(name="Approvers")
    services.user_groups_set(requester, actor=governance_admin, groups=[approvers])
    event = AuditEvent.objects.get(event_type="group_membership_changed")
    assert event.changes == {"before": {"groups": ["Sales"]}, "after": {"groups": ["Approvers"]}}


def test_catalog_item_change_bumps_the_revision(governance_admin):
    from catalog.services import catalog_item_update

    item = CatalogItemFactory(slug="wiki", status="proposed")
    before = revision()
    catalog_item_update(item, actor=governance_admin, status="approved")
    assert revision() == before + 1
