"""Leadership's and auditors' journeys in Chromium: Home and Dashboard agree, a chart's
drill-down keeps its date when another filter is added, chart text is never cut off or
overlapping, and the audit log shows the columns that matter at 1440 px."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast
from audit.insights.rollups import rollups_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Ahead of any real clock, so that the session cookie set at this moment is still valid.
NOW = datetime(2031, 3, 12, 10, 0, tzinfo=UTC)
UPDATE = dict(
    action="crm.update_record",
    connector="crm",
    data_sources=["crm:opportunity/9"],
    params={"stage": "won"},
)
SEND = dict(
    action="mail.send_external",
    connector="mail",
    data_sources=["mail:outbox/1"],
    params={"to": "x@y.example"},
)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def history(clock, decide, approver, leader, auditor):
    """Reads, a denial, approved updates, a rejected irreversible e-mail; Lee also audits."""
    leader.groups.add(auditor.groups.get())
    for _ in range(3):
        decide()
        decide(**UPDATE)
    decide(data_sources=["crm:contact/1"])
    for approval in ApprovalRequest.objects.filter(status="pending"):
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    decide(**SEND)
    sent = ApprovalRequest.objects.get(status="pending")
    approval_vote_cast(sent.pk, voter=approver, verdict="reject", comment="not to a customer")
    rollups_refresh(full=True)


@pytest.fixture
def wide(browser, live_server):
    """A page at 1440 × 900, as a desktop screen."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A page at 390 × 844, as a phone."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_on(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_home_and_the_dashboard_show_the_same_month_and_lead_to_the_quarterly_review(wide, history):
    sign_in_on(wide, "lee")
    home = {k: wide.get_by_test_id(f"stat-{k}").inner_text() for k in ("auto", "denied")}
    expect(wide.get_by_test_id("window-note")).to_contain_text("30 calendar days")
    expect(wide.get_by_test_id("refreshed-at")).to_be_visible()
    wide.get_by_test_id("home-quarterly").click()
    expect(wide).to_have_url(re.compile(r"/audit/quarterly/"))
    expect(wide.get_by_role("heading", level=1)).to_be_visible()
    wide.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(wide.get_by_test_id("glance-allowed")).to_have_text(home["auto"])
    expect(wide.get_by_test_id("glance-denied")).to_have_text(home["denied"])
    expect(wide.get_by_test_id("window-note")).to_contain_text("30 calendar days")
    expect(wide.get_by_test_id("metric-near_misses").locator(".stat")).to_have_text("1")
    wide.get_by_test_id("metric-near_misses").get_by_role("link").click()
    expect(wide.get_by_test_id("event-count")).to_have_text("1 event")


def test_a_chart_drill_down_keeps_its_date_when_another_filter_is_added(wide, history):
    sign_in_on(wide, "lee")
    wide.goto("/audit/dashboard/?days=7")
    chart = wide.get_by_test_id("chart-over-time")
    chart.scroll_into_view_if_needed()
    expect(chart.locator(".plot")).to_have_attribute("data-ready", "1")
    # Today's bar of actions allowed automatically (the first trace), clicked where a
    # person would: Plotly's drag layer lies over the bars.
    bar = chart.locator("g.trace.bars").first.locator("g.point path").last
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    wide.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(wide).to_have_url(re.compile(r"decided_after="))
    expect(wide.get_by_test_id("event-count")).to_have_text("3 events")
    expect(wide.get_by_test_id("active-decided_after")).to_contain_text("2031-03-12 00:00")
    expect(wide.locator("#id_decided_after")).to_have_value("2031-03-12T00:00")
    # Narrow it further from the form: the date stays, visibly, and the count follows.
    wide.fill("#id_on_behalf_of", "nobody@corp.example")
    wide.get_by_role("button", name="Filter").click()
    expect(wide.get_by_test_id("event-count")).to_have_text("0 events")
    expect(wide.get_by_test_id("active-decided_after")).to_be_visible()
    expect(wide.get_by_test_id("active-on_behalf_of")).to_be_visible()
    # Removing the new filter brings back exactly the bar's events.
    wide.get_by_test_id("active-on_behalf_of").get_by_role("link").click()
    expect(wide.get_by_test_id("event-count")).to_have_text("3 events")


# Every text of a figure, with the rectangle it is drawn in (page coordinates).
TEXT_BOXES = """(root) => [...root.querySelectorAll('svg.main-svg')].flatMap(svg => {
  const frame = svg.getBoundingClientRect();
  const kinds = {'.legend': 'legend', '.g-xtitle': 'xtitle', '.g-ytitle': 'ytitle',
                 '.xtick': 'xtick'};
  const selector = '.g-gtitle text, .g-xtitle text, .g-ytitle text, .legendtext, '
                 + '.xtick text, .ytick text';
  return [...svg.querySelectorAll(selector)].filter(t => t.textContent.trim()).map(t => {
    const b = t.getBoundingClientRect();
    const kind = Object.keys(kinds).find(k => t.closest(k));
    return {text: t.textContent, kind: kind ? kinds[kind] : 'other',
            x: b.left, y: b.top, r: b.right, b: b.bottom,
            fx: frame.left, fy: frame.top, fr: frame.right, fb: frame.bottom};
  });
})"""


def _overlap(a, b) -> bool:
    return (
        a["x"] < b["r"] - 1 and b["x"] < a["r"] - 1 and a["y"] < b["b"] - 1 and b["y"] < a["b"] - 1
    )


@pytest.mark.parametrize("device", ["wide", "phone"])
def test_chart_titles_axes_and_legends_are_never_cut_off_or_overlapping(request, history, device):
    page = request.getfixturevalue(device)
    sign_in_on(page, "lee")
    page.goto("/audit/dashboard/?days=7")
    # Charts far below the fold wait until they are scrolled to (a fast first load).
    expect(page.locator("#chart-volume-by-runtime")).not_to_have_attribute("data-drawn", "1")
    for card in page.locator("section.chart").all():
        card.scroll_into_view_if_needed()
        expect(card.locator(".plot")).to_have_attribute("data-ready", "1")
        texts = card.evaluate(TEXT_BOXES)
        assert texts, card.get_attribute("data-testid")
        for t in texts:  # drawn inside the figure, not clipped by its edge
            assert t["x"] >= t["fx"] - 1 and t["r"] <= t["fr"] + 1, t
            assert t["y"] >= t["fy"] - 1 and t["b"] <= t["fb"] + 1, t
        titles = [t for t in texts if t["kind"] in ("xtitle", "ytitle")]
        others = [t for t in texts if t["kind"] in ("legend", "xtick")]
        for title in titles:
            for other in others:
                assert not _overlap(title, other), (title, other)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    legends = (
        page.get_by_test_id("chart-denials-by-profile")
        .locator(".legendtext")
        .evaluate_all("texts => texts.map(t => t.textContent)")
    )
    assert "Data outside the profile's grants" in legends
    assert not any("_" in text for text in legends)  # words, not reason codes


def test_the_audit_log_at_1440_shows_approval_and_reason_and_opens_the_rest(wide, history):
    sign_in_on(wide, "lee")
    wide.goto("/audit/?event_type=decision_approved")
    assert wide.evaluate("document.documentElement.scrollWidth") <= 1440
    for name in ("Approval", "Reason"):
        header = wide.get_by_role("columnheader", name=name, exact=True)
        expect(header).to_be_visible()
        assert header.bounding_box()["x"] + header.bounding_box()["width"] <= 1440
    expect(wide.get_by_test_id("approval").first).to_have_text("alex@corp.example")
    expect(wide.get_by_role("columnheader", name="Actor")).to_be_hidden()
    wide.get_by_test_id("all-columns").check()
    expect(wide.get_by_role("columnheader", name="Actor")).to_be_visible()
