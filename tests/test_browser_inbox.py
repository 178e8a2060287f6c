"""The approval journey in Chromium: an approver edits the params and approves; the agent
then sees the edited params."""

import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_approver_edits_params_and_approves_and_the_agent_sees_them(
    page, sign_in, approver, decide, runtime_client
):
    created = decide(
        action="mail.send_external",
        connector="mail",
        data_sources=["mail:outbox/1"],
        params={"to": "buyer@customer.example", "body": "20% off"},
        rationale="Follow-up after the call.",
    ).json()
    sign_in("alex")
    inbox = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Inbox")
    )
    expect(inbox).to_contain_text("1")
    inbox.click()
    page.get_by_role("link", name="mail.send_external").click()
    expect(page.get_by_text("Follow-up after the call.")).to_be_visible()
    expect(page.get_by_test_id("time-left")).to_contain_text("left")
    params = page.get_by_label("Params (JSON; edit to approve different params)")
    params.fill("{not json")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("params-error")).to_contain_text("Not valid JSON")
    edited = {"to": "buyer@customer.example", "body": "standard pricing"}
    page.get_by_label("Params (JSON; edit to approve different params)").fill(json.dumps(edited))
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_test_id("vote-panel")).to_contain_text("approved")
    expect(page.get_by_test_id("approved-params")).to_contain_text("standard pricing")
    agent_view = runtime_client.get(f"/api/v1/decisions/{created['decision_id']}").json()
    assert agent_view["status"] == "approved"
    assert agent_view["params"] == edited


def test_the_requester_cannot_approve_their_own_request(page, sign_in, requester, decide, policy):
    policy.approvers.user_set.add(requester)
    created = decide(action="crm.update_record", connector="crm", data_sources=[]).json()
    sign_in("sam")
    page.goto(f"/approvals/{created['approval_id']}/")
    expect(page.get_by_test_id("vote-refusal")).to_have_text(
        "You cannot decide a request made on your own behalf."
    )
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)


def test_rejecting_without_a_reason_is_explained(page, sign_in, approver, decide):
    created = decide(action="crm.update_record", connector="crm", data_sources=[]).json()
    sign_in("alex")
    page.goto(f"/approvals/{created['approval_id']}/")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Give a reason for the rejection.")).to_be_visible()
    page.get_by_label("Comment (required to reject; at most 2,000 characters)").fill(
        "Wrong opportunity"
    )
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("vote-panel")).to_contain_text("rejected")
