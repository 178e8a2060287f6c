"""The auditor's journey in Chromium: find the approved sends of one approver, export
them, and check the integrity of the log."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from approvals.services import approval_vote_cast
from audit.seal_services import audit_seal_new_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_finds_filters_exports_and_verifies(
    page, sign_in, auditor, approver, second_approver, make_pending
):
    for voter in (approver, approver, second_approver):
        approval_vote_cast(make_pending("send").pk, voter=voter, verdict="approve")
    audit_seal_new_events(margin_seconds=0)
    sign_in("audrey")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.get_by_label("Action type").fill("mail.send_external")
    page.get_by_label("Approver (e-mail)").fill("alex@corp.example")
    page.select_option("#id_event_type", "decision_approved")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"approver=alex%40corp.example"))
    expect(page.get_by_test_id("event-count")).to_have_text("2 events")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert len(rows) == 3
    assert {row[4] for row in rows[1:]} == {"human:alex@corp.example"}
    page.get_by_role("link", name="Check integrity").click()
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("verify-result")).to_contain_text("Intact.")
