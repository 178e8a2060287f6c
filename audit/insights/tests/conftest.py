"""Histories built through the real decision API and vote service."""

from datetime import timedelta

import pytest

from approvals.models import ApprovalRequest
from approvals.services import approval_request_expire, approval_vote_cast
from audit.insights.rollups import rollups_refresh
from audit.insights.tests.scenarios import SEND, UPDATE, approve_all


@pytest.fixture
def history(decide, approver):
    """Reads, denials, approved updates, a rejected send, an expired send, a pending one."""
    for _ in range(3):
        decide()
    decide(data_sources=["crm:contact/1"])
    for _ in range(4):
        decide(**UPDATE)
    approve_all(approver, "crm.update_record")
    decide(**SEND)
    rejected = ApprovalRequest.objects.get(decision__action="mail.send_external", status="pending")
    approval_vote_cast(rejected.pk, voter=approver, verdict="reject", comment="no")
    decide(**SEND)
    expiring = ApprovalRequest.objects.get(decision__action="mail.send_external", status="pending")
    approval_request_expire(expiring.pk, now=expiring.expires_at + timedelta(seconds=1))
    decide(**SEND)  # left pending


@pytest.fixture
def waved_through(decide, approver, settings):
    """crm.update_record approved every time, mail.send_external too (but irreversible)."""
    settings.TUNING = {**settings.TUNING, "min_count": 3}
    for _ in range(3):
        decide(**UPDATE)
        decide(**SEND)
    approve_all(approver, "crm.update_record")
    approve_all(approver, "mail.send_external")
    rollups_refresh(full=True)
