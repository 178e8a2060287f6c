"""The approver's journey in Chromium (issue 14), with DEBUG on as in `make demo`: errors
stay in place beside their field, the second of two approvals is asked for, the heading
and the inbox badge follow each vote, "Approve and open the next request", a reason over
the limit is refused whole, a stand-in sees the absent approver's requests, and the inbox
and the request page fit a 390 px phone with the decision within 2,000 px.

Screenshots go to $SCREENSHOT_DIR when it is set (to look at the pages)."""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from approvals.models import ApprovalRequest
from governance.choices import Role
from governance.services import policy_revision_bump
from governance.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARAMS_LABEL = "Params (JSON; edit to approve different params)"
LONG_WORD = "Supercalifragilistic" * 30  # 600 characters without a space


@pytest.fixture
def demo_debug(settings):
    """`make demo` runs with DEBUG=1; the bare-400 bug only showed there."""
    settings.DEBUG = True


@pytest.fixture
def requests_waiting(policy, decide, approver):
    """A critical finance entry (two approvals), an e-mail and a CRM update for Alex."""
    critical = decide(
        action="finance.modify_record",
        data_sources=[],
        params={"amount": 900, "currency": "EUR", "memo": LONG_WORD},
        rationale="Quarter-end correction. " + LONG_WORD,
    ).json()
    send = decide(
        action="mail.send_external",
        connector="mail",
        data_sources=["mail:outbox/1"],
        params={"to": "buyer@customer.example", "subject": "Renewal", "body": "20% off"},
        rationale="Follow-up after the call.",
    ).json()
    update = decide(
        action="crm.update_record",
        connector="crm",
        data_sources=["crm:opportunity/9"],
        params={"opportunity_id": 9, "stage": "won"},
        rationale="The customer signed.",
    ).json()
    return {
        name: ApprovalRequest.objects.get(pk=body["approval_id"])
        for name, body in (("critical", critical), ("send", send), ("update", update))
    }


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def new_page(browser, live_server, width: int, height: int):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def sign_in_on(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def badge(page):
    return page.get_by_role("navigation", name="Main").get_by_test_id("nav-badge-inbox")


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_approver_journey_on_a_desktop(browser, live_server, demo_debug, requests_waiting):
    context, page = new_page(browser, live_server, 1440, 900)
    sign_in_on(page, "alex")
    expect(badge(page)).to_have_text(re.compile(r"^3"))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Inbox")
    ).click()
    expect(page.get_by_test_id("row-summary").first).to_be_visible()
    expect(page.get_by_text("to: buyer@customer.example · subject: Renewal")).to_be_visible()
    expect(page.get_by_text("“The customer signed.”")).to_be_visible()
    shot(page, "inbox-1440")

    # Errors in place: the page (navigation, heading, request) stays.
    page.goto(requests_waiting["critical"].get_absolute_url())
    page.get_by_label(PARAMS_LABEL).fill("{not json")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("params-error")).to_contain_text("Not valid JSON")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("finance.modify_record")
    expect(page.get_by_text("Quarter-end correction.")).to_be_visible()
    page.get_by_label(PARAMS_LABEL).fill(json.dumps(requests_waiting["critical"].decision.params))
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("comment-error")).to_have_text("Give a reason for the rejection.")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    # The first of two approvals: still pending, and says so everywhere.
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("approval-progress")).to_have_text(
        "1 of 2 approvals — waiting for a second approver (approved by alex@corp.example)."
    )
    expect(page.get_by_test_id("approval-status")).to_contain_text("Pending")
    expect(page.get_by_test_id("approval-status")).to_contain_text("1 of 2 approvals")
    expect(badge(page)).to_have_text(re.compile(r"^2"))
    assert scroll_width(page) <= 1440  # the 600-character word wraps
    shot(page, "request-1-of-2-1440")

    # Approve and open the next request.
    page.goto(requests_waiting["update"].get_absolute_url())
    page.get_by_role("button", name="Approve and open the next request").click()
    expect(page).to_have_url(re.compile(requests_waiting["send"].get_absolute_url() + "$"))
    expect(page.get_by_text("Approved crm.update_record for sam@corp.example.")).to_be_visible()
    expect(badge(page)).to_have_text(re.compile(r"^1"))

    # Edit and approve: the page shows what changed.
    edited = {"to": "buyer@customer.example", "subject": "Renewal", "body": "standard pricing"}
    page.get_by_label(PARAMS_LABEL).fill(json.dumps(edited))
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("approval-status")).to_contain_text("Approved")
    expect(page.locator("#nav-badge-inbox")).to_have_text("")
    page.reload()
    diff = page.get_by_test_id("params-diff")
    expect(diff.locator("del")).to_have_text("20% off")
    expect(diff.locator("ins")).to_have_text("standard pricing")
    shot(page, "request-diff-1440")
    context.close()


def test_a_reason_over_the_limit_is_refused_whole_and_long_words_wrap(
    browser, live_server, demo_debug, requests_waiting
):
    context, page = new_page(browser, live_server, 1440, 900)
    sign_in_on(page, "alex")
    page.goto(requests_waiting["send"].get_absolute_url())
    expect(page.get_by_text("at most 2,000 characters")).to_be_visible()
    comment = page.get_by_label(re.compile("Comment"))
    comment.fill("x" * 5000)
    expect(page.get_by_test_id("comment-count")).to_have_text(
        "5,000 of 2,000 characters: too long, shorten it before sending"
    )
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("comment-error")).to_contain_text(
        "This is 5,000 characters long; the limit is 2,000."
    )
    assert len(page.get_by_label(re.compile("Comment")).input_value()) == 5000  # not cut
    assert scroll_width(page) <= 1440
    page.get_by_label(re.compile("Comment")).fill("y" * 2000)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("approval-status")).to_contain_text("Rejected")
    assert scroll_width(page) <= 1440  # the 2,000-character word wraps in the vote list
    context.close()


def test_a_stand_in_decides_for_an_absent_approver_but_not_their_own_request(
    browser, live_server, policy, decide, approver
):
    UserFactory(username="dana", groups=[Role.APPROVER.value, "Sales"])
    policy.action_types.finance.approval_ttl_minutes = 60 * 24
    policy.action_types.finance.save()
    policy_revision_bump()
    theirs = decide(action="finance.modify_record", data_sources=[], params={"amount": 5}).json()
    own = decide(
        action="finance.modify_record",
        data_sources=[],
        params={"amount": 7},
        on_behalf_of="dana@corp.example",
    ).json()
    context, page = new_page(browser, live_server, 1440, 900)
    sign_in_on(page, "alex")
    page.goto("/approvals/out-of-office/")
    page.get_by_label("Stand-in", exact=True).select_option(label="Dana <dana@corp.example>")
    today = page.evaluate("new Date().toISOString().slice(0, 10)")
    page.get_by_label("First day").fill(today)
    page.get_by_label("Last day (included)").fill(today)
    page.get_by_role("button", name="Name this stand-in").click()
    expect(page.get_by_test_id("delegations")).to_contain_text(
        "dana@corp.example stands in for you"
    )
    shot(page, "out-of-office-1440")
    context.close()

    context, page = new_page(browser, live_server, 1440, 900)
    sign_in_on(page, "dana")
    page.goto(f"/approvals/{theirs['approval_id']}/")
    expect(page.get_by_test_id("stand-in-note")).to_contain_text("alex@corp.example")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("approval-progress")).to_contain_text("1 of 2 approvals")
    page.goto(f"/approvals/{own['approval_id']}/")
    expect(page.get_by_test_id("vote-refusal")).to_have_text(
        "You cannot decide a request made on your own behalf."
    )
    context.close()


def test_the_inbox_and_the_request_page_fit_a_phone(
    browser, live_server, demo_debug, requests_waiting
):
    context, page = new_page(browser, live_server, 390, 844)
    sign_in_on(page, "alex")
    page.goto("/approvals/")
    expect(page.get_by_test_id("row-summary").first).to_be_visible()
    assert scroll_width(page) <= 390
    shot(page, "inbox-390")
    for name in ("critical", "send"):
        page.goto(requests_waiting[name].get_absolute_url())
        panel = page.get_by_test_id("vote-panel")
        expect(panel).to_be_visible()
        assert scroll_width(page) <= 390
        top = page.evaluate(
            "document.querySelector('[data-testid=vote-panel]').getBoundingClientRect().top"
            " + window.scrollY"
        )
        assert top <= 2000, f"the decision starts {top} px down"
        shot(page, f"request-{name}-390")
    # An error in place keeps the page on a phone too.
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("comment-error")).to_be_visible()
    assert scroll_width(page) <= 390
    context.close()


def test_the_out_of_office_page_fits_a_phone(browser, live_server, approver, policy):
    UserFactory(username="dana", groups=[Role.APPROVER.value])
    context, page = new_page(browser, live_server, 390, 844)
    sign_in_on(page, "alex")
    page.goto("/approvals/out-of-office/")
    expect(page.get_by_role("button", name="Name this stand-in")).to_be_visible()
    assert scroll_width(page) <= 390
    shot(page, "out-of-office-390")
    context.close()


def test_an_auditor_reads_what_the_approver_changed_in_the_event(
    browser, live_server, auditor, approver, requests_waiting
):
    from approvals.services import approval_vote_cast
    from audit.models import AuditEvent

    edited = {"to": "buyer@customer.example", "subject": "Renewal", "body": "standard pricing"}
    approval_vote_cast(
        requests_waiting["send"].pk, voter=approver, verdict="approve", edited_params=edited
    )
    event = AuditEvent.objects.get(event_type="decision_approved")
    context, page = new_page(browser, live_server, 1440, 900)
    sign_in_on(page, "audrey")
    page.goto(f"/audit/events/{event.pk}/")
    diff = page.get_by_test_id("params-diff")
    expect(diff.locator("del")).to_have_text("20% off")
    expect(diff.locator("ins")).to_have_text("standard pricing")
    shot(page, "audit-event-diff-1440")
    context.close()
