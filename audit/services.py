"""Writes of the audit log. `audit_event_record` is the only writer of `AuditEvent`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent, AuditPurge, AuditSeal, RefusalTally
from audit.seal_services import AuditIntegrityError, lock_sealing
from audit.sealing import PurgeBody, seal_signature
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
    event = audit_event_build(
        event_type=event_type,
        actor=actor,
        timestamp=timestamp,
        decision=decision,
        target=target,
        changes=changes,
        detail=detail,
        **fields,
    )
    event.save()
    return event


def audit_event_build(
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
    """The event `audit_event_record` would write, unsaved, with its content hash: for
    the decision path, which writes it in the same single statement as the decision."""
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
    event.content_hash = event.compute_content_hash()
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


# ---------------------------------------------------------------------------
# Refused requests: one event per source per minute, with a count

REFUSAL_WINDOW = timedelta(minutes=1)
MAX_TALLIES_PER_FLUSH = 1000


def audit_refusal_record(
    *, event_type: EventType, source: str, reason: str, detail: dict, now: datetime | None = None
) -> AuditEvent | None:
    """Count one refused request (a bad API token, a sign-in while locked out) from
    `source`, the client's address. The first refusal of a source's minute writes an
    audit event carrying `count`: itself plus the refusals counted since the source's
    previous event. The rest of the minute only adds one to the source's RefusalTally,
    so that a flood of bad requests cannot flood the append-only log. Returns the event
    written, or None when the refusal was only counted."""
    now = now or timezone.now()
    key = {"event_type": event_type, "source": source[:64], "reason": reason}
    for _ in range(2):  # a second pass only when another process opened the window first
        try:
            with transaction.atomic():
                counted = RefusalTally.objects.filter(**key, window_ends_at__gt=now).update(
                    count=F("count") + 1,
                    pending_since=Coalesce("pending_since", Value(now)),
                    sample=detail,
                )
                return None if counted else _refusal_window_open(key, detail, now)
        except IntegrityError:
            continue
    raise RuntimeError("Could not count a refused request")  # pragma: no cover


def _refusal_window_open(key: dict, detail: dict, now: datetime) -> AuditEvent | None:
    """Open the source's next minute: write its event with the refusals carried over."""
    tally = RefusalTally.objects.select_for_update().filter(**key).first()
    if tally is not None and tally.window_ends_at > now:  # opened meanwhile: just count
        tally.count, tally.pending_since = tally.count + 1, tally.pending_since or now
        tally.save(update_fields=["count", "pending_since"])
        return None
    carried, since = (tally.count, tally.pending_since or now) if tally else (0, now)
    tally = tally or RefusalTally(**key)
    tally.count, tally.pending_since, tally.window_ends_at = 0, None, now + REFUSAL_WINDOW
    tally.sample = detail
    tally.save()  # a concurrent insert of the same source fails here; the caller retries
    _refusals_flush(now, exclude=tally.pk)
    return _refusal_event(key, detail, count=carried + 1, since=since, now=now)


def audit_refusals_flush(*, now: datetime | None = None) -> int:
    """Write the counts of every source whose minute is over into the log, one event per
    source, and forget those sources (beat, every minute; idempotent). Returns the number
    of events written."""
    with transaction.atomic():
        return _refusals_flush(now or timezone.now())


def _refusals_flush(now: datetime, *, exclude: int | None = None) -> int:
    # skip_locked: a row another transaction holds is being rolled over by it (flushing it
    # here too would count twice), and waiting for it could deadlock two requests that each
    # roll over their own source and flush the other's.
    closed = (
        RefusalTally.objects.select_for_update(skip_locked=True)
        .filter(window_ends_at__lte=now)
        .exclude(pk=exclude)
        .order_by("window_ends_at")[:MAX_TALLIES_PER_FLUSH]
    )
    written = 0
    for tally in closed:
        if tally.count:
            key = {"event_type": tally.event_type, "source": tally.source, "reason": tally.reason}
            _refusal_event(key, tally.sample, count=tally.count, since=tally.pending_since, now=now)
            written += 1
        tally.delete()
    return written


def _refusal_event(key: dict, detail: dict, *, count: int, since, now: datetime) -> AuditEvent:
    return audit_event_record(
        event_type=key["event_type"],
        actor=SYSTEM,
        timestamp=now,
        outcome="deny",
        reason=key["reason"],
        detail={
            **detail,
            "remote_addr": key["source"],
            "count": count,
            "since": (since or now).isoformat(),
        },
    )


# ---------------------------------------------------------------------------
# Retention (sealing and the witness: audit/seal_services.py)

# The database role that alone may delete sealed events (migration 0011, README).
PURGE_ROLE = "agc_audit_purger"


class AuditPurgeNotPermitted(Exception):
    """The database role the purge runs as may not delete sealed audit events."""


def audit_purge(*, before: datetime, actor: Any) -> AuditPurge | None:
    """Remove sealed events older than `before`, whole seals at a time, oldest first.

    Never touches unsealed events; refuses to purge evidence that fails verification
    (that would hide tampering); keeps the seals, so the chain still verifies; records
    the purge (a signed AuditPurge row and an audit event). Returns None if nothing
    qualified. On PostgreSQL the delete runs as the purge role (`_purge_postgresql`)."""
    with transaction.atomic():
        lock_sealing()
        done = AuditPurge.objects.aggregate(last=Max("through_seal_id"))["last"] or 0
        seals = _purgeable_seals(done, before)
        if not seals:
            return None
        _check_purgeable(seals)
        body = PurgeBody(
            through_seal_id=seals[-1].pk,
            through_seal_hash=seals[-1].seal_hash,
            before=before,
            deleted=sum(seal.event_count for seal in seals),
            actor=actor_label(actor),
            created_at=timezone.now(),
        )
        signature = seal_signature(body.hash(), settings.AUDIT_SIGNING_KEY)
        if connection.vendor == "postgresql":
            purge = _purge_postgresql(body, signature)
        else:
            purge = _purge_orm(seals[0].first_event_id, body, signature)
        audit_event_record(
            event_type=EventType.AUDIT_PURGED,
            actor=actor,
            detail={
                "before": before.isoformat(),
                "through_seal": seals[-1].pk,
                "first_event_id": seals[0].first_event_id,
                "last_event_id": seals[-1].last_event_id,
                "deleted": purge.deleted,
            },
        )
    return purge


def _purgeable_seals(after_seal_id: int, before: datetime) -> list[AuditSeal]:
    """Consecutive seals after the last purge whose events are all older than `before`."""
    eligible = []
    for seal in AuditSeal.objects.filter(id__gt=after_seal_id).order_by("id"):
        newest = AuditEvent.objects.filter(
            id__gte=seal.first_event_id, id__lte=seal.last_event_id
        ).aggregate(newest=Max("timestamp"))["newest"]
        if newest is not None and newest >= before:
            break
        eligible.append(seal)
    return eligible


def _check_purgeable(seals: list[AuditSeal]) -> None:
    """Every seal to purge, and each of its events, verifies; no event was inserted between
    them (so the number of rows the purge removes is exactly the number sealed)."""
    from audit.verification import MIN_ID, seal_problems

    previous = AuditSeal.objects.filter(pk__lt=seals[0].pk).order_by("-pk").first()
    after_id = previous.last_event_id if previous else MIN_ID
    for seal in seals:
        problems = seal_problems(seal, after_id=after_id)
        if problems:
            raise AuditIntegrityError(
                f"Seal #{seal.pk} does not verify ({problems[0].message}); nothing was purged."
            )
        after_id = seal.last_event_id


def _purge_orm(first_id: int, body: PurgeBody, signature: str) -> AuditPurge:
    """SQLite: the one DELETE the model's append-only guard lets through, raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id >= %s AND id <= %s",
            [first_id, _seal_last_id(body.through_seal_id)],
        )
        if cursor.rowcount != body.deleted:
            raise AuditIntegrityError(
                f"The purge found {cursor.rowcount} events where {body.deleted} were sealed; "
                "nothing was purged."
            )
    return AuditPurge.objects.create(
        through_seal_id=body.through_seal_id,
        before=body.before,
        deleted=body.deleted,
        actor=body.actor,
        created_at=body.created_at,
        signature=signature,
    )


def _seal_last_id(seal_id: int) -> int:
    return AuditSeal.objects.values_list("last_event_id", flat=True).get(pk=seal_id)


PURGE_SQL = "SELECT audit_purge_through_seal(%s, %s, %s, %s, %s, %s)"


def _purge_postgresql(body: PurgeBody, signature: str) -> AuditPurge:
    """PostgreSQL: call the purge function (SECURITY DEFINER, owned by the purge role),
    which deletes the events and writes the purge record; only members of the purge role
    may call it, and the trigger lets no other role delete an event.

    With AUDIT_PURGE_DATABASE_URL the call runs on its own connection, as the purge role's
    login, and commits before this transaction does: if the audit event below then failed
    to commit, the purge would still be recorded (AuditPurge) and verify."""
    params = [
        body.through_seal_id,
        body.before,
        body.deleted,
        body.actor,
        body.created_at,
        signature,
    ]
    url = settings.AUDIT_PURGE_DATABASE_URL
    try:
        if url:
            with psycopg.connect(url) as purge_connection:
                purge_connection.execute(PURGE_SQL, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(PURGE_SQL, params)
    except (DatabaseError, psycopg.Error) as error:
        raise _purge_error(error, url) from error
    return AuditPurge.objects.get(through_seal_id=body.through_seal_id)


def _purge_error(error: Exception, url: str) -> Exception:
    """The database's refusal in words an operator can act on."""
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate == "42501":  # insufficient_privilege
        where = "AUDIT_PURGE_DATABASE_URL" if url else "the application's DATABASE_URL"
        return AuditPurgeNotPermitted(
            f"The database role of {where} may not purge audit events: only members of "
            f"the {PURGE_ROLE} role may. Set AUDIT_PURGE_DATABASE_URL to a login role that "
            f'is a member of {PURGE_ROLE} (README, "Database roles"). '
            f"The database said: {str(cause).strip()}"
        )
    if isinstance(cause, psycopg.OperationalError):
        return AuditPurgeNotPermitted(f"Cannot connect as the purge role: {str(cause).strip()}")
    return AuditIntegrityError(f"The purge was refused: {str(cause or error).strip()}")
