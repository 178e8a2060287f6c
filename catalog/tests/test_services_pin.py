"""Pin, roll back and yank: who may, what is refused, and the effect on the next decision."""

import pytest

from audit.models import AuditEvent
from catalog.models import CatalogVersion
from catalog.services import catalog_version_pin, catalog_version_yank
from catalog.tests.factories import CatalogVersionFactory
from governance.exceptions import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def outreach_owned_by(policy, connector_owner):
    policy.outreach.owner = connector_owner
    policy.outreach.save()
    return policy.outreach


def version(item, name) -> CatalogVersion:
    return item.versions.get(version=name)


def test_owner_rolls_back_to_an_earlier_approved_version(
    outreach_owned_by, connector_owner, decide
):
    catalog_version_pin(version(outreach_owned_by, "2.0.0"), actor=connector_owner)
    assert version(outreach_owned_by, "2.0.0").is_pinned
    assert not version(outreach_owned_by, "2.1.0").is_pinned
    event = AuditEvent.objects.get(event_type="catalog_version_pinned")
    assert event.changes == {
        "before": {"pinned_version": "2.1.0"},
        "after": {"pinned_version": "2.0.0"},
    }
    assert decide(plugin="outreach@2.0.0").json()["outcome"] == "allow"
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"


def test_someone_else_cannot_pin(outreach_owned_by, other_owner):
    with pytest.raises(PermissionDenied):
        catalog_version_pin(version(outreach_owned_by, "2.0.0"), actor=other_owner)


def test_member_of_the_owning_group_may_pin(policy, connector_owner):
    from django.contrib.auth.models import Group

    policy.outreach.owning_group = Group.objects.get(name="CRM owners")
    policy.outreach.save()
    catalog_version_pin(version(policy.outreach, "2.0.0"), actor=connector_owner)
    assert version(policy.outreach, "2.0.0").is_pinned


def test_unreviewed_version_cannot_be_pinned(outreach_owned_by, connector_owner):
    pending = CatalogVersionFactory(item=outreach_owned_by, version="3.0.0", review_state="pending")
    with pytest.raises(Conflict, match="pending"):
        catalog_version_pin(pending, actor=connector_owner)


def test_yanked_version_cannot_be_pinned(outreach_owned_by, connector_owner):
    with pytest.raises(Conflict, match="yanked"):
        catalog_version_pin(version(outreach_owned_by, "1.9.0"), actor=connector_owner)


def test_yanking_the_pinned_version_unpins_it_and_refuses_the_next_decision(
    outreach_owned_by, connector_owner, decide
):
    catalog_version_yank(version(outreach_owned_by, "2.1.0"), actor=connector_owner, reason="CVE")
    assert not CatalogVersion.objects.filter(item=outreach_owned_by, is_pinned=True).exists()
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_yanked"
    event = AuditEvent.objects.get(event_type="catalog_version_yanked")
    assert event.changes["before"]["pinned"] is True
    assert event.changes["after"] == {"yanked": True, "pinned": False, "reason": "CVE"}


def test_yank_needs_a_reason(outreach_owned_by, connector_owner):
    with pytest.raises(Conflict):
        catalog_version_yank(version(outreach_owned_by, "2.0.0"), actor=connector_owner, reason=" ")


def test_pinning_the_pinned_version_again_records_nothing(outreach_owned_by, connector_owner):
    catalog_version_pin(version(outreach_owned_by, "2.1.0"), actor=connector_owner)
    assert not AuditEvent.objects.filter(event_type="catalog_version_pinned").exists()
