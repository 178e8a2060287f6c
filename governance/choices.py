"""Stable states, outcomes and codes of the policy domain.

Values are lowercase strings because they end up in exports and in client code;
never rename one. Outcomes and reason codes mirror the pure engine's enums so that
the engine stays free of Django.
"""

from django.db import models

from governance.engine import Outcome as EngineOutcome
from governance.engine import Reason as EngineReason


class Impact(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Access(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


# The functional API takes (member name, (value, label)) pairs.
Outcome = models.TextChoices(
    "Outcome", [(o.name, (o.value, o.value.capitalize())) for o in EngineOutcome]
)

# Reason codes of the engine, plus the ones the service layer adds.
ReasonCode = models.TextChoices(
    "ReasonCode",
    [(r.name, (r.value, r.value.replace("_", " ").capitalize())) for r in EngineReason]
    + [("INTERNAL_ERROR", ("internal_error", "Internal error"))],
)

# Each reason code in words, for charts, legends and the audit log (the codes stay the
# stable values of exports and clients; these are only how pages say them).
REASON_TEXT = {
    "runtime_not_allowed_profile": "Agent runtime may not use this profile",
    "unknown_profile": "No such profile",
    "profile_inactive": "Profile not active",
    "profile_expired": "Profile expired",
    "launcher_not_allowed": "Person may not launch this profile",
    "unknown_catalog_item": "Connector or plugin not in the catalog",
    "catalog_item_not_approved": "Connector or plugin not approved",
    "plugin_not_in_profile": "Plugin not allowed by the profile",
    "plugin_version_missing": "Plugin named without a version",
    "version_yanked": "Version withdrawn (yanked)",
    "version_not_pinned": "Version other than the pinned one",
    "action_not_in_profile": "Action not allowed by the profile",
    "data_source_out_of_scope": "Data outside the profile's grants",
    "write_not_granted": "No write access granted",
    "auto_execute_allowlisted": "On the auto-execute allow-list",
    "unknown_action_type": "Unknown action type",
    "profile_requires_approval": "Profile asks for a person",
    "high_impact_or_irreversible": "High impact or irreversible",
    "requires_human_approval": "Not on the allow-list: a person decides",
    "condition_denied": "Denied by a condition",
    "condition_requires_approval": "A condition asks for a person",
    "condition_auto_execute": "Allowed by a condition",
    "condition_error": "A condition could not be evaluated",
    "internal_error": "Internal error (failed closed)",
}


def reason_text(code: str | None) -> str:
    """A reason code in words; an unknown code as itself, an empty one as empty."""
    return REASON_TEXT.get(code or "", code or "")


class DecisionStatus(models.TextChoices):
    """Where a decision is in its life.

    allowed/denied are final answers of the engine; pending becomes approved,
    rejected or expired by people or by time; an allowed or approved decision
    becomes executed, failed or skipped once the agent reports its outcome.
    """

    PENDING = "pending", "Pending approval"
    ALLOWED = "allowed", "Allowed automatically"
    DENIED = "denied", "Denied"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    EXECUTED = "executed", "Executed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


EXECUTABLE_STATUSES = (DecisionStatus.ALLOWED, DecisionStatus.APPROVED)
REPORTED_STATUSES = (DecisionStatus.EXECUTED, DecisionStatus.FAILED, DecisionStatus.SKIPPED)


class OutcomeStatus(models.TextChoices):
    """What an agent reports after acting on an allowed or approved decision."""

    EXECUTED = "executed", "Executed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Role(models.TextChoices):
    """The role groups of DESIGN.md; the value is the Django group's name."""

    GOVERNANCE_ADMIN = "Governance admins", "Governance admin"
    CONNECTOR_OWNER = "Connector owners", "Connector owner"
    APPROVER = "Approvers", "Approver"
    LEADERSHIP = "Leadership", "Leadership"
    AUDITOR = "Auditors", "Auditor"
