"""States and verdicts of human approvals (stable lowercase values)."""

from django.db import models


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class AgeBucket(models.TextChoices):
    """Inbox filter: requests waiting longer than this."""

    HOUR = "1h", "Older than an hour"
    FOUR_HOURS = "4h", "Older than 4 hours"
    DAY = "1d", "Older than a day"
