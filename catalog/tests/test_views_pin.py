"""The blast radius of a pin and its confirmation page: what the last 30 days' decisions
naming the pinned version would become, by runtime and profile (history built with a
frozen clock), the rollout window chosen on the page, and who may do it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.models import AuditEvent
from catalog.models import CatalogVersion, IntakeRequest
from catalog.selectors import catalog_pin_blast_radius
from catalog.tests.conftest import approve
from catalog.tests.factories import CatalogVersionFactory
from governance.periods import day_start
from governance.tests.factories import AgentRuntimeFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def history(clock, policy, outreach_owned, decide):
    """The last weeks of outreach: sales-agent made 5 allowed reads, 2 e-mails sent to a
    person, 1 denied read (out of scope, a check after the catalog's) and 1 denied for a
    person who may not launch the profile (a check before the catalog's), all naming 2.1.0;
    ops-agent made 3 allowed reads. Outside the count: a read 40 days ago and one naming
    2.0.0 (refused already)."""
    ops = AgentRuntimeFactory(name="ops-agent", profiles=[policy.profile])
    ops_client = APIClient()
    ops_client.credentials(HTTP_AUTHORIZATION=f"Bearer {ops.token}")
    clock.move_to(NOW - timedelta(days=40))
    assert decide().json()["outcome"] == "allow"
    for day in range(5):
        clock.move_to(NOW - timedelta(days=day + 1))
        assert decide().json()["outcome"] == "allow"
    for day in range(2):
        clock.move_to(NOW - timedelta(days=day + 2, hours=2))
        body = decide(
            action="mail.send_external", connector="mail", data_sources=["mail:outbox/1"]
        ).json()
        assert body["outcome"] == "pending"
    clock.move_to(NOW - timedelta(days=3))
    assert decide(data_sources=["crm:contact/9"]).json()["reason"] == "data_source_out_of_scope"
    assert decide(on_behalf_of="oscar@else.example").json()["reason"] == "launcher_not_allowed"
    assert decide(plugin="outreach@2.0.0").json()["reason"] == "version_not_pinned"
    from governance.tests.fixtures import proposal as _  # noqa: F401 - the fixture's shape

    for day in range(3):
        clock.move_to(NOW - timedelta(days=day + 4))
        body = {
            "request_id": f"ops-{day}",
            "on_behalf_of": policy.requester.email,
            "profile": "sales",
            "action": "crm.read_record",
            "data_sources": ["crm:account/7"],
            "plugin": "outreach@2.1.0",
        }
        assert ops_client.post("/api/v1/decisions", body, format="json").json()["outcome"] == (
            "allow"
        )
    clock.move_to(NOW)
    return CatalogVersionFactory(item=outreach_owned, version="2.2.0")


def url(version) -> str:
    return f"/catalog/outreach/versions/{version.pk}/pin/"


def test_blast_radius_counts_the_last_30_days_by_runtime_and_profile(history, outreach_owned):
    radius = catalog_pin_blast_radius(outreach_owned, history)
    assert radius.current.version == "2.1.0"
    rows = {(r.runtime, r.profile): r for r in radius.rows}
    assert set(rows) == {("sales-agent", "sales"), ("ops-agent", "sales")}
    sales = rows[("sales-agent", "sales")]
    assert (sales.total, sales.refused, sales.unchanged) == (9, 8, 1)
    assert dict(sales.outcomes) == {"allow": 5, "pending": 2, "deny": 2}
    assert dict(sales.reasons) == {"launcher_not_allowed": 1}
    ops = rows[("ops-agent", "sales")]
    assert (ops.total, ops.refused, dict(ops.outcomes)) == (3, 3, {"allow": 3})
    assert (radius.total, radius.refused, radius.allowed) == (12, 11, 8)


def test_owner_sees_the_blast_radius_before_pinning(client, history, connector_owner):
    client.force_login(connector_owner)
    response = client.get(url(history))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="radius-refused">11<' in content
    assert 'data-testid="radius-sales-agent-sales"' in content
    assert 'data-testid="radius-ops-agent-sales"' in content
    assert "<strong>12</strong> decisions in the last 30 days" in content
    assert "version_not_pinned" in content
    assert 'value="window"' in content and 'value="2026-12-08"' in content  # 14 days ahead


def test_pinning_at_once_needs_the_confirmation_and_changes_nothing_without_it(
    client, history, connector_owner
):
    client.force_login(connector_owner)
    response = client.post(url(history), {"pin": "now"})
    assert response.status_code == 400
    assert 'data-testid="confirm-error"' in response.content.decode()
    assert 'data-testid="blast-radius"' in response.content.decode()  # the page is intact
    assert CatalogVersion.objects.get(item=history.item, is_pinned=True).version == "2.1.0"
    assert not AuditEvent.objects.filter(event_type="catalog_version_pinned").exists()
    response = client.post(url(history), {"pin": "now", "confirm": "on"})
    assert response.status_code == 302
    assert CatalogVersion.objects.get(item=history.item, is_pinned=True).version == "2.2.0"


def test_owner_pins_with_a_rollout_window_and_the_item_page_shows_it(
    client, history, connector_owner, decide, clock
):
    client.force_login(connector_owner)
    response = client.post(url(history), {"pin": "window", "allowed_until": "2026-12-08"})
    assert response.status_code == 302 and response["Location"] == "/catalog/outreach/"
    previous = CatalogVersion.objects.get(item=history.item, version="2.1.0")
    assert previous.allowed_until == day_start(date(2026, 12, 8))
    event = AuditEvent.objects.get(event_type="catalog_version_pinned")
    assert event.changes["after"]["rollout_window"] == {
        "version": "2.1.0",
        "allowed_until": "2026-12-08T00:00:00+00:00",
    }
    page = client.get("/catalog/outreach/").content.decode()
    assert 'data-testid="rollout-window"' in page
    assert "2.1.0 stays allowed beside the pinned version until 2026-12-08 00:00" in page
    assert "End window…" in page
    assert decide().json()["outcome"] == "allow"
    clock.move_to(datetime(2026, 12, 8, tzinfo=UTC))
    assert decide().json()["reason"] == "version_not_pinned"
    page = client.get("/catalog/outreach/").content.decode()
    assert 'data-testid="rollout-window"' not in page and "rollout window ended" in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"pin": "window", "allowed_until": "2026-11-20"}, "Choose a date after today"),
        ({"pin": "window", "allowed_until": "2026-11-24"}, "Choose a date after today"),
        ({"pin": "window", "allowed_until": "2027-06-01"}, "At most 90 days ahead"),
        ({"pin": "window", "allowed_until": ""}, "Choose the day the rollout window ends"),
        ({"pin": "window", "allowed_until": "soon"}, "Enter a valid date"),
        ({"pin": "sideways"}, "Select a valid choice"),
    ],
)
def test_a_bad_window_is_refused_in_place_and_nothing_changes(
    client, history, connector_owner, data, error
):
    client.force_login(connector_owner)
    response = client.post(url(history), data)
    assert response.status_code == 400
    content = response.content.decode()
    assert error in content and 'data-testid="blast-radius"' in content
    assert CatalogVersion.objects.get(item=history.item, is_pinned=True).version == "2.1.0"
    assert not CatalogVersion.objects.exclude(allowed_until=None).exists()
    assert not AuditEvent.objects.filter(event_type="catalog_version_pinned").exists()


@pytest.mark.parametrize("who", ["other_owner", "requester", "auditor", "leader"])
def test_only_the_items_owners_may_open_or_post_the_pin_page(client, history, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(history)).status_code == 403
    response = client.post(url(history), {"pin": "window", "allowed_until": "2026-12-08"})
    assert response.status_code == 403
    assert CatalogVersion.objects.get(item=history.item, is_pinned=True).version == "2.1.0"


def test_governance_admin_may_pin(client, history, governance_admin):
    client.force_login(governance_admin)
    assert client.get(url(history)).status_code == 200


def test_the_pin_page_needs_a_sign_in_and_a_csrf_token(client, history, connector_owner):
    assert client.get(url(history)).status_code == 302
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(connector_owner)
    assert strict.post(url(history), {"pin": "now", "confirm": "on"}).status_code == 403
    assert CatalogVersion.objects.get(item=history.item, is_pinned=True).version == "2.1.0"


def test_ending_a_window_early_is_for_owners(client, history, connector_owner, other_owner):
    client.force_login(connector_owner)
    client.post(url(history), {"pin": "window", "allowed_until": "2026-12-08"})
    previous = CatalogVersion.objects.get(item=history.item, version="2.1.0")
    end = f"/catalog/outreach/versions/{previous.pk}/end-window/"
    client.force_login(other_owner)
    response = client.post(end, follow=True)
    assert "Only the owners" in response.content.decode()
    assert CatalogVersion.objects.get(pk=previous.pk).allowed_until is not None
    client.force_login(connector_owner)
    client.post(end)
    assert CatalogVersion.objects.get(pk=previous.pk).allowed_until is None


# -- publishing an intake request -------------------------------------------------------


@pytest.fixture
def approved(version_request, history, security_reviewer):
    """outreach 2.2.0... as an intake request, approved by both reviews."""
    version_request.version = "2.3.0"
    version_request.save()
    return approve(
        version_request, security=security_reviewer, data=UserFactory(groups=["CRM owners"])
    )


def publish_url(intake) -> str:
    return f"/catalog/intake/{intake.pk}/publish/"


def test_owner_sees_the_blast_radius_before_publishing(client, approved, connector_owner):
    client.force_login(connector_owner)
    detail = client.get(approved.get_absolute_url()).content.decode()
    assert "Review the impact and publish" in detail
    assert 'data-testid="publish"' not in detail  # no one-click publish any more
    content = client.get(publish_url(approved)).content.decode()
    assert 'data-testid="radius-refused">11<' in content
    assert "Publish 2.3.0 without pinning it (2.1.0 stays pinned)" in content


def test_publishing_with_a_rollout_window(client, approved, connector_owner, decide):
    client.force_login(connector_owner)
    response = client.post(publish_url(approved), {"pin": "window", "allowed_until": "2026-12-01"})
    assert response.status_code == 302 and response["Location"] == "/catalog/outreach/"
    approved.refresh_from_db()
    assert approved.state == "published" and approved.published_version.is_pinned
    assert CatalogVersion.objects.get(
        item=approved.item, version="2.1.0"
    ).allowed_until == day_start(date(2026, 12, 1))
    assert decide().json()["outcome"] == "allow"


def test_publishing_needs_a_choice_and_a_post_without_one_changes_nothing(
    client, approved, connector_owner
):
    client.force_login(connector_owner)
    response = client.post(publish_url(approved), {})
    assert response.status_code == 400
    assert IntakeRequest.objects.get(pk=approved.pk).state == "approved"
    assert not CatalogVersion.objects.filter(version="2.3.0").exists()


def test_publishing_without_pinning_keeps_the_pinned_version(client, approved, connector_owner):
    client.force_login(connector_owner)
    client.post(publish_url(approved), {"pin": "none"})
    assert CatalogVersion.objects.get(item=approved.item, is_pinned=True).version == "2.1.0"
    assert CatalogVersion.objects.get(version="2.3.0").review_state == "approved"


@pytest.mark.parametrize(("who", "status"), [("requester", 403), ("other_owner", 404)])
def test_publish_page_is_for_the_items_owners(client, approved, request, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(publish_url(approved)).status_code == status
    assert client.post(publish_url(approved), {"pin": "now", "confirm": "on"}).status_code == (
        status
    )
    assert IntakeRequest.objects.get(pk=approved.pk).state == "approved"


def test_publish_page_of_a_request_not_yet_approved_says_so(
    client, version_request, history, connector_owner
):
    client.force_login(connector_owner)
    response = client.get(publish_url(version_request), follow=True)
    assert "only an approved request is published" in response.content.decode()
    assert IntakeRequest.objects.get(pk=version_request.pk).state == "submitted"


# -- the API --------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_gives_the_blast_radius_to_the_items_owners(history, connector_owner, other_owner):
    path = "/api/v1/catalog/items/outreach/versions/2.2.0/blast-radius"
    body = api(connector_owner).get(path).json()
    assert (body["current_version"], body["new_version"]) == ("2.1.0", "2.2.0")
    assert (body["total"], body["refused"], body["applies"]) == (12, 11, True)
    rows = {(r["runtime"], r["profile"]): r for r in body["rows"]}
    assert rows[("sales-agent", "sales")]["outcomes"] == {"allow": 5, "pending": 2, "deny": 2}
    assert rows[("sales-agent", "sales")]["reasons"] == {"launcher_not_allowed": 1}
    assert api(other_owner).get(path).status_code == 403
    missing = "/api/v1/catalog/items/outreach/versions/9.9.9/blast-radius"
    assert api(connector_owner).get(missing).status_code == 404


def test_api_gives_the_blast_radius_of_publishing(client, approved, connector_owner, requester):
    path = f"/api/v1/catalog/intake/{approved.pk}/blast-radius"
    body = api(connector_owner).get(path).json()
    assert (body["new_version"], body["refused"]) == ("2.3.0", 11)
    assert api(requester).get(path).status_code == 403


def test_publishing_a_new_item_has_no_blast_radius_and_needs_no_confirmation(
    client, new_item_request, security_reviewer, governance_admin
):
    approve(new_item_request, security=security_reviewer, data=governance_admin)
    client.force_login(governance_admin)
    content = client.get(publish_url(new_item_request)).content.decode()
    assert "No version of meeting-notes is pinned yet" in content
    assert 'value="window"' not in content
    response = client.post(publish_url(new_item_request), {"pin": "now"})
    assert response.status_code == 302 and response["Location"] == "/catalog/meeting-notes/"
    assert CatalogVersion.objects.get(item__slug="meeting-notes").is_pinned


def test_pinning_a_connector_version_refuses_nothing(client, policy, governance_admin):
    newer = CatalogVersionFactory(item=policy.crm, version="1.5.0")
    client.force_login(governance_admin)
    content = client.get(f"/catalog/crm/versions/{newer.pk}/pin/").content.decode()
    assert "Agents name a connector without its version" in content
    assert client.post(f"/catalog/crm/versions/{newer.pk}/pin/", {"pin": "now"}).status_code == 302
    assert CatalogVersion.objects.get(pk=newer.pk).is_pinned
