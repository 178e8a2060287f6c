"""Approval fixtures: pending requests of each kind, made through the decision API."""

import pytest

from approvals.models import ApprovalRequest


@pytest.fixture
def make_pending(decide):
    """POST a decision that goes to a person; return its ApprovalRequest."""

    def make(kind: str = "send", **overrides) -> ApprovalRequest:
        kinds = {
            "send": dict(
                action="mail.send_external",
                connector="mail",
                data_sources=["mail:outbox/1"],
                params={"to": "buyer@customer.example", "body": "20% off"},
                rationale="Follow-up <b>after</b> the call.",
            ),
            "update": dict(
                action="crm.update_record",
                connector="crm",
                data_sources=["crm:opportunity/9"],
                params={"stage": "won"},
            ),
            "critical": dict(
                action="finance.modify_record", data_sources=[], params={"amount": 900}
            ),
            "unknown": dict(action="ticket.merge", data_sources=[], params={"into": 7}),
        }
        body = decide(**{**kinds[kind], **overrides}).json()
        return ApprovalRequest.objects.get(pk=body["approval_id"])

    return make


@pytest.fixture
def pending(make_pending):
    """A high-impact, irreversible e-mail waiting for the Approvers group."""
    return make_pending("send")
