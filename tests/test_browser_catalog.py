"""The catalog journey in Chromium: a requester files a new plugin version, two reviewers
approve it, the owner publishes and pins it, and the next decision uses it."""

import re

import pytest
from playwright.sync_api import expect

from catalog.tests.conftest import DATA, DIGEST, SECURITY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def review(page, kind: str, keys):
    panel = page.get_by_test_id(f"review-{kind}")
    for key in keys:
        panel.locator(f'input[value="{key}"]').check()
    panel.get_by_label("Verdict").select_option("approve")
    panel.get_by_role("button", name=re.compile("Record the")).click()


def test_new_version_is_filed_reviewed_published_and_used(
    page, sign_in, requester, connector_owner, security_reviewer, outreach_owned, decide
):
    sign_in("sam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="Request a new version").click()
    page.get_by_label("Version").fill("2.2.0")
    page.get_by_label("Artifact digest").fill(DIGEST)
    page.get_by_label("Vendor or source").fill("Internal")
    page.get_by_label("Justification").fill("Adds calendar scheduling.")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("heading", name=re.compile("outreach@2.2.0"))).to_be_visible()
    sign_out(page)

    sign_in("sasha")
    page.goto("/catalog/intake/")
    page.get_by_test_id("review-queue").get_by_role("link").click()
    review(page, "security", sorted(SECURITY))
    expect(page.get_by_text("Your security review is recorded.")).to_be_visible()
    sign_out(page)

    sign_in("owen")
    page.goto("/catalog/intake/")
    page.get_by_test_id("review-queue").get_by_role("link").click()
    review(page, "data", sorted(DATA))
    page.get_by_role("link", name="Review the impact and publish…").click()
    page.get_by_label(re.compile("Pin 2.2.0 now")).check()
    page.get_by_test_id("confirm-pin").click()
    expect(page.get_by_text(re.compile("outreach@2.2.0 is published"))).to_be_visible()
    expect(page.get_by_test_id("version-2.2.0")).to_contain_text("pinned")

    assert decide(plugin="outreach@2.2.0").json()["outcome"] == "allow"
    assert decide(plugin="outreach@2.1.0").json()["reason"] == "version_not_pinned"
