"""Rollout windows: pinning a new version while the previous one stays allowed until a
chosen moment, then refused with version_not_pinned. Through the service and the API, with
the decision API answering before and after the window's end."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.models import AuditEvent
from catalog.models import CatalogVersion
from catalog.services import catalog_version_pin, catalog_version_window_end
from catalog.tests.factories import CatalogVersionFactory
from governance.exceptions import PermissionDenied, ValidationFailed
from governance.selectors import policy_revision_current

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
UNTIL = MOMENT + timedelta(days=14)


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def new_version(clock, outreach_owned):
    return CatalogVersionFactory(item=outreach_owned, version="2.2.0")


def pinned_version(item) -> str:
    return item.versions.get(is_pinned=True).version


def owner_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_previous_version_is_allowed_until_the_window_ends_then_refused(
    new_version, connector_owner, decide, clock
):
    catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=UNTIL)
    assert decide(plugin="outreach@2.2.0").json()["outcome"] == "allow"
    inside = decide(plugin="outreach@2.1.0").json()
    assert (inside["outcome"], inside["reason"]) == ("allow", "auto_execute_allowlisted")
    revision = policy_revision_current()
    clock.move_to(UNTIL - timedelta(seconds=1))
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"
    clock.move_to(UNTIL)
    after = decide(plugin="outreach@2.1.0").json()
    assert (after["outcome"], after["reason"]) == ("deny", "version_not_pinned")
    assert "rollout window ended" in after["message"]
    # No configuration change in between: the engine compared the times itself.
    assert policy_revision_current() == revision


def test_pinning_with_a_window_is_audited_with_the_window(new_version, connector_owner):
    before = policy_revision_current()[0]
    catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=UNTIL)
    event = AuditEvent.objects.get(event_type="catalog_version_pinned")
    assert event.actor_user_id == connector_owner.pk
    assert event.changes == {
        "before": {"pinned_version": "2.1.0"},
        "after": {
            "pinned_version": "2.2.0",
            "rollout_window": {"version": "2.1.0", "allowed_until": UNTIL.isoformat()},
        },
    }
    assert event.policy_revision == before + 1
    previous = new_version.item.versions.get(version="2.1.0")
    assert previous.allowed_until == UNTIL and previous.in_rollout_window()


def test_pinning_without_a_window_refuses_the_previous_version_at_once(
    new_version, connector_owner, decide
):
    catalog_version_pin(new_version, actor=connector_owner)
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"
    assert (
        "rollout_window"
        not in AuditEvent.objects.get(event_type="catalog_version_pinned").changes["after"]
    )


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (MOMENT - timedelta(hours=1), "must end in the future"),
        (MOMENT, "must end in the future"),
        (MOMENT + timedelta(days=91), "at most 90 days"),
    ],
)
def test_a_window_in_the_past_or_too_long_is_refused_and_nothing_changes(
    new_version, connector_owner, until, message
):
    revision = policy_revision_current()
    with pytest.raises(ValidationFailed, match=message):
        catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=until)
    assert pinned_version(new_version.item) == "2.1.0"
    assert not CatalogVersion.objects.exclude(allowed_until=None).exists()
    assert not AuditEvent.objects.filter(event_type="catalog_version_pinned").exists()
    assert policy_revision_current() == revision


def test_someone_who_does_not_own_the_item_cannot_open_a_window(new_version, other_owner):
    with pytest.raises(PermissionDenied):
        catalog_version_pin(new_version, actor=other_owner, previous_allowed_until=UNTIL)
    assert pinned_version(new_version.item) == "2.1.0"
    assert not CatalogVersion.objects.exclude(allowed_until=None).exists()


def test_rolling_back_to_a_version_in_its_window_pins_it_and_closes_the_window(
    new_version, connector_owner, decide
):
    catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=UNTIL)
    previous = new_version.item.versions.get(version="2.1.0")
    catalog_version_pin(previous, actor=connector_owner)
    previous.refresh_from_db()
    assert previous.is_pinned and previous.allowed_until is None
    assert decide(plugin="outreach@2.2.0").json()["reason"] == "version_not_pinned"


def test_an_owner_ends_a_window_early_and_the_next_decision_is_refused(
    new_version, connector_owner, decide
):
    catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=UNTIL)
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"
    catalog_version_window_end(
        new_version.item.versions.get(version="2.1.0"), actor=connector_owner
    )
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"
    event = AuditEvent.objects.filter(event_type="config_updated").latest("id")
    assert event.changes["after"] == {"rollout_window": None}


def test_yanking_a_version_in_its_window_refuses_it(new_version, connector_owner, decide):
    from catalog.services import catalog_version_yank

    catalog_version_pin(new_version, actor=connector_owner, previous_allowed_until=UNTIL)
    previous = new_version.item.versions.get(version="2.1.0")
    catalog_version_yank(previous, actor=connector_owner, reason="CVE-2026-1")
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_yanked"


# -- the API ------------------------------------------------------------------------------


def pin_url(version="2.2.0") -> str:
    return f"/api/v1/catalog/items/outreach/versions/{version}/pin"


def test_api_pins_with_a_window_and_the_decision_api_honours_it(
    new_version, connector_owner, decide, clock
):
    response = owner_client(connector_owner).post(
        pin_url(), {"previous_allowed_until": UNTIL.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_pinned"] is True
    item = owner_client(connector_owner).get("/api/v1/catalog/items/outreach").json()
    versions = {v["version"]: v for v in item["versions"]}
    assert versions["2.1.0"]["allowed_until"].startswith("2026-12-08T10:00:00")
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"
    clock.move_to(UNTIL + timedelta(minutes=1))
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"


@pytest.mark.parametrize(
    "body",
    [
        {"previous_allowed_until": "next tuesday"},
        {"previous_allowed_until": (MOMENT - timedelta(days=1)).isoformat()},
        {"previous_allowed_until": (MOMENT + timedelta(days=120)).isoformat()},
        {"until": UNTIL.isoformat()},
    ],
)
def test_api_refuses_a_bad_window_with_a_400_and_changes_nothing(
    new_version, connector_owner, body
):
    response = owner_client(connector_owner).post(pin_url(), body, format="json")
    assert response.status_code == 400
    assert pinned_version(new_version.item) == "2.1.0"
    assert not CatalogVersion.objects.exclude(allowed_until=None).exists()


def test_api_pin_is_forbidden_to_someone_who_does_not_own_the_item(new_version, other_owner):
    response = owner_client(other_owner).post(
        pin_url(), {"previous_allowed_until": UNTIL.isoformat()}, format="json"
    )
    assert response.status_code == 403
    assert pinned_version(new_version.item) == "2.1.0"


def test_api_publish_with_a_window(
    clock, outreach_owned, version_request, connector_owner, security_reviewer, decide
):
    from catalog.tests.conftest import approve
    from governance.tests.factories import UserFactory

    approve(version_request, security=security_reviewer, data=UserFactory(groups=["CRM owners"]))
    response = owner_client(connector_owner).post(
        f"/api/v1/catalog/intake/{version_request.pk}/publish",
        {"pin": True, "previous_allowed_until": UNTIL.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "published"
    assert pinned_version(outreach_owned) == "2.2.0"
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"
    clock.move_to(UNTIL)
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"


def test_api_publish_refuses_a_window_without_pinning(
    clock, outreach_owned, version_request, connector_owner, security_reviewer
):
    from catalog.tests.conftest import approve
    from governance.tests.factories import UserFactory

    approve(version_request, security=security_reviewer, data=UserFactory(groups=["CRM owners"]))
    response = owner_client(connector_owner).post(
        f"/api/v1/catalog/intake/{version_request.pk}/publish",
        {"pin": False, "previous_allowed_until": UNTIL.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    version_request.refresh_from_db()
    assert version_request.state == "approved"
    assert pinned_version(outreach_owned) == "2.1.0"
