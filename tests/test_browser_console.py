"""Main journeys of the foundation, clicked through the real pages in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from audit.insights.rollups import rollups_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_signs_in_finds_a_denial_and_reads_why(page, sign_in, governance_admin, decide):
    decide()
    denied = decide(data_sources=["crm:contact/7"]).json()
    rollups_refresh()  # Home counts from the dashboards' rollups, as of their last refresh
    sign_in("gina")
    expect(page.get_by_test_id("stat-total")).to_have_text("2")
    expect(page.get_by_test_id("stat-denied")).to_have_text("1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions").click()
    page.select_option("#id_status", "denied")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=denied"))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(denied["decision_id"]))
    expect(page.get_by_text("grants no read access to 'crm:contact/7'")).to_be_visible()
    expect(page.get_by_text("data_source_out_of_scope").first).to_be_visible()


def test_admin_browses_profiles_and_action_types(page, sign_in, governance_admin, policy):
    sign_in("gina")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Profiles").click()
    page.get_by_role("link", name="sales", exact=True).click()
    expect(page.get_by_role("heading", name="Data access grants")).to_be_visible()
    expect(page.get_by_text("crm:opportunity/*")).to_be_visible()
    nav.get_by_role("link", name="Action types").click()
    page.select_option("#id_auto_execute", "true")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="crm.read_record")).to_be_visible()


def test_a_sales_rep_sees_only_their_agents_decisions(page, sign_in, requester, decide):
    decide()
    sign_in("sam")
    expect(page.get_by_role("link", name="Profiles")).to_have_count(0)
    page.get_by_role("link", name="My agents' decisions").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto("/profiles/")
    expect(page.get_by_role("heading", name="You can't use this page")).to_be_visible()


def test_sign_out(page, sign_in, auditor):
    sign_in("audrey")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
