"""Writes of the audit log. `audit_event_record` is the only writer of `AuditEvent`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent
from governance.middleware import current_correlation_id

if TYPE_CHECKING:
    from governance.models import Decision

# Field values never written to the audit log, whatever the model.
MASKED_FIELDS = frozenset({"password", "token_hash", "callback_secret", "secret"})
MASK = "********"
# Bookkeeping fields that change on every save and would only add noise to a diff.
IGNORED_FIELDS = frozenset({"created_at", "updated_at", "last_used_at", "last_login"})


class SystemActor:
    """The console itself (commands, periodic tasks): an explicit actor, never a default."""

    label = "system"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def actor_label(actor: Any) -> str:
    """How an actor reads in the log: user:<email>, runtime:<name> or system."""
    if actor is None or isinstance(actor, SystemActor):
        return SYSTEM.label
    if hasattr(actor, "token_hash"):
        return f"runtime:{actor.name}"
    return f"user:{actor.email or actor.get_username()}"


def _actor_columns(actor: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {"actor": actor_label(actor)}
    if actor is None or isinstance(actor, SystemActor) or not getattr(actor, "pk", None):
        return columns
    key = "actor_runtime" if hasattr(actor, "token_hash") else "actor_user"
    columns[key] = actor
    return columns


def decision_columns(decision: Decision) -> dict[str, Any]:
    """The record fields an event about `decision` carries."""
    return {
        "decision": decision,
        "on_behalf_of": decision.on_behalf_of,
        "action": decision.action,
        "approval": decision.approval or None,
        "data_sources": list(decision.data_sources),
        "model": decision.model,
        "plugin": decision.facts.get("plugin", decision.plugin)
        if decision.facts
        else decision.plugin,
        "reversible": decision.reversible,
        "reason": decision.reason,
        "profile": decision.profile_slug,
        "profile_revision": decision.profile_revision,
        "policy_revision": decision.policy_revision,
        "request_id": decision.request_id,
        "params_digest": decision.params_digest,
        "approved_params_digest": decision.approved_params_digest,
    }


def audit_event_record(
    *,
    event_type: EventType,
    actor: Any,
    timestamp: datetime | None = None,
    decision: Decision | None = None,
    target: models.Model | None = None,
    changes: dict | None = None,
    detail: dict | None = None,
    **fields: Any,
) -> AuditEvent:
    """Append one event to the audit log, inside the caller's transaction.

    `decision` fills the record fields from the decision; `target` names the configured
    object a configuration event is about. Any record field may be given explicitly
    (`outcome=`, `reason=`, `approval=`, ...) and then wins over the decision's value."""
    columns: dict[str, Any] = decision_columns(decision) if decision is not None else {}
    columns.update(fields)
    columns.update(_actor_columns(actor))
    if target is not None:
        columns.update(
            object_type=target._meta.label_lower,
            object_id=str(target.pk),
            object_repr=str(target)[:300],
        )
    event = AuditEvent(
        event_type=event_type,
        timestamp=timestamp or timezone.now(),
        changes=changes,
        detail=detail or {},
        correlation_id=columns.pop("correlation_id", None) or current_correlation_id(),
        **columns,
    )
    event.save()
    return event


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """A JSON-ready picture of a governed object for before/after records.

    Foreign keys and many-to-many values are written as their text (slug, name, e-mail)
    so the record reads well after renames; secrets are masked. A model may add related
    rows (a profile's grants) through an `audit_extra()` method."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in IGNORED_FIELDS:
            continue
        if field.name in MASKED_FIELDS:
            data[field.name] = MASK if getattr(instance, field.attname) else ""
        elif field.is_relation:
            related = getattr(instance, field.name)
            data[field.name] = str(related) if related is not None else None
        else:
            data[field.name] = _json_ready(getattr(instance, field.attname))
    if instance.pk:
        for field in instance._meta.many_to_many:
            data[field.name] = sorted(str(obj) for obj in getattr(instance, field.name).all())
    if hasattr(instance, "audit_extra"):
        data.update(instance.audit_extra())
    return data


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


def audit_config_change(
    *,
    actor: Any,
    target: models.Model,
    before: dict | None,
    after: dict | None,
    policy_revision: int | None = None,
    event_type: EventType | None = None,
    detail: dict | None = None,
) -> AuditEvent | None:
    """Record a change of governed configuration with its before and after values.

    Returns None (and records nothing) when nothing changed, so that re-applying the
    same configuration leaves no noise in the log."""
    if before == after:
        return None
    if event_type is None:
        event_type = (
            EventType.CONFIG_CREATED
            if before is None
            else EventType.CONFIG_DELETED
            if after is None
            else EventType.CONFIG_UPDATED
        )
    return audit_event_record(
        event_type=event_type,
        actor=actor,
        target=target,
        changes={"before": before, "after": after},
        policy_revision=policy_revision,
        detail=detail,
    )
