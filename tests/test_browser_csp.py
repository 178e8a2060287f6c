"""The Content-Security-Policy holds on every main page in Chromium: nothing inline, nothing
from elsewhere, and the pages still work (charts draw, htmx swaps, the API docs render)."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from approvals.services import approval_vote_cast
from audit.insights.rollups import rollups_refresh
from audit.insights.tuning import recommendations_refresh
from audit.models import AuditEvent
from catalog.workflow import intake_request_submit
from governance.choices import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports each blocked inline script, style, handler or foreign load as a
# `securitypolicyviolation` event and a console error; both are collected.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
  " at " + e.sourceFile + ":" + e.lineNumber + " " + e.sample));
"""


@pytest.fixture
def violations(page):
    found: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)

    def collect(message):
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            found.append(f"{page.url}: {text}")

    page.on("console", collect)
    return found


@pytest.fixture
def everything(governance_admin, approver, decide, make_pending, policy):
    """Something on every page: decisions, an approval decided and one waiting, rollups
    and recommendations, an intake request; Gina may see every page."""
    for role in (Role.AUDITOR, Role.LEADERSHIP, Role.APPROVER):
        governance_admin.groups.add(Group.objects.get_or_create(name=role.value)[0])
    # The admin's pages whatever the role groups' permissions (a data migration grants
    # them, and a transactional test before this one may have emptied the tables).
    governance_admin.is_superuser = True
    governance_admin.save()
    decide()
    decide(data_sources=["crm:contact/1"])
    approval_vote_cast(make_pending("update").pk, voter=approver, verdict="approve")
    waiting = make_pending("send")
    rollups_refresh(full=True)
    recommendations_refresh()
    intake = intake_request_submit(
        actor=policy.requester,
        slug="meeting-notes",
        name="Meeting notes",
        item_kind="plugin",
        description="Summarises **meetings**.",
        version="1.0.0",
        artifact_digest="sha256:" + "ab" * 32,
        vendor="Acme AI",
        systems=["Zoom"],
        data_classes=["confidential"],
        reach="read",
        justification="Sales wants meeting summaries in the CRM.",
    )
    return {"approval": waiting, "intake": intake}


def main_pages(policy, approval, intake) -> list[str]:
    event = AuditEvent.objects.order_by("id").first()
    decision = approval.decision
    return [
        "/",
        "/decisions/",
        f"/decisions/{decision.pk}/",
        "/profiles/",
        f"/profiles/{policy.profile.slug}/",
        "/action-types/",
        f"/action-types/{policy.action_types.send.pk}/",
        f"/action-types/{policy.action_types.send.pk}/edit/",
        "/action-types/new/",
        f"/profiles/{policy.profile.slug}/edit/",
        "/runtimes/",
        "/approvals/",
        f"/approvals/{approval.pk}/",
        "/approvals/decided/",
        "/approvals/all/",
        "/approvals/webhooks/",
        "/audit/",
        f"/audit/events/{event.pk}/",
        "/audit/integrity/",
        f"/audit/history/governance.permissionprofile/{policy.profile.pk}/",
        "/audit/dashboard/",
        "/audit/tuning/",
        "/audit/tuning/simulate/",
        "/audit/quarterly/",
        "/catalog/",
        f"/catalog/{policy.crm.slug}/",
        "/catalog/intake/",
        "/catalog/intake/new/",
        "/admin/",
        "/admin/governance/actiontype/",
        f"/admin/governance/actiontype/{policy.action_types.send.pk}/change/",
        "/api/v1/profiles",
        "/api/docs/",
        f"/catalog/intake/{intake.pk}/",
    ]


def test_the_main_pages_load_without_a_single_csp_violation(
    page, sign_in, violations, everything, policy
):
    page.goto("/accounts/login/")
    sign_in("gina")
    for path in main_pages(policy, everything["approval"], everything["intake"]):
        response = page.goto(path)
        assert response.status == 200, path
        assert "'unsafe-inline'" not in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
    assert violations == [], "\n".join(violations)


def test_charts_and_api_docs_still_work_under_the_policy(
    page, sign_in, violations, everything, policy
):
    sign_in("gina")
    page.goto("/audit/dashboard/")
    chart = page.get_by_test_id("chart-approval-rate")
    chart.scroll_into_view_if_needed()  # charts are drawn when they come into view
    expect(chart.locator("svg.main-svg").first).to_be_visible(timeout=20_000)
    # plotly.js's own stylesheet applied (its layers stack), so the modebar hides until hover
    expect(chart.locator(".modebar-container")).to_have_count(1)
    assert (
        chart.locator("svg.main-svg").first.evaluate("el => getComputedStyle(el).position")
        == "absolute"
    )
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Agent Governance Console")
    assert violations == [], "\n".join(violations)


def test_the_print_button_prints_without_an_inline_handler(page, sign_in, violations, everything):
    sign_in("gina")
    page.goto("/audit/quarterly/")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    assert violations == [], "\n".join(violations)


def test_the_sign_in_page_and_its_lockout_message_have_no_violation(page, violations, approver):
    page.goto("/accounts/login/")
    for _ in range(5):
        page.fill("#id_username", "alex")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
    expect(page.get_by_test_id("sign-in-locked")).to_contain_text("Try again in 15 minutes.")
    assert violations == [], "\n".join(violations)
