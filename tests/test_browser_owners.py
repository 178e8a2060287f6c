"""The connector owner's journey in Chromium: Home lists the intake review waiting for
Owen; the request says what to do next; after his review he opens the publish page, sees
the blast radius (the decisions that named the pinned version), publishes with a rollout
window, and the item's page shows the window. The decision API honours it."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.tests import conftest as catalog_fixtures
from catalog.tests.conftest import DATA, SECURITY
from catalog.workflow import intake_review_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
version_request = catalog_fixtures.version_request  # the catalog tests' fixture

SHOTS = Path("/tmp/h14-owners-shots")


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def waiting(decide, version_request, security_reviewer):
    """Three allowed reads named outreach@2.1.0 today; Sasha gave the security review of
    the request for 2.2.0, so it waits for the data review by the item's owners."""
    for _ in range(3):
        assert decide().json()["outcome"] == "allow"
    intake_review_add(
        version_request,
        actor=security_reviewer,
        kind="security",
        verdict="approve",
        checklist=sorted(SECURITY),
    )
    return version_request


def test_owner_reviews_sees_the_blast_radius_and_publishes_with_a_rollout_window(
    page, sign_in, waiting, connector_owner, decide
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in("owen")
    card = page.get_by_test_id("intake-work")
    expect(card.get_by_test_id("intake-waiting")).to_have_text("1")
    expect(card).to_contain_text("your data review")
    shot(page, "1-owen-home")
    card.get_by_role("link", name="outreach@2.2.0").click()

    expect(page.get_by_test_id("next-step")).to_contain_text("Your turn: give the data review")
    shot(page, "2-intake-your-turn")
    panel = page.get_by_test_id("review-data")
    for key in sorted(DATA):
        panel.locator(f'input[value="{key}"]').check()
    panel.get_by_label("Verdict").select_option("approve")
    panel.get_by_role("button", name=re.compile("Record the")).click()

    expect(page.get_by_test_id("next-step")).to_contain_text(
        "Both reviews approved it: publish 2.2.0."
    )
    shot(page, "3-intake-approved-what-next")
    page.get_by_role("link", name="Review the impact and publish…").click()

    radius = page.get_by_test_id("blast-radius")
    expect(radius.get_by_test_id("radius-refused")).to_have_text("3")
    expect(radius.get_by_test_id("radius-sales-agent-sales")).to_contain_text("refused 3")
    expect(page.get_by_label(re.compile("Pin 2.2.0, and keep 2.1.0 allowed"))).to_be_checked()
    until = (timezone.localdate() + timedelta(days=10)).isoformat()
    page.get_by_label("Keep 2.1.0 allowed until", exact=True).fill(until)
    shot(page, "4-publish-blast-radius")
    page.get_by_test_id("confirm-pin").click()

    expect(page).to_have_url(re.compile("/catalog/outreach/$"))
    expect(page.get_by_text(re.compile("outreach@2.2.0 is published"))).to_be_visible()
    window = page.get_by_test_id("rollout-window")
    expect(window).to_contain_text(f"2.1.0 stays allowed beside the pinned version until {until}")
    expect(page.get_by_test_id("version-2.2.0")).to_contain_text("pinned")
    expect(page.get_by_test_id("version-2.1.0")).to_contain_text(f"allowed until {until}")
    shot(page, "5-item-rollout-window")

    assert decide(plugin="outreach@2.2.0").json()["outcome"] == "allow"
    assert decide(plugin="outreach@2.1.0").json()["outcome"] == "allow"


def test_pinning_at_once_asks_for_a_confirmation_on_a_narrow_screen(
    page, sign_in, waiting, connector_owner, outreach_owned, decide
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("owen")
    page.goto("/catalog/outreach/")
    page.get_by_test_id("pin-2.0.0").click()
    expect(page.get_by_test_id("radius-refused")).to_have_text("3")
    page.get_by_label(re.compile("Pin 2.0.0 now")).check()
    page.get_by_test_id("confirm-pin").click()
    expect(page.get_by_test_id("confirm-error")).to_be_visible()
    shot(page, "6-pin-confirm-error-mobile")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert decide().json()["outcome"] == "allow"  # nothing changed
    page.get_by_label(re.compile("I understand that 3 decisions")).check()
    page.get_by_test_id("confirm-pin").click()
    expect(page.get_by_test_id("version-2.0.0")).to_contain_text("pinned")
    assert decide().json()["reason"] == "version_not_pinned"
