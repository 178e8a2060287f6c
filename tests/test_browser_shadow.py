"""A governance admin tries a condition in shadow mode, reads what it would have done, opens
exactly those decisions in the audit log, and promotes it with a reason; after that, the
next decision over the API is enforced by it."""

import pytest
from playwright.sync_api import expect

from governance.models import ActionType
from governance.services import action_type_update
from tests.test_browser_csp import REPORT_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BIG = {
    "name": "big-update",
    "when": "has(params.amount) && params.amount > 10000",
    "effect": "deny",
    "mode": "shadow",
    "message": "Above 10,000 the account owner updates it.",
}
UPDATE = dict(action="crm.update_record", connector="crm", data_sources=["crm:opportunity/9"])


def test_an_admin_reads_a_shadow_condition_opens_its_decisions_and_promotes_it(
    page, sign_in, governance_admin, decide
):
    errors: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: "CSP violation" in m.text and errors.append(m.text))
    action_type_update(
        ActionType.objects.get(key="crm.update_record"), actor=governance_admin, conditions=[BIG]
    )
    for amount in (20000, 50, 70000):
        assert decide(**UPDATE, params={"amount": amount}).json()["outcome"] == "pending"
    sign_in("gina")

    page.goto("/audit/tuning/")
    row = page.get_by_test_id("shadow-crm.update_record-big-update")
    expect(row).to_contain_text("3")  # evaluated
    row.get_by_role("link", name="big-update").click()
    expect(page.get_by_test_id("total")).to_have_text("2")
    expect(page.get_by_test_id("would-deny")).to_contain_text("would have denied")

    page.get_by_test_id("link-deny").click()
    expect(page.get_by_test_id("event-count")).to_have_text("2 events")
    page.go_back()

    page.get_by_test_id("promote").click()  # no reason: the browser asks for one
    expect(page.get_by_test_id("mode")).to_contain_text("shadow")
    page.fill("#promote-reason", "Two weeks without a false positive.")
    page.get_by_test_id("promote").click()
    expect(page.get_by_test_id("mode")).to_have_text("enforce")
    expect(page.get_by_text("is now enforced")).to_be_visible()
    assert errors == []

    answer = decide(**UPDATE, params={"amount": 20000}).json()
    assert (answer["outcome"], answer["reason"]) == ("deny", "condition_denied")
    assert decide(**UPDATE, params={"amount": 50}).json()["outcome"] == "pending"
