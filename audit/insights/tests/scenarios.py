"""Requests the insights' tests send through the real decision API."""

from approvals.models import ApprovalRequest
from approvals.services import approval_vote_cast

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


def approve_all(voter, action):
    for approval in ApprovalRequest.objects.filter(status="pending", decision__action=action):
        approval_vote_cast(approval.pk, voter=voter, verdict="approve")
