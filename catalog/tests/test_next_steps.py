"""What intake requests wait for, said to each person: the "What next" card of a request
for every state and role, and the intake reviews on the home page."""

import pytest

from catalog.tests.conftest import DATA, SECURITY, approve
from catalog.workflow import (
    intake_request_publish,
    intake_request_reject,
    intake_request_withdraw,
    intake_review_add,
)
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def next_step(client, user, intake) -> str:
    client.force_login(user)
    response = client.get(intake.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    start = content.index('data-testid="what-next"')
    return content[start : content.index("</section>", start)]


@pytest.fixture
def crm_owner_colleague(db):
    """Another member of the CRM owners group (the second reviewer of outreach)."""
    return UserFactory(username="carla", groups=["CRM owners"])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("connector_owner", "Your turn: give the security review or the data review below"),
        ("security_reviewer", "Your turn: give the security review below"),
        ("requester", "Waiting for the security review and the data review. You get an e-mail"),
        ("auditor", "Waiting for the security review and the data review, by the item&#x27;s"),
    ],
)
def test_a_submitted_request_says_whose_turn_it_is(client, version_request, request, who, expected):
    card = next_step(client, request.getfixturevalue(who), version_request)
    assert expected in card


def test_a_reviewer_who_gave_one_review_is_told_the_other_needs_someone_else(
    client, version_request, security_reviewer
):
    intake_review_add(
        version_request,
        actor=security_reviewer,
        kind="security",
        verdict="approve",
        checklist=sorted(SECURITY),
    )
    card = next_step(client, security_reviewer, version_request)
    assert "You gave the security review; the data review must come from another person." in card


def test_changes_requested_sends_the_requester_to_resubmit(
    client, version_request, connector_owner, requester
):
    intake_review_add(
        version_request,
        actor=connector_owner,
        kind="data",
        verdict="request_changes",
        comment="List the ledgers.",
    )
    assert "change the request and resubmit it" in next_step(client, requester, version_request)
    assert "Change and resubmit" in next_step(client, requester, version_request)
    card = next_step(client, connector_owner, version_request)
    assert "Waiting for sam@corp.example to change and resubmit it." in card


def test_an_approved_request_sends_the_owner_to_the_publish_page(
    client, version_request, security_reviewer, crm_owner_colleague, connector_owner, requester
):
    approve(version_request, security=security_reviewer, data=crm_owner_colleague)
    card = next_step(client, connector_owner, version_request)
    assert "Both reviews approved it: publish 2.2.0." in card
    assert "See first which decisions named 2.1.0" in card
    assert f'href="/catalog/intake/{version_request.pk}/publish/"' in card
    card = next_step(client, requester, version_request)
    assert "waiting for the item&#x27;s owners to publish it." in card
    assert "/publish/" not in card


def test_closed_requests_say_there_is_nothing_left_to_do(
    client, version_request, new_item_request, security_reviewer, crm_owner_colleague,
    connector_owner, governance_admin, requester
):  # fmt: skip
    approve(version_request, security=security_reviewer, data=crm_owner_colleague)
    intake_request_publish(version_request, actor=connector_owner)
    card = next_step(client, requester, version_request)
    assert "Published as outreach@2.2.0 and pinned." in card and 'href="/catalog/outreach/"' in card
    intake_request_reject(new_item_request, actor=governance_admin, reason="Use the CRM.")
    assert "Rejected: nothing more to do." in next_step(client, requester, new_item_request)


def test_a_withdrawn_request_says_so(client, version_request, requester, connector_owner):
    intake_request_withdraw(version_request, actor=requester)
    assert "Withdrawn by the requester" in next_step(client, connector_owner, version_request)


# -- home -----------------------------------------------------------------------------


def home(client, user) -> str:
    client.force_login(user)
    return client.get("/").content.decode()


def test_owner_home_lists_the_intake_reviews_waiting_for_him(
    client, version_request, connector_owner
):
    content = home(client, connector_owner)
    assert 'data-testid="intake-waiting">1<' in content
    assert f'href="/catalog/intake/{version_request.pk}/"' in content
    assert "outreach@2.2.0" in content and "your security or data review" in content


def test_owner_home_drops_a_request_he_reviewed_and_lists_it_again_to_publish(
    client, version_request, connector_owner, security_reviewer
):
    intake_review_add(
        version_request, actor=connector_owner, kind="data", verdict="approve",
        checklist=sorted(DATA),
    )  # fmt: skip
    assert 'data-testid="intake-waiting">0<' in home(client, connector_owner)
    intake_review_add(
        version_request, actor=security_reviewer, kind="security", verdict="approve",
        checklist=sorted(SECURITY),
    )  # fmt: skip
    content = home(client, connector_owner)
    assert 'data-testid="intake-to-publish">1<' in content and "publish it" in content


def test_security_reviewer_home_lists_the_security_reviews(
    client, version_request, new_item_request, security_reviewer
):
    content = home(client, security_reviewer)
    assert 'data-testid="intake-waiting">2<' in content
    assert "your security review" in content


@pytest.mark.parametrize("who", ["requester", "approver", "leader", "auditor", "outsider"])
def test_people_who_review_no_intake_get_no_intake_card(client, version_request, request, who):
    assert 'data-testid="intake-work"' not in home(client, request.getfixturevalue(who))


def test_other_owner_sees_the_card_but_not_requests_for_items_he_does_not_own(
    client, version_request, other_owner
):
    content = home(client, other_owner)
    assert 'data-testid="intake-waiting">0<' in content
    assert "outreach@2.2.0" not in content


def test_a_request_published_with_a_rollout_window_says_until_when(
    client, version_request, security_reviewer, crm_owner_colleague, connector_owner
):
    from datetime import timedelta

    from django.utils import timezone

    approve(version_request, security=security_reviewer, data=crm_owner_colleague)
    until = timezone.now().replace(microsecond=0) + timedelta(days=3)
    intake_request_publish(version_request, actor=connector_owner, previous_allowed_until=until)
    card = next_step(client, connector_owner, version_request)
    assert f"2.1.0 stays allowed until {timezone.localtime(until):%Y-%m-%d %H:%M}" in card


def test_governance_admin_home_lists_new_items_to_review_and_publish(
    client, new_item_request, security_reviewer, governance_admin
):
    content = home(client, governance_admin)
    assert 'data-testid="intake-waiting">1<' in content and "meeting-notes@1.0.0" in content
    intake_review_add(
        new_item_request, actor=security_reviewer, kind="security", verdict="approve",
        checklist=sorted(SECURITY),
    )  # fmt: skip
    other_admin = UserFactory(groups=["Governance admins"])
    intake_review_add(
        new_item_request, actor=other_admin, kind="data", verdict="approve",
        checklist=sorted(DATA),
    )  # fmt: skip
    content = home(client, governance_admin)
    assert 'data-testid="intake-to-publish">1<' in content
    card = next_step(client, governance_admin, new_item_request)
    assert "Both reviews approved it: publish 1.0.0." in card and "/publish/" in card
