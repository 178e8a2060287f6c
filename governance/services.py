"""Every write of the policy domain: configuration changes and decisions.

Each service runs in one transaction, checks the actor's permission itself (so the UI,
the API, the admin and the commands all pass the same gate), records its audit event in
that transaction and bumps the policy revision when the configuration changed."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from audit.choices import EventType
from audit.sealing import digest
from audit.services import (
    SystemActor,
    audit_config_change,
    audit_event_build,
    audit_event_record,
    audit_snapshot,
)
from governance import engine
from governance.choices import (
    EXECUTABLE_STATUSES,
    REPORTED_STATUSES,
    DecisionStatus,
    OutcomeStatus,
)
from governance.decision_store import DecisionRows, StalePolicy, decision_rows_write
from governance.exceptions import (
    Conflict,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from governance.identity import IdentityError, email_canonical
from governance.metrics import decision_counted
from governance.models import (
    ActionType,
    AgentRuntime,
    Decision,
    PermissionProfile,
    PolicyRevision,
    ProfileGrant,
    User,
    UserToken,
)
from governance.permissions import can_manage_policy
from governance.selectors import PolicyCache, policy_cache_get, policy_cache_refresh
from governance.tokens import RUNTIME_TOKEN, USER_TOKEN, token_issue

# ---------------------------------------------------------------------------
# Configuration


def policy_revision_bump() -> int:
    """Advance the policy revision inside the caller's transaction; return the new number.

    The UPDATE takes the row lock, so concurrent changes serialise here and each gets
    its own number."""
    updated = PolicyRevision.objects.filter(id=1).update(number=F("number") + 1, token=uuid.uuid4())
    if not updated:
        PolicyRevision.objects.create(id=1, number=2)
    return PolicyRevision.objects.values_list("number", flat=True).get(id=1)


def require_policy_admin(actor: Any) -> None:
    """Refuse configuration changes from anyone but governance admins (or the system)."""
    if isinstance(actor, SystemActor):
        return
    if not can_manage_policy(actor):
        raise PermissionDenied("Only governance admins may change the governance configuration.")


def validation_failed(error: ValidationError) -> ValidationFailed:
    """Turn Django's ValidationError into our ApplicationError with field messages."""
    fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    first = next(iter(fields.values()))[0]
    return ValidationFailed(first, extra={"fields": fields})


def config_object_save(
    instance: models.Model,
    *,
    actor: Any,
    fields: dict[str, Any],
    audit_target: models.Model | None = None,
    detail: dict | None = None,
) -> models.Model:
    """Create or change one governed object: validate, save, set its many-to-many values,
    bump the policy revision and record before/after, all in one transaction.

    Saving the same values again changes nothing: no revision bump, no audit event (so
    re-importing a policy is silent). `audit_target` records the change against another
    object (a grant against its profile), so the owner's history shows it; `detail` (the
    reason given for the change, say) is recorded with it."""
    target = audit_target or instance
    m2m_names = {f.name for f in instance._meta.many_to_many}
    plain = {k: v for k, v in fields.items() if k not in m2m_names}
    related = {k: v for k, v in fields.items() if k in m2m_names}
    with transaction.atomic():
        before = audit_snapshot(target) if target.pk else None
        for name, value in plain.items():
            setattr(instance, name, value)
        try:
            instance.full_clean(exclude=list(related))
            instance.save()
        except ValidationError as error:
            raise validation_failed(error) from error
        for name, values in related.items():
            getattr(instance, name).set(values)
        _config_change_record(target, actor=actor, before=before, detail=detail)
    return instance


def _config_change_record(
    target: models.Model, *, actor: Any, before: dict | None, detail: dict | None = None
) -> None:
    """Bump the revisions and audit the change of `target`, if anything changed."""
    after = audit_snapshot(target)
    if before == after:
        return
    if isinstance(target, PermissionProfile) and before is not None:
        PermissionProfile.objects.filter(pk=target.pk).update(revision=F("revision") + 1)
        target.refresh_from_db(fields=["revision"])
        after = audit_snapshot(target)
    audit_config_change(
        actor=actor,
        target=target,
        before=before,
        after=after,
        policy_revision=policy_revision_bump(),
        detail=detail,
    )


def config_object_delete(
    instance: models.Model, *, actor: Any, audit_target: models.Model | None = None
) -> None:
    """Delete one governed object, recording what it was (or, with `audit_target`, the
    owner's before and after)."""
    with transaction.atomic():
        if audit_target is not None:
            before = audit_snapshot(audit_target)
            instance.delete()
            _config_change_record(audit_target, actor=actor, before=before)
            return
        audit_config_change(
            actor=actor,
            target=instance,
            before=audit_snapshot(instance),
            after=None,
            policy_revision=policy_revision_bump(),
        )
        try:
            instance.delete()
        except models.ProtectedError as error:
            names = ", ".join(sorted({str(o) for o in error.protected_objects})[:5])
            raise Conflict(f"{instance} is still in use ({names}); retire it instead.") from error


def action_type_create(*, actor: Any, **fields: Any) -> ActionType:
    """Add an action type (impact, reversibility, allow-list, approvers)."""
    require_policy_admin(actor)
    return config_object_save(ActionType(), actor=actor, fields=fields)


def action_type_update(action_type: ActionType, *, actor: Any, **fields: Any) -> ActionType:
    """Change an action type; moving it onto or off the allow-list is recorded like any change."""
    require_policy_admin(actor)
    return config_object_save(action_type, actor=actor, fields=fields)


def action_type_delete(action_type: ActionType, *, actor: Any) -> None:
    """Delete an action type that no profile names (profiles would silently lose it)."""
    require_policy_admin(actor)
    users = [p.slug for p in PermissionProfile.objects.all() if action_type.key in p.action_types]
    if users:
        raise Conflict(
            f"Profiles {', '.join(users)} allow '{action_type.key}'; remove it from them first."
        )
    config_object_delete(action_type, actor=actor)


def change_reason_check(reason: str) -> str:
    """The reason an admin gives for a change made in the console's editor: required, so
    that "why was this changed?" has an answer in the audit log."""
    reason = (reason or "").strip()
    if not reason:
        message = "Say why you make this change; the reason is kept in the audit log."
        raise ValidationFailed(message, extra={"fields": {"reason": [message]}})
    return reason


def action_type_save(
    action_type: ActionType | None, *, actor: Any, reason: str, **fields: Any
) -> ActionType:
    """Create (None) or change an action type from the console's editor, conditions
    included, with the admin's reason recorded in the configuration-change event."""
    require_policy_admin(actor)
    reason = change_reason_check(reason)
    return config_object_save(
        action_type or ActionType(), actor=actor, fields=fields, detail={"reason": reason}
    )


@dataclass(frozen=True)
class GrantRow:
    """One grant as the profile editor submits it; `id` names an existing grant to keep."""

    connector: Any  # catalog.CatalogItem (a connector)
    resources: list[str]
    access: str
    id: int | None = None


def profile_save(
    profile: PermissionProfile | None,
    *,
    actor: Any,
    reason: str,
    grants: list[GrantRow],
    **fields: Any,
) -> PermissionProfile:
    """Create (None) or change a profile and its grants from the console's editor, as one
    change: one transaction, one revision, one audit event (the grants are part of the
    profile's record) carrying the admin's reason."""
    require_policy_admin(actor)
    reason = change_reason_check(reason)
    profile = profile or PermissionProfile()
    with transaction.atomic():
        before = audit_snapshot(profile) if profile.pk else None
        m2m_names = {f.name for f in profile._meta.many_to_many}
        for name, value in fields.items():
            if name not in m2m_names:
                setattr(profile, name, value)
        _full_clean(profile, exclude=list(m2m_names))
        profile.save()
        for name in m2m_names & set(fields):
            getattr(profile, name).set(fields[name])
        _profile_grants_replace(profile, grants)
        _config_change_record(profile, actor=actor, before=before, detail={"reason": reason})
    return profile


def _full_clean(instance: models.Model, **kwargs: Any) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise validation_failed(error) from error


def _profile_grants_replace(profile: PermissionProfile, rows: list[GrantRow]) -> None:
    """Make the profile's grants exactly `rows`: keep (and update) the named ones, add the
    new ones, delete the others."""
    existing = {g.pk: g for g in profile.grants.all()}
    kept = {row.id for row in rows if row.id in existing}
    for pk, grant in existing.items():
        if pk not in kept:
            grant.delete()
    for row in rows:
        grant = existing[row.id] if row.id in kept else ProfileGrant(profile=profile)
        grant.connector, grant.resources, grant.access = row.connector, row.resources, row.access
        _full_clean(grant, exclude=["profile"])
        grant.save()


def profile_create(*, actor: Any, **fields: Any) -> PermissionProfile:
    """Create a task-scoped permission profile."""
    require_policy_admin(actor)
    return config_object_save(PermissionProfile(), actor=actor, fields=fields)


def profile_update(profile: PermissionProfile, *, actor: Any, **fields: Any) -> PermissionProfile:
    """Change a profile; its own revision and the policy revision both advance."""
    require_policy_admin(actor)
    return config_object_save(profile, actor=actor, fields=fields)


def profile_delete(profile: PermissionProfile, *, actor: Any) -> None:
    require_policy_admin(actor)
    config_object_delete(profile, actor=actor)


def profile_grant_add(*, actor: Any, profile: PermissionProfile, **fields: Any) -> ProfileGrant:
    """Grant data access on a connector to a profile (recorded in the profile's history)."""
    require_policy_admin(actor)
    grant = ProfileGrant(profile=profile)
    return config_object_save(grant, actor=actor, fields=fields, audit_target=profile)


def profile_grant_update(grant: ProfileGrant, *, actor: Any, **fields: Any) -> ProfileGrant:
    require_policy_admin(actor)
    fields.pop("profile", None)
    return config_object_save(grant, actor=actor, fields=fields, audit_target=grant.profile)


def profile_grant_remove(grant: ProfileGrant, *, actor: Any) -> None:
    require_policy_admin(actor)
    config_object_delete(grant, actor=actor, audit_target=grant.profile)


ConditionOwner = ActionType | PermissionProfile
REASON_MAX = 1000


def condition_promote(owner: ConditionOwner, *, name: str, actor: Any, reason: str) -> dict:
    """Make a condition in shadow mode bind (`mode: enforce`), with the reason for it.

    The condition is checked again as it stands today, through the owner's own validation:
    an expression that no longer compiles, or an `auto_execute` condition on an
    irreversible, high or critical action type, is refused and nothing changes. Recorded
    as a configuration change (before and after, the reason); the policy revision moves on."""
    return _condition_change(owner, name=name, actor=actor, reason=reason, change="promote")


def condition_delete(owner: ConditionOwner, *, name: str, actor: Any, reason: str) -> dict:
    """Remove a condition (in shadow mode or not) from its action type or profile, with the
    reason for it; audited with before and after, and the policy revision moves on."""
    return _condition_change(owner, name=name, actor=actor, reason=reason, change="delete")


def _condition_change(
    owner: ConditionOwner, *, name: str, actor: Any, reason: str, change: str
) -> dict:
    require_policy_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why: a reason is required.", extra={"fields": {"reason": ["Required."]}}
        )
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"Keep the reason under {REASON_MAX} characters.")
    with transaction.atomic():
        # Under the owner's row lock, so two admins acting at once see each other's change.
        owner = type(owner).objects.select_for_update().get(pk=owner.pk)
        conditions = list(owner.conditions or [])
        found = next((c for c in conditions if c.get("name") == name), None)
        if found is None:
            raise NotFound(f"{owner} has no condition '{name}'.")
        if change == "promote":
            if found.get("mode", "enforce") != "shadow":
                raise Conflict(f"Condition '{name}' is already enforced.")
            conditions = [{**c, "mode": "enforce"} if c is found else c for c in conditions]
        else:
            conditions = [c for c in conditions if c is not found]
        detail = {"reason": reason, "condition": name, "change": f"condition_{change}"}
        config_object_save(owner, actor=actor, fields={"conditions": conditions}, detail=detail)
    return found


def runtime_create(
    *, actor: Any, name: str, profiles: Iterable[PermissionProfile] = (), description: str = ""
) -> tuple[AgentRuntime, str]:
    """Register an agent runtime; return it with its token, which is shown only now."""
    require_policy_admin(actor)
    issued = token_issue(RUNTIME_TOKEN)
    runtime = AgentRuntime(token_hash=issued.hash, token_prefix=issued.prefix)
    if isinstance(actor, User):
        runtime.created_by = actor
    with transaction.atomic():
        config_object_save(
            runtime,
            actor=actor,
            fields={"name": name, "description": description, "profiles": list(profiles)},
        )
        audit_event_record(
            event_type=EventType.RUNTIME_TOKEN_ISSUED,
            actor=actor,
            target=runtime,
            detail={"token_prefix": issued.prefix},
        )
    return runtime, issued.plaintext


def runtime_update(runtime: AgentRuntime, *, actor: Any, **fields: Any) -> AgentRuntime:
    """Change a runtime's description or the profiles it may use."""
    require_policy_admin(actor)
    allowed = {"description", "profiles"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))} of a runtime.")
    return config_object_save(runtime, actor=actor, fields=fields)


def runtime_token_rotate(runtime: AgentRuntime, *, actor: Any) -> str:
    """Replace a runtime's token; the old one stops working at once."""
    require_policy_admin(actor)
    if not runtime.is_active:
        raise Conflict(f"Runtime '{runtime.name}' is revoked; create a new one instead.")
    issued = token_issue(RUNTIME_TOKEN)
    with transaction.atomic():
        AgentRuntime.objects.filter(pk=runtime.pk).update(
            token_hash=issued.hash, token_prefix=issued.prefix
        )
        runtime.refresh_from_db()
        audit_event_record(
            event_type=EventType.RUNTIME_TOKEN_ISSUED,
            actor=actor,
            target=runtime,
            # The decision path authenticates from the cached policy: the old token must
            # stop working everywhere at once, so the revision moves on.
            policy_revision=policy_revision_bump(),
            detail={"token_prefix": issued.prefix, "rotated": True},
        )
    return issued.plaintext


def runtime_revoke(runtime: AgentRuntime, *, actor: Any, reason: str = "") -> AgentRuntime:
    """Revoke a runtime's token for good: it can no longer ask for decisions."""
    require_policy_admin(actor)
    with transaction.atomic():
        updated = AgentRuntime.objects.filter(pk=runtime.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        runtime.refresh_from_db()
        if not updated:
            raise Conflict(f"Runtime '{runtime.name}' is already revoked.")
        revision = policy_revision_bump()
        audit_event_record(
            event_type=EventType.RUNTIME_TOKEN_REVOKED,
            actor=actor,
            target=runtime,
            policy_revision=revision,
            detail={"reason": reason, "token_prefix": runtime.token_prefix},
        )
    return runtime


def runtime_callback_set(runtime: AgentRuntime, *, actor: Any, url: str) -> str:
    """Set (or clear, with "") where the runtime hears about resolved decisions.

    A new signing secret is generated with every new URL and returned: it is shown once,
    to the admin who set it, and used to sign every webhook (X-Signature)."""
    require_policy_admin(actor)
    url = url.strip()
    if url and not url.startswith(("http://", "https://")):
        raise ValidationFailed("The callback URL must start with http:// or https://.")
    secret = f"whsec_{secrets.token_urlsafe(32)}" if url else ""
    with transaction.atomic():
        before = {"callback_url": runtime.callback_url}
        AgentRuntime.objects.filter(pk=runtime.pk).update(callback_url=url, callback_secret=secret)
        runtime.refresh_from_db()
        audit_event_record(
            event_type=EventType.RUNTIME_CALLBACK_SET,
            actor=actor,
            target=runtime,
            policy_revision=policy_revision_bump(),
            changes={"before": before, "after": {"callback_url": url}},
        )
    return secret


def user_token_create(user: User, *, actor: Any, name: str) -> tuple[UserToken, str]:
    """Issue a personal API token; the plaintext is returned once and never stored."""
    if not isinstance(actor, SystemActor) and actor != user and not can_manage_policy(actor):
        raise PermissionDenied("Only governance admins may issue tokens for someone else.")
    if not name.strip():
        raise ValidationFailed("Name the token after what uses it, e.g. slack-bot.")
    issued = token_issue(USER_TOKEN)
    with transaction.atomic():
        token = UserToken.objects.create(
            user=user, name=name.strip(), token_hash=issued.hash, token_prefix=issued.prefix
        )
        audit_event_record(
            event_type=EventType.USER_TOKEN_ISSUED,
            actor=actor,
            target=user,
            detail={"token_prefix": issued.prefix, "name": token.name},
        )
    return token, issued.plaintext


def user_token_revoke(token: UserToken, *, actor: Any) -> UserToken:
    """Revoke a personal API token at once."""
    if not isinstance(actor, SystemActor) and actor != token.user and not can_manage_policy(actor):
        raise PermissionDenied("Only the owner or a governance admin may revoke this token.")
    with transaction.atomic():
        updated = UserToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise Conflict(f"Token {token.token_prefix}… is already revoked.")
        token.refresh_from_db()
        audit_event_record(
            event_type=EventType.USER_TOKEN_REVOKED,
            actor=actor,
            target=token.user,
            detail={"token_prefix": token.token_prefix, "name": token.name},
        )
    return token


def user_groups_set(user: User, *, actor: Any, groups: Iterable[Group]) -> User:
    """Set a person's role and approver groups; the change is audited."""
    require_policy_admin(actor)
    with transaction.atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.set(list(groups))
        after = sorted(user.groups.values_list("name", flat=True))
        if before != after:
            audit_config_change(
                actor=actor,
                target=user,
                before={"groups": before},
                after={"groups": after},
                event_type=EventType.GROUP_MEMBERSHIP_CHANGED,
            )
    return user


# ---------------------------------------------------------------------------
# Decisions


def params_digest(params: dict) -> str:
    """Digest of a params object: SHA-256 of its canonical JSON (sorted keys, compact)."""
    return digest(params)


def person_key_from_address(address: str) -> str:
    """Canonicalise the address an agent sent (identity.email_canonical), or refuse it with
    a field error: every way in (the API, the hooks, the gateway) passes through here."""
    try:
        key = email_canonical(
            address, allow_international=settings.GOVERNANCE["ALLOW_INTERNATIONAL_EMAIL"]
        )
        validate_email(key)
        return key
    except (IdentityError, ValidationError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        raise ValidationFailed(message, extra={"fields": {"on_behalf_of": [message]}}) from error


def decision_create(
    *,
    runtime: AgentRuntime,
    request_id: str,
    on_behalf_of: str,
    profile: str,
    action: str,
    connector: str | None = None,
    data_sources: Iterable[str] = (),
    plugin: str | None = None,
    model: str = "",
    params: dict | None = None,
    rationale: str = "",
    now: datetime | None = None,
) -> tuple[Decision, bool]:
    """Decide one proposed action and record it. Returns (decision, created).

    Reads nothing on the way: the runtime, the person and the policy come from the
    per-process policy cache, and the write (decision_store) succeeds only if the policy
    revision is still the cache's; when it moved on, the decision is made again on the
    fresh policy, so no decision is made on a policy older than the one committed before
    it began. The decision, its audit event and (when pending) its approval request and
    the approvers' e-mail are written together; nothing slow happens on this path.

    Idempotent on (runtime, request_id): a repeat of the same request returns the first
    decision and records nothing; a different request under a used id is a Conflict."""
    request = _DecisionRequest(
        request_id=request_id,
        on_behalf_of=person_key_from_address(on_behalf_of),
        profile=profile,
        action=action,
        connector=connector or "",
        data_sources=list(data_sources),
        plugin=plugin or "",
        model=model,
        params=params or {},
        rationale=rationale,
    )
    now = now or timezone.now()
    cache = policy_cache_get(verify=False)
    for _ in range(DECISION_ATTEMPTS):
        _runtime_still_active(cache, runtime)
        rows = _decision_rows(cache, runtime, request, now)
        try:
            if decision_rows_write(rows, token=cache.token):
                decision_counted(rows.decision.outcome, rows.decision.reason)
                return rows.decision, True
        except StalePolicy:
            cache = policy_cache_refresh(cache)
            continue
        existing = Decision.objects.select_related("approval_request").filter(
            runtime_id=runtime.pk, request_id=request_id
        )
        return _decision_replay(existing.get(), rows.decision.request_fingerprint), False
    raise StalePolicy("The policy kept changing while deciding; try again.")


# A decision is made again on a fresh policy when the revision moved on before its write;
# past this many attempts in a row (a storm of configuration changes) the request fails
# closed (503).
DECISION_ATTEMPTS = 5


@dataclass(frozen=True)
class _DecisionRequest:
    """What the agent asked, canonical: `on_behalf_of` is the person's canonical key."""

    request_id: str
    on_behalf_of: str
    profile: str
    action: str
    connector: str
    data_sources: list[str]
    plugin: str
    model: str
    params: dict
    rationale: str

    def fingerprint(self) -> str:
        fields = {k: v for k, v in asdict(self).items() if k != "request_id"}
        return digest(fields)


def _runtime_still_active(cache: PolicyCache, runtime: AgentRuntime) -> None:
    """The token the runtime authenticated with still belongs to it, unrevoked (a decision
    made again on a fresh policy re-checks: a rotation or revocation may be why)."""
    entry = cache.runtimes.get(runtime.token_hash)
    if entry is None or entry.id != runtime.pk or not entry.active:
        raise Unauthenticated("This runtime's token is no longer valid.", code="invalid_token")


def _decision_rows(
    cache: PolicyCache, runtime: AgentRuntime, request: _DecisionRequest, now: datetime
) -> DecisionRows:
    from approvals.services import approval_request_build

    person = cache.person(request.on_behalf_of)
    verdict = engine.decide(
        cache.snapshot,
        engine.Proposal(
            runtime_id=runtime.pk,
            on_behalf_of=person.key,
            on_behalf_of_groups=person.groups,
            on_behalf_of_user_id=person.user_id,
            profile=request.profile,
            action=request.action,
            now=now,
            connector=request.connector or None,
            data_sources=tuple(request.data_sources),
            plugin=request.plugin or None,
            params=request.params,
            model=request.model,
        ),
    )
    decision = _decision_from(request, verdict, runtime, person, cache, now)
    rows = DecisionRows(
        decision=decision,
        event=audit_event_build(
            event_type=EventType.DECISION_MADE,
            actor=runtime,
            decision=decision,
            timestamp=now,
            outcome=decision.outcome,
            detail={"message": decision.message, "facts": decision.facts},
        ),
    )
    if verdict.outcome is engine.Outcome.PENDING:
        rows.approval, rows.notification = approval_request_build(
            decision=decision,
            verdict=verdict,
            group_id=_group_id(cache, verdict.approver_group),
            routing=cache.routing.get(request.action),
            now=now,
        )
    return rows


_STATUS_OF_OUTCOME = {
    engine.Outcome.ALLOW: DecisionStatus.ALLOWED,
    engine.Outcome.DENY: DecisionStatus.DENIED,
    engine.Outcome.PENDING: DecisionStatus.PENDING,
}


def _decision_from(
    request: _DecisionRequest,
    verdict: engine.Verdict,
    runtime: AgentRuntime,
    person,
    cache: PolicyCache,
    now: datetime,
) -> Decision:
    outcome = verdict.outcome
    return Decision(
        runtime=runtime,
        request_id=request.request_id,
        request_fingerprint=request.fingerprint(),
        on_behalf_of=person.key,
        on_behalf_of_user_id=person.user_id,
        profile_slug=request.profile,
        action=request.action,
        connector=request.connector,
        data_sources=request.data_sources,
        plugin=request.plugin,
        model=request.model,
        params=request.params,
        params_digest=params_digest(request.params),
        rationale=request.rationale,
        policy_revision=cache.snapshot.revision,
        created_at=now,
        outcome=outcome.value,
        status=_STATUS_OF_OUTCOME[outcome],
        reason=verdict.reason.value,
        message=verdict.message,
        impact=verdict.impact or "",
        reversible=verdict.reversible,
        facts=dict(verdict.facts),
        profile_revision=verdict.facts.get("profile_revision"),
        approval="auto" if outcome is engine.Outcome.ALLOW else "",
        resolved_at=None if outcome is engine.Outcome.PENDING else now,
    )


def _group_id(cache: PolicyCache, name: str) -> int:
    """The approver group's id from the cache; a group named by the settings but not yet
    created is created now (which bumps the revision: the write then retries)."""
    group_id = cache.group_ids.get(name)
    if group_id is None:
        group_id = Group.objects.get_or_create(name=name)[0].pk
    return group_id


def _decision_replay(existing: Decision, fingerprint: str) -> Decision:
    if existing.request_fingerprint != fingerprint:
        raise Conflict(
            f"request_id '{existing.request_id}' was already used for a different request; "
            "use a new request_id for a new action.",
            code="request_id_reused",
        )
    return existing


def decision_outcome_report(
    decision: Decision,
    *,
    runtime: AgentRuntime,
    status: str,
    params_digest: str,
    detail: str = "",
    now: datetime | None = None,
) -> Decision:
    """Record what the agent did with an allowed or approved decision.

    The reported digest must be the digest of the params that were allowed (the edited
    ones when a person edited them): an agent cannot act on other params than approved.
    Reporting the same outcome twice is harmless; a different second report is refused."""
    if status not in OutcomeStatus.values:
        raise ValidationFailed(f"status must be one of {', '.join(OutcomeStatus.values)}.")
    now = now or timezone.now()
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk, runtime=runtime)
        if decision.status in REPORTED_STATUSES:
            if decision.status == status and params_digest == decision.effective_params_digest:
                return decision
            raise Conflict(
                f"The outcome of this decision was already reported as {decision.status}.",
                code="outcome_already_reported",
            )
        if decision.status not in EXECUTABLE_STATUSES:
            raise Conflict(
                f"This decision is {decision.status}; only an allowed or approved action may "
                "be reported as carried out.",
                code="decision_not_executable",
            )
        if params_digest != decision.effective_params_digest:
            raise Conflict(
                "params_digest does not match the params that were approved; act only on "
                "the params returned by GET /api/v1/decisions/{id}.",
                code="params_digest_mismatch",
            )
        decision.status = status
        decision.reported_at = now
        decision.outcome_detail = detail
        decision.save(update_fields=["status", "reported_at", "outcome_detail"])
        audit_event_record(
            event_type=EventType.OUTCOME_REPORTED,
            actor=runtime,
            decision=decision,
            timestamp=now,
            outcome=status,
            params_digest=params_digest,
            detail={"detail": detail},
        )
    return decision
