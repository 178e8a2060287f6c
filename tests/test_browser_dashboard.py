"""Leadership's dashboard and an admin's tuning journey in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast
from audit.insights.rollups import rollups_refresh
from audit.insights.tuning import recommendations_refresh
from governance.models import ActionType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPDATE = dict(
    action="crm.update_record",
    connector="crm",
    data_sources=["crm:opportunity/9"],
    params={"stage": "won"},
)


@pytest.fixture
def history(decide, approver, settings):
    settings.TUNING = {**settings.TUNING, "min_count": 3}
    for _ in range(3):
        decide()
        decide(**UPDATE)
    decide(data_sources=["crm:contact/1"])
    for approval in ApprovalRequest.objects.filter(status="pending"):
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    rollups_refresh(full=True)
    recommendations_refresh()


def test_leadership_sees_the_charts_and_clicks_through_to_the_audit_log(
    page, sign_in, leader, auditor, history
):
    leader.groups.add(auditor.groups.get())  # to open the audit log after the click
    sign_in("lee")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("glance-allowed")).to_have_text("3")
    expect(page.get_by_test_id("glance-denied")).to_have_text("1")
    chart = page.get_by_test_id("chart-approval-rate")
    chart.scroll_into_view_if_needed()  # charts are drawn when they come into view
    expect(chart.locator("svg.main-svg").first).to_be_visible(timeout=20_000)
    chart.get_by_text("Table view").click()
    expect(chart.locator("table")).to_contain_text("crm.update_record")
    # Plotly draws its drag layer over the bars: click where the bar is, as a person would.
    bar = chart.locator("g.point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=crm.update_record"))
    expect(page.get_by_test_id("event-count")).to_have_text("3 events")


def test_admin_finds_the_wave_through_action_simulates_and_applies_it(
    page, sign_in, governance_admin, history
):
    sign_in("gina")
    page.goto("/audit/tuning/")
    page.get_by_role(
        "link", name="Move 'crm.update_record' onto the auto-execute allow-list"
    ).click()
    page.get_by_test_id("simulate").click()
    expect(page.get_by_test_id("sim-changed")).to_have_text("3")
    page.get_by_test_id("apply").click()
    expect(page.get_by_text("Applied: the configuration changed")).to_be_visible()
    assert ActionType.objects.get(key="crm.update_record").auto_execute
