"""Catalog fixtures: reviewers, and intake requests in the states tests need."""

import pytest

from catalog.choices import ReviewKind
from catalog.workflow import intake_request_submit, intake_review_add

DIGEST = "sha256:" + "ab" * 32
SECURITY = {
    key
    for key, _ in __import__("catalog.choices", fromlist=["CHECKLISTS"]).CHECKLISTS[
        ReviewKind.SECURITY
    ]
}
DATA = {
    key
    for key, _ in __import__("catalog.choices", fromlist=["CHECKLISTS"]).CHECKLISTS[ReviewKind.DATA]
}


@pytest.fixture
def version_request(outreach_owned, requester):
    """Sam asks for outreach 2.2.0."""
    return intake_request_submit(
        actor=requester,
        item=outreach_owned,
        version="2.2.0",
        artifact_digest=DIGEST,
        vendor="Internal",
        systems=["Salesforce"],
        data_classes=["confidential"],
        reach="write",
        justification="Adds calendar scheduling.",
    )


@pytest.fixture
def new_item_request(requester):
    """Sam asks for a new plugin."""
    return intake_request_submit(
        actor=requester,
        slug="meeting-notes",
        name="Meeting notes",
        item_kind="plugin",
        description="Summarises **meetings**.",
        version="1.0.0",
        artifact_digest=DIGEST,
        vendor="Acme AI",
        systems=["Zoom"],
        data_classes=["confidential"],
        reach="read",
        justification="Sales wants meeting summaries in the CRM.",
    )


def approve(intake, *, security, data):
    intake_review_add(
        intake, actor=security, kind="security", verdict="approve", checklist=sorted(SECURITY)
    )
    intake_review_add(intake, actor=data, kind="data", verdict="approve", checklist=sorted(DATA))
    intake.refresh_from_db()
    return intake
