"""Kinds, statuses and classes of the governed catalog (stable lowercase values)."""

from django.db import models


class ItemKind(models.TextChoices):
    CONNECTOR = "connector", "Connector"
    PLUGIN = "plugin", "Plugin"
    SKILL = "skill", "Skill"
    SUBAGENT = "subagent", "Sub-agent"


class ItemStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class DataClass(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    PII = "pii", "Personal data (PII)"
    FINANCIAL = "financial", "Financial"


class Reach(models.TextChoices):
    READ = "read", "Reads only"
    WRITE = "write", "Reads and writes"


class VersionReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class IntakeKind(models.TextChoices):
    NEW_ITEM = "new_item", "A new catalog item"
    NEW_VERSION = "new_version", "A new version of an item"


class IntakeState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_INTAKE_STATES = (
    IntakeState.SUBMITTED,
    IntakeState.IN_REVIEW,
    IntakeState.CHANGES_REQUESTED,
    IntakeState.APPROVED,
)


class ReviewKind(models.TextChoices):
    SECURITY = "security", "Security review"
    DATA = "data", "Data review"


class ReviewVerdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


# The short checklists of each review (stored with the review as the keys ticked).
CHECKLISTS = {
    ReviewKind.SECURITY: [
        ("source_verified", "The vendor or source is known and the artifact digest matches it"),
        ("permissions_minimal", "It asks only for the permissions its purpose needs"),
        ("secrets_handled", "No credentials are embedded; secrets come from the platform"),
        ("network_reviewed", "Its network destinations are known and acceptable"),
    ],
    ReviewKind.DATA: [
        (
            "exposure_accurate",
            "The claimed systems, data classes and read/write reach are accurate",
        ),
        ("pii_justified", "Access to personal or financial data is justified by the purpose"),
        ("retention_ok", "It keeps no copies of data beyond what its purpose needs"),
    ],
}
