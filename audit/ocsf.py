"""An audit event as an OCSF API Activity event (class 6003), the shape the SIEM sinks
receive. Pure: a row of values in, a JSON-ready dict out (README, "Audit streaming to a
SIEM" has the mapping as a table).

The SIEM copy keeps what is needed to check it against the chain: the event id
(`metadata.uid`), its keyed content hash and hash version, and the seal that covers it
when it is sealed already (`unmapped.audit`). A seal's `events_hash` is computed from
the (id, content hash) pairs of its events, so the copies in the SIEM can be matched
against the seals without the signing key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

OCSF_VERSION = "1.1.0"
CLASS_UID = 6003  # API Activity
CATEGORY_UID = 6  # Application Activity
PRODUCT = {"name": "Agent Governance Console", "vendor_name": "Agent Governance Console"}

# activity_id: configuration writes are Create/Update/Delete; everything else is Other,
# named by its event type in `activity_name`.
ACTIVITY_IDS = {"config_created": 1, "config_updated": 3, "config_deleted": 4}
ACTIVITY_NAMES = {0: "Unknown", 1: "Create", 2: "Read", 3: "Update", 4: "Delete"}
OTHER = 99

# status_id from the event's outcome: 1 Success, 2 Failure, 99 Other (waiting for a
# person), 0 Unknown (no outcome: most configuration events are successes, see below).
SUCCESS_OUTCOMES = frozenset({"allow", "approved", "executed", "approve", "success"})
FAILURE_OUTCOMES = frozenset({"deny", "rejected", "expired", "failed", "reject", "error"})
PENDING_OUTCOMES = frozenset({"pending", "escalated"})
STATUS_NAMES = {0: "Unknown", 1: "Success", 2: "Failure", OTHER: "Other"}

# severity_id: 1 Informational, 3 Medium (a refusal worth a look), 4 High (something ran
# that the console did not allow, or the log itself was purged).
SEVERITY_BY_EVENT_TYPE = {
    "tool_ran_unapproved": 4,
    "audit_purged": 4,
    "api_auth_failed": 3,
    "login_failed": 3,
    "login_locked_out": 3,
    "tool_definitions_changed": 3,
    "webhook_failed": 3,
}
SEVERITY_NAMES = {1: "Informational", 3: "Medium", 4: "High"}

# The OCSF user type of each kind of actor label.
USER_TYPES = {"user": (1, "User"), "runtime": (OTHER, "Agent runtime"), "system": (3, "System")}


def ocsf_api_activity(row: dict[str, Any], *, seal_id: int | None) -> dict[str, Any]:
    """The OCSF API Activity event for one audit event (`row`: the event's values, as
    `audit.verification.event_rows` reads them, with `id` and `content_hash`)."""
    activity_id = ACTIVITY_IDS.get(row["event_type"], OTHER)
    status_id = _status_id(row)
    severity_id = _severity_id(row)
    event = {
        "class_uid": CLASS_UID,
        "class_name": "API Activity",
        "category_uid": CATEGORY_UID,
        "category_name": "Application Activity",
        "activity_id": activity_id,
        "activity_name": ACTIVITY_NAMES.get(activity_id, row["event_type"]),
        "type_uid": CLASS_UID * 100 + activity_id,
        "time": _epoch_ms(row["timestamp"]),
        "severity_id": severity_id,
        "severity": SEVERITY_NAMES[severity_id],
        "status_id": status_id,
        "status": STATUS_NAMES[status_id],
        "message": _message(row),
        "metadata": _metadata(row),
        "actor": _actor(row),
        "api": _api(row),
        "resources": _resources(row),
        "unmapped": _unmapped(row, seal_id),
    }
    if row["outcome"]:
        event["status_code"] = row["outcome"]
    if row["reason"]:
        event["status_detail"] = row["reason"]
    remote_addr = (row.get("detail") or {}).get("remote_addr")
    if remote_addr:
        event["src_endpoint"] = {"ip": remote_addr}
    return event


def _status_id(row: dict[str, Any]) -> int:
    outcome = row["outcome"]
    if outcome in SUCCESS_OUTCOMES:
        return 1
    if outcome in FAILURE_OUTCOMES:
        return 2
    if outcome in PENDING_OUTCOMES:
        return OTHER
    if not outcome and row["event_type"].startswith(("config_", "catalog_", "runtime_")):
        return 1  # a recorded configuration change is one that was made
    return 0


def _severity_id(row: dict[str, Any]) -> int:
    if row["event_type"] in SEVERITY_BY_EVENT_TYPE:
        return SEVERITY_BY_EVENT_TYPE[row["event_type"]]
    return 1


def _message(row: dict[str, Any]) -> str:
    what = row["action"] or row["object_repr"] or row["event_type"]
    outcome = f": {row['outcome']}" if row["outcome"] else ""
    return f"{row['event_type']} {what} by {row['actor']}{outcome}"


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        "version": OCSF_VERSION,
        "product": PRODUCT,
        "uid": str(row["id"]),
        "event_code": row["event_type"],
        "logged_time": _epoch_ms(row["recorded_at"]),
        "original_time": row["timestamp"].isoformat(),
    }
    if row["correlation_id"]:
        metadata["correlation_uid"] = row["correlation_id"]
    return metadata


def _actor(row: dict[str, Any]) -> dict[str, Any]:
    """Who acted. An agent runtime acts for a person: then, as in AWS CloudTrail's
    mapping (`invokedBy`), the person is `actor.user` and the runtime `actor.app_name`
    and `actor.invoked_by`; a person or the console acting itself is `actor.user`."""
    label = row["actor"]
    kind, _, name = label.partition(":")
    if kind == "runtime":
        actor: dict[str, Any] = {"app_name": name, "invoked_by": label}
        if row["actor_runtime_id"]:
            actor["app_uid"] = str(row["actor_runtime_id"])
        actor["user"] = (
            _user(f"user:{row['on_behalf_of']}", None) if row["on_behalf_of"] else _user(label)
        )
        return actor
    return {"user": _user(label, row["actor_user_id"])}


def _user(label: str, uid: int | None = None) -> dict[str, Any]:
    kind, _, name = label.partition(":")
    type_id, type_name = USER_TYPES.get(kind, (0, "Unknown"))
    user = {"name": name or label, "uid": label, "type_id": type_id, "type": type_name}
    if kind == "user" and "@" in name:
        user["email_addr"] = name
    if uid:
        user["uid_alt"] = str(uid)
    return user


def _api(row: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {
        "operation": row["action"] or row["event_type"],
        "service": {"name": "agent-governance-console"},
    }
    if row["request_id"]:
        api["request"] = {"uid": row["request_id"]}
    return api


def _resources(row: dict[str, Any]) -> list[dict[str, Any]]:
    """What the event touched: the data sources read, the plugin named, the decision,
    the configured object."""
    resources: list[dict[str, Any]] = [
        {"type": "data_source", "name": source, "uid": source}
        for source in row["data_sources"] or []
    ]
    if row["plugin"]:
        slug, _, version = row["plugin"].partition("@")
        plugin = {"type": "plugin", "name": slug, "uid": row["plugin"]}
        if version:
            plugin["version"] = version
        resources.append(plugin)
    if row["decision_id"]:
        resources.append({"type": "decision", "uid": str(row["decision_id"])})
    if row["object_type"]:
        resources.append(
            {"type": row["object_type"], "uid": row["object_id"], "name": row["object_repr"]}
        )
    return resources


def _unmapped(row: dict[str, Any], seal_id: int | None) -> dict[str, Any]:
    """The seed's record fields as the console writes them (so that a SIEM rule can use
    the same names as the console's export), the governance context, and the integrity
    fields."""
    return {
        "record": {
            "timestamp": row["timestamp"].isoformat(),
            "actor": row["actor"],
            "on_behalf_of": row["on_behalf_of"],
            "action": row["action"],
            "approval": row["approval"],
            "data_sources": row["data_sources"],
            "model": row["model"],
            "plugin": row["plugin"],
            "reversible": row["reversible"],
        },
        "governance": {
            "event_type": row["event_type"],
            "outcome": row["outcome"],
            "reason": row["reason"],
            "profile": row["profile"],
            "profile_revision": row["profile_revision"],
            "policy_revision": row["policy_revision"],
            "params_digest": row["params_digest"],
            "approved_params_digest": row["approved_params_digest"],
            "changes": row["changes"],
            "detail": row["detail"],
        },
        "audit": {
            "event_id": row["id"],
            "content_hash": row["content_hash"],
            "hash_version": row["hash_version"],
            "seal_id": seal_id,
        },
    }


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
