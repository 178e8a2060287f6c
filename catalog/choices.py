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
