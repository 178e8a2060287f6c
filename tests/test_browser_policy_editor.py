"""The policy editor in Chromium: an admin caps refunds with a condition, checked as she
types, tried in the test box, previewed over the last 30 days and saved with a reason;
the next decisions over the API follow it. The page holds at 1440 px and at 390 px, under
the Content-Security-Policy (htmx swaps, nothing inline)."""

import os
import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from governance.choices import Impact
from governance.tests.factories import ActionTypeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")));
"""


@pytest.fixture
def refund(policy):
    """An allow-listed, reversible, low-impact refund the `sales` profile may propose."""
    action_type = ActionTypeFactory(
        key="billing.refund",
        name="Issue a refund",
        impact=Impact.LOW,
        reversible=True,
        auto_execute=True,
    )
    policy.profile.action_types = [*policy.profile.action_types, "billing.refund"]
    policy.profile.save()
    return action_type


@pytest.fixture
def refunds_decided(refund, decide):
    """Three refunds allowed this month: two above 10,000, one of 50."""
    for amount in (20000, 15000, 50):
        assert decide(action="billing.refund", params={"amount": amount}).json()["outcome"] == (
            "allow"
        )


@pytest.fixture
def violations(page):
    found: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: found.append(message.text) if "CSP violation" in message.text else None,
    )
    return found


def screenshot(page, name: str) -> None:
    """With SCREENSHOT_DIR set, keep a full-page picture to look at."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_admin_caps_refunds_with_a_condition_and_the_api_follows_it(
    page, sign_in, violations, governance_admin, refund, refunds_decided, decide
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in("gina")
    page.goto(refund.get_absolute_url())
    page.get_by_test_id("edit-link").click()
    expect(page.get_by_role("heading", name="Edit billing.refund")).to_be_visible()
    page.get_by_role("button", name="Add a condition").click()

    row = page.get_by_test_id("condition-row")
    row.get_by_label("Name").fill("big-refunds")
    when = row.get_by_label("When")
    when.fill("params.amount >")  # checked on the server as it is typed
    expect(page.locator("#id_conditions-0-when-check")).to_contain_text(re.compile(r"column \d+"))
    screenshot(page, "editor-error-1440.png")
    when.fill("params.amount > 10000")
    expect(page.locator("#id_conditions-0-when-check")).to_have_text("Compiles.")
    row.get_by_label("Effect").select_option("deny")
    row.get_by_label("Message").fill("Refunds above 10,000 are done by finance.")

    row.get_by_label("Test with these params (JSON)").fill('{"amount": 20000}')
    row.get_by_role("button", name="Test this condition").click()
    expect(row.get_by_test_id("test-result")).to_contain_text("Matched: the decision is denied")
    screenshot(page, "editor-test-box-1440.png")
    row.get_by_label("Test with these params (JSON)").fill('{"amount": 50}')
    row.get_by_role("button", name="Test this condition").click()
    expect(row.get_by_test_id("test-result")).to_contain_text("Not matched")

    page.get_by_role("button", name="Preview the change").click()
    summary = page.get_by_test_id("preview-summary")
    expect(summary).to_contain_text("would have changed 2 of the 3 recorded decisions")
    expect(summary).to_contain_text("2 allow → deny")
    expect(page.get_by_test_id("preview-audit-link")).to_have_attribute(
        "href", re.compile(r"^/audit/\?decision=[0-9a-f-]{36},[0-9a-f-]{36}$")
    )
    screenshot(page, "editor-1440.png")

    page.get_by_role("button", name="Save the change").click()  # no reason yet
    expect(page.get_by_text("Say why you make this change")).to_be_visible()
    page.get_by_label("Why this change?").fill("Finance caps agent refunds at 10,000.")
    page.get_by_role("button", name="Save the change").click()
    expect(page).to_have_url(refund.get_absolute_url())
    expect(page.get_by_text("Saved billing.refund")).to_be_visible()
    expect(page.get_by_test_id("conditions-summary")).to_contain_text("params.amount > 10000")

    event = AuditEvent.objects.filter(object_type="governance.actiontype").latest("id")
    assert event.detail["reason"] == "Finance caps agent refunds at 10,000."
    big = decide(action="billing.refund", params={"amount": 20000}).json()
    small = decide(action="billing.refund", params={"amount": 50}).json()
    assert (big["outcome"], big["reason"]) == ("deny", "condition_denied")
    assert "big-refunds" in big["message"]
    assert small["outcome"] == "allow"
    assert violations == []


def test_the_editor_fits_a_phone(page, sign_in, violations, governance_admin, policy, refund):
    refund.conditions = [
        {
            "name": "big-refunds",
            "when": "params.amount > 10000",
            "effect": "deny",
            "mode": "shadow",
            "message": "Refunds above 10,000 are done by finance.",
        }
    ]
    refund.save()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("gina")
    for url in (f"/action-types/{refund.pk}/edit/", f"/profiles/{policy.profile.slug}/edit/"):
        page.goto(url)
        expect(page.get_by_role("button", name="Preview the change")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390, f"{url} is {overflow} px wide"
    screenshot(page, "profile-editor-390.png")
    page.goto(f"/action-types/{refund.pk}/edit/")
    screenshot(page, "editor-390.png")
    assert violations == []


def test_an_auditor_reads_the_editor_without_a_form(page, sign_in, auditor, refund, policy):
    refund_profile_slug = policy.profile.slug
    sign_in("audrey")
    page.goto(refund.get_absolute_url())
    page.get_by_test_id("edit-link").click()
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Preview the change")).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/profiles/{refund_profile_slug}/edit/")
    expect(page.get_by_test_id("grant-row")).to_have_count(3)
    screenshot(page, "profile-read-only-1440.png")
