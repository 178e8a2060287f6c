"""Tuning recommendations: each rule, storing, applying and dismissing."""

from datetime import timedelta

import pytest
import time_machine

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast
from audit.choices import RecommendationKind
from audit.insights.rollups import rollups_refresh
from audit.insights.simulator import Change
from audit.insights.tests.scenarios import UPDATE
from audit.insights.tuning import (
    change_apply,
    recommendation_apply,
    recommendation_dismiss,
    recommendations_compute,
    recommendations_refresh,
)
from audit.models import AuditEvent, Recommendation
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import ActionType, PermissionProfile, ProfileGrant
from governance.selectors import policy_revision_current

pytestmark = pytest.mark.django_db


def kinds(found) -> dict:
    return {r["key"]: r for r in found}


def test_an_action_people_always_approve_is_an_allow_list_candidate(waved_through):
    found = kinds(recommendations_compute())
    candidate = found["allowlist:crm.update_record"]
    assert candidate["kind"] == RecommendationKind.ALLOWLIST_CANDIDATE
    assert candidate["change"] == {
        "kind": "allowlist_add",
        "action": "crm.update_record",
        "profile": "",
        "connector": "",
        "resources": [],
        "access": "read",
    }
    assert candidate["evidence"]["approval_rate"] == 1.0
    assert candidate["evidence"]["link"].startswith("/audit/?")


def test_an_irreversible_action_is_never_proposed_for_auto_execution_only_flagged(waved_through):
    found = kinds(recommendations_compute())
    assert "allowlist:mail.send_external" not in found
    flag = found["flag:mail.send_external"]
    assert flag["kind"] == RecommendationKind.ALWAYS_APPROVED_FLAG
    assert flag["change"] is None


def test_one_rejection_or_too_few_requests_is_no_candidate(
    decide, approver, second_approver, settings
):
    settings.TUNING = {**settings.TUNING, "min_count": 3}
    for _ in range(3):
        decide(**UPDATE)
    approvals = list(ApprovalRequest.objects.filter(decision__action="crm.update_record"))
    approval_vote_cast(approvals[0].pk, voter=approver, verdict="reject", comment="no")
    for approval in approvals[1:]:
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    rollups_refresh(full=True)
    assert "allowlist:crm.update_record" not in kinds(recommendations_compute())
    settings.TUNING = {**settings.TUNING, "min_count": 10}
    assert "allowlist:crm.update_record" not in kinds(recommendations_compute())


def test_denials_that_concentrate_are_a_cluster(decide, settings):
    settings.TUNING = {**settings.TUNING, "cluster_min": 3, "cluster_share": 0.5}
    decide()
    for n in range(4):
        decide(data_sources=[f"crm:contact/{n}"])
    rollups_refresh(full=True)
    cluster = kinds(recommendations_compute())["denials:sales:data_source_out_of_scope:crm"]
    assert cluster["evidence"]["denials"] == 4 and cluster["evidence"]["profile_requests"] == 5


def test_a_group_slower_than_its_sla_is_a_bottleneck(decide, approver, policy):
    policy.action_types.update.approval_sla_minutes = 10
    policy.action_types.update.approval_ttl_minutes = 600
    policy.action_types.update.save()
    decide(**UPDATE)
    approval = ApprovalRequest.objects.get()
    with time_machine.travel(approval.created_at + timedelta(hours=2)):
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    rollups_refresh(full=True)
    bottleneck = kinds(recommendations_compute())["bottleneck:Approvers"]
    assert (bottleneck["evidence"]["within_sla"], bottleneck["evidence"]["decided"]) == (0, 1)
    assert bottleneck["evidence"]["median_minutes"] >= 120


def test_access_not_exercised_in_90_days_is_flagged(decide):
    decide()
    rollups_refresh(full=True)
    found = kinds(recommendations_compute())
    assert "unused-action:sales:mail.send_external" in found
    assert "unused-action:sales:crm.read_record" not in found
    assert "unused-grant:sales:mail:outbox/*:write" in found
    assert found["unused-grant:sales:mail:outbox/*:write"]["change"]["kind"] == "grant_remove"


def test_refresh_stores_recommendations_and_does_not_repeat_a_dismissed_one(
    waved_through, governance_admin
):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    recommendation_dismiss(
        candidate, actor=governance_admin, reason="Sales leads want to see these"
    )
    recommendations_refresh()
    assert not Recommendation.objects.filter(
        key="allowlist:crm.update_record", status="open"
    ).exists()


def test_applying_a_recommendation_changes_the_policy_with_an_audit_trail(
    waved_through, governance_admin, decide
):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    revision = policy_revision_current()[0]
    recommendation_apply(candidate, actor=governance_admin)
    assert ActionType.objects.get(key="crm.update_record").auto_execute is True
    assert policy_revision_current()[0] > revision
    assert AuditEvent.objects.filter(event_type="recommendation_applied").count() == 1
    assert AuditEvent.objects.filter(
        event_type="config_updated", object_repr="crm.update_record"
    ).exists()
    assert decide(**UPDATE).json()["outcome"] == "allow"
    with pytest.raises(Conflict):
        recommendation_apply(candidate, actor=governance_admin)


def test_only_admins_apply_and_dismissing_needs_a_reason(waved_through, leader, governance_admin):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    revision = policy_revision_current()[0]
    with pytest.raises(PermissionDenied):
        recommendation_apply(candidate, actor=leader)
    with pytest.raises(ValidationFailed):
        recommendation_dismiss(candidate, actor=governance_admin, reason=" ")
    candidate.refresh_from_db()
    assert candidate.status == "open"
    assert ActionType.objects.get(key="crm.update_record").auto_execute is False
    assert policy_revision_current()[0] == revision
    assert not AuditEvent.objects.filter(
        event_type__in=["recommendation_applied", "recommendation_dismissed"]
    ).exists()


def test_a_flag_cannot_be_applied(waved_through, governance_admin):
    recommendations_refresh()
    flag = Recommendation.objects.get(key="flag:mail.send_external")
    with pytest.raises(ValidationFailed, match="flag"):
        recommendation_apply(flag, actor=governance_admin)


# -- change_apply for every kind of change, seen through the decision API ---------------


def applied(change: Change, actor) -> int:
    revision = policy_revision_current()[0]
    events = AuditEvent.objects.count()
    change_apply(change, actor=actor)
    assert policy_revision_current()[0] > revision
    assert AuditEvent.objects.count() > events
    return revision


def test_change_apply_grant_add_opens_the_new_resources(decide, governance_admin):
    contact = dict(data_sources=["crm:contact/7"])
    assert decide(**contact).json()["reason"] == "data_source_out_of_scope"
    applied(
        Change("grant_add", profile="sales", connector="crm", resources=("contact/*",)),
        governance_admin,
    )
    grant = ProfileGrant.objects.get(profile__slug="sales", resources=["contact/*"])
    assert (grant.connector.slug, grant.access) == ("crm", "read")
    assert decide(**contact).json()["outcome"] == "allow"


def test_change_apply_grant_add_refuses_an_unknown_connector_and_changes_nothing(
    decide, governance_admin
):
    grants = list(ProfileGrant.objects.values())
    revision = policy_revision_current()[0]
    with pytest.raises(ValidationFailed, match="no connector 'erp'"):
        change_apply(
            Change("grant_add", profile="sales", connector="erp", resources=("x/*",)),
            actor=governance_admin,
        )
    assert list(ProfileGrant.objects.values()) == grants
    assert policy_revision_current()[0] == revision


def test_change_apply_grant_remove_closes_the_resources(decide, governance_admin):
    assert decide().json()["outcome"] == "allow"
    applied(
        Change("grant_remove", profile="sales", connector="crm", resources=("account/*",)),
        governance_admin,
    )
    assert not ProfileGrant.objects.filter(profile__slug="sales", resources=["account/*"]).exists()
    assert ProfileGrant.objects.filter(profile__slug="sales").count() == 2  # the others stay
    assert decide().json()["reason"] == "data_source_out_of_scope"


def test_change_apply_profile_action_remove_stops_only_that_action(decide, governance_admin):
    assert decide().json()["outcome"] == "allow"
    applied(
        Change("profile_action_remove", profile="sales", action="crm.read_record"),
        governance_admin,
    )
    profile = PermissionProfile.objects.get(slug="sales")
    assert "crm.read_record" not in profile.action_types
    assert "crm.update_record" in profile.action_types
    assert decide().json()["reason"] == "action_not_in_profile"
    assert decide(**UPDATE).json()["outcome"] == "pending"
