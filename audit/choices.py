"""Event types of the audit log (stable lowercase values: they appear in exports)."""

from django.db import models


class EventType(models.TextChoices):
    # The decision path
    DECISION_MADE = "decision_made", "Decision made"
    APPROVAL_VOTE_CAST = "approval_vote_cast", "Approval vote cast"
    DECISION_APPROVED = "decision_approved", "Decision approved"
    DECISION_REJECTED = "decision_rejected", "Decision rejected"
    DECISION_EXPIRED = "decision_expired", "Decision expired"
    APPROVAL_ESCALATED = "approval_escalated", "Approval escalated"
    OUTCOME_REPORTED = "outcome_reported", "Outcome reported"
    TOOL_RAN_UNAPPROVED = "tool_ran_unapproved", "Tool ran without an executable decision"
    TOOL_DEFINITIONS_CHANGED = "tool_definitions_changed", "MCP tool definitions changed"
    API_AUTH_FAILED = "api_auth_failed", "API authentication failed"
    # Console sign-in
    LOGIN_SUCCEEDED = "login_succeeded", "Signed in"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOGIN_LOCKED_OUT = "login_locked_out", "Sign-in locked after repeated failures"
    LOGGED_OUT = "logged_out", "Signed out"
    # Governance configuration
    CONFIG_CREATED = "config_created", "Configuration created"
    CONFIG_UPDATED = "config_updated", "Configuration changed"
    CONFIG_DELETED = "config_deleted", "Configuration deleted"
    POLICY_IMPORTED = "policy_imported", "Policy imported"
    RUNTIME_TOKEN_ISSUED = "runtime_token_issued", "Runtime token issued"
    RUNTIME_TOKEN_REVOKED = "runtime_token_revoked", "Runtime token revoked"
    RUNTIME_CALLBACK_SET = "runtime_callback_set", "Runtime callback set"
    USER_TOKEN_ISSUED = "user_token_issued", "Personal API token issued"
    USER_TOKEN_REVOKED = "user_token_revoked", "Personal API token revoked"
    WEBHOOK_FAILED = "webhook_failed", "Webhook delivery failed"
    CATALOG_VERSION_PINNED = "catalog_version_pinned", "Catalog version pinned"
    CATALOG_VERSION_YANKED = "catalog_version_yanked", "Catalog version yanked"
    GROUP_MEMBERSHIP_CHANGED = "group_membership_changed", "Group membership changed"
    # The catalog's intake workflow
    INTAKE_STATE_CHANGED = "intake_state_changed", "Intake request state changed"
    INTAKE_REVIEWED = "intake_reviewed", "Intake request reviewed"
    # The audit log itself
    AUDIT_PURGED = "audit_purged", "Audit events purged"
    # Tuning
    RECOMMENDATION_APPLIED = "recommendation_applied", "Recommendation applied"
    RECOMMENDATION_DISMISSED = "recommendation_dismissed", "Recommendation dismissed"
    QUARTERLY_REVIEW_SIGNED = "quarterly_review_signed", "Quarterly review signed off"


DECISION_EVENT_TYPES = (
    EventType.DECISION_MADE,
    EventType.APPROVAL_VOTE_CAST,
    EventType.DECISION_APPROVED,
    EventType.DECISION_REJECTED,
    EventType.DECISION_EXPIRED,
    EventType.APPROVAL_ESCALATED,
    EventType.OUTCOME_REPORTED,
)


class Category(models.TextChoices):
    """What finally happened to a proposed action (the dashboards' outcome categories)."""

    ALLOWED = "allowed", "Allowed automatically"
    APPROVED = "approved", "Approved by a person"
    REJECTED = "rejected", "Rejected by a person"
    EXPIRED = "expired", "Expired unanswered"
    DENIED = "denied", "Denied"
    PENDING = "pending", "Waiting for a person"


class RecommendationKind(models.TextChoices):
    ALLOWLIST_CANDIDATE = "allowlist_candidate", "Allow-list candidate"
    ALWAYS_APPROVED_FLAG = "always_approved_flag", "Always approved, but cannot run unattended"
    DENIAL_CLUSTER = "denial_cluster", "Denial cluster"
    APPROVAL_BOTTLENECK = "approval_bottleneck", "Approval bottleneck"
    UNUSED_ACTION = "unused_action", "Unused action type"
    UNUSED_GRANT = "unused_grant", "Unused grant"


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPLIED = "applied", "Applied"
    DISMISSED = "dismissed", "Dismissed"


class OutboxTopic(models.TextChoices):
    """What an outbox message asks for (see audit/outbox.py)."""

    APPROVAL_NOTIFY = "approval.notify", "Notify approvers"


class SinkKind(models.TextChoices):
    """How a SIEM sink receives the audit stream (see audit/sinks.py)."""

    SYSLOG = "syslog", "Syslog (RFC 5424 over TCP)"
    HTTP = "http", "HTTP (JSON Lines)"
