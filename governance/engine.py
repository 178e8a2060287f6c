"""The decision engine: a pure function from (policy snapshot, proposal) to a verdict.

Nothing in this module touches the database, the clock, the network or Django:
the caller builds an immutable `PolicySnapshot` (see `selectors.policy_snapshot_build`)
and passes the current time inside the `Proposal`. That keeps every rule table-testable
and lets the what-if simulator replay recorded requests through the very same code.

The rules, in order (first failure wins, each with a stable reason code):

Check 1, least privilege (DENY on failure)
  1. the runtime may use the profile            runtime_not_allowed_profile
  2. the profile exists                         unknown_profile
     ... is active                              profile_inactive
     ... and is not expired                     profile_expired
  3. on_behalf_of may launch the profile        launcher_not_allowed
  4. every catalog item named (the connector, the connectors of the data sources,
     the plugin) is in the catalog              unknown_catalog_item
     ... is approved                            catalog_item_not_approved
     ... the plugin is allowed by the profile   plugin_not_in_profile
     ... the plugin names a version             plugin_version_missing
     ... that version is not yanked             version_yanked
     ... and is the pinned one                  version_not_pinned
  5. the action type is allowed by the profile  action_not_in_profile
  6. every data source is covered by a grant    data_source_out_of_scope
     the changed connector has a write grant    write_not_granted

Check 2, proportional oversight, refined by conditions over the request (CEL, see
conditions.py; profile conditions before the action type's, each in its order)
  - a `deny` condition holds                    condition_denied           -> DENY
  - a `require_approval` condition holds        condition_requires_approval-> PENDING
  - unknown action type                         unknown_action_type        -> PENDING
  - the profile says "always ask"               profile_requires_approval  -> PENDING
  - high impact, critical or irreversible       high_impact_or_irreversible-> PENDING
  - an `auto_execute` condition holds           condition_auto_execute     -> ALLOW
  - not on the auto-execute allow-list          requires_human_approval    -> PENDING
  - otherwise                                   auto_execute_allowlisted   -> ALLOW

A condition that cannot be evaluated never allows: a `deny` condition then denies and a
`require_approval` condition sends the action to a person (both `condition_error`); an
`auto_execute` condition does not apply. A condition in shadow mode is evaluated and its
result recorded in the verdict's facts, and changes nothing. Conditions arrive compiled in
the snapshot (anything with `.condition` and `.evaluate(variables)`): the engine imports no
expression library and stays pure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    PENDING = "pending"


class Reason(StrEnum):
    # Check 1: least privilege (deny)
    RUNTIME_NOT_ALLOWED_PROFILE = "runtime_not_allowed_profile"
    UNKNOWN_PROFILE = "unknown_profile"
    PROFILE_INACTIVE = "profile_inactive"
    PROFILE_EXPIRED = "profile_expired"
    LAUNCHER_NOT_ALLOWED = "launcher_not_allowed"
    UNKNOWN_CATALOG_ITEM = "unknown_catalog_item"
    CATALOG_ITEM_NOT_APPROVED = "catalog_item_not_approved"
    PLUGIN_NOT_IN_PROFILE = "plugin_not_in_profile"
    PLUGIN_VERSION_MISSING = "plugin_version_missing"
    VERSION_YANKED = "version_yanked"
    VERSION_NOT_PINNED = "version_not_pinned"
    ACTION_NOT_IN_PROFILE = "action_not_in_profile"
    DATA_SOURCE_OUT_OF_SCOPE = "data_source_out_of_scope"
    WRITE_NOT_GRANTED = "write_not_granted"
    # Check 2: proportional oversight (allow or pending)
    AUTO_EXECUTE_ALLOWLISTED = "auto_execute_allowlisted"
    UNKNOWN_ACTION_TYPE = "unknown_action_type"
    PROFILE_REQUIRES_APPROVAL = "profile_requires_approval"
    HIGH_IMPACT_OR_IRREVERSIBLE = "high_impact_or_irreversible"
    REQUIRES_HUMAN_APPROVAL = "requires_human_approval"
    # Conditions over the request
    CONDITION_DENIED = "condition_denied"
    CONDITION_REQUIRES_APPROVAL = "condition_requires_approval"
    CONDITION_AUTO_EXECUTE = "condition_auto_execute"
    CONDITION_ERROR = "condition_error"


HIGH_IMPACTS = frozenset({"high", "critical"})
USABLE_PROFILE_STATUS = "active"
APPROVED_ITEM_STATUS = "approved"


@dataclass(frozen=True)
class ActionTypePolicy:
    key: str
    impact: str  # low | medium | high | critical
    reversible: bool
    auto_execute: bool
    approver_group: str | None
    approvals_needed: int
    approval_ttl_minutes: int
    conditions: tuple = ()  # compiled conditions (conditions.CompiledCondition), in order


@dataclass(frozen=True)
class GrantPolicy:
    connector: str
    resources: tuple[str, ...]  # shell-style globs over the resource path
    access: str  # read | write (write includes read)

    def covers(self, resource: str, *, need_write: bool) -> bool:
        if need_write and self.access != "write":
            return False
        return any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources)


@dataclass(frozen=True)
class ProfilePolicy:
    slug: str
    status: str  # draft | active | retired
    revision: int
    expires_at: datetime | None
    launcher_users: frozenset[int]  # user ids of the active people named as launchers
    launcher_groups: frozenset[str]
    action_types: tuple[str, ...]  # keys or globs (e.g. "crm.*")
    always_ask: tuple[str, ...]  # keys or globs
    plugins: frozenset[str]  # catalog slugs
    grants: tuple[GrantPolicy, ...]
    conditions: tuple = ()  # compiled conditions (conditions.CompiledCondition), in order


@dataclass(frozen=True)
class CatalogEntry:
    slug: str
    kind: str  # connector | plugin | skill | subagent
    status: str  # proposed | approved | deprecated | retired
    pinned_version: str | None
    yanked_versions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PolicySnapshot:
    revision: int
    action_types: Mapping[str, ActionTypePolicy]
    profiles: Mapping[str, ProfilePolicy]
    catalog: Mapping[str, CatalogEntry]
    runtime_profiles: Mapping[int, frozenset[str]]  # runtime id -> profile slugs
    default_approver_group: str
    default_approval_ttl_minutes: int


@dataclass(frozen=True)
class Proposal:
    runtime_id: int
    on_behalf_of: str  # canonical e-mail key (identity.email_key)
    on_behalf_of_groups: frozenset[str]  # the groups of that person, if an active user
    profile: str
    action: str
    now: datetime
    connector: str | None = None
    data_sources: tuple[str, ...] = ()
    plugin: str | None = None  # "slug@version"
    on_behalf_of_user_id: int | None = None  # the user the address belongs to, if any
    params: Mapping[str, object] = field(default_factory=dict)  # read by conditions only
    model: str = ""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason
    message: str
    facts: Mapping[str, object] = field(default_factory=dict)
    impact: str | None = None
    reversible: bool | None = None
    approver_group: str | None = None
    approvals_needed: int = 0
    approval_ttl_minutes: int = 0


class _Denied(Exception):
    """Internal control flow: the first failed least-privilege rule."""

    def __init__(self, reason: Reason, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def split_data_source(data_source: str) -> tuple[str, str]:
    """Split "connector:resource/path" into its connector slug and resource path."""
    connector, sep, resource = data_source.partition(":")
    if not sep or not connector or not resource:
        raise ValueError(f"{data_source!r} is not of the form connector:resource/path")
    return connector, resource


def split_plugin(plugin: str) -> tuple[str, str]:
    """Split "slug@version"; the version is empty when missing."""
    slug, _, version = plugin.partition("@")
    return slug, version


def matches_any(key: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def decide(snapshot: PolicySnapshot, proposal: Proposal) -> Verdict:
    """Decide one proposed action. Pure: same inputs, same verdict."""
    facts: dict[str, object] = {"policy_revision": snapshot.revision}
    try:
        profile = _check_least_privilege(snapshot, proposal, facts)
    except _Denied as denied:
        return Verdict(Outcome.DENY, denied.reason, denied.message, MappingProxyType(facts))
    return _check_oversight(snapshot, proposal, profile, facts)


def _check_least_privilege(
    snapshot: PolicySnapshot, proposal: Proposal, facts: dict[str, object]
) -> ProfilePolicy:
    profile = _check_profile(snapshot, proposal, facts)
    _check_launcher(profile, proposal, facts)
    _check_catalog(snapshot, profile, proposal, facts)
    if not matches_any(proposal.action, profile.action_types):
        raise _Denied(
            Reason.ACTION_NOT_IN_PROFILE,
            f"Profile '{profile.slug}' does not allow the action '{proposal.action}'.",
        )
    _check_data_sources(profile, proposal, facts)
    return profile


def _check_profile(
    snapshot: PolicySnapshot, proposal: Proposal, facts: dict[str, object]
) -> ProfilePolicy:
    allowed = snapshot.runtime_profiles.get(proposal.runtime_id, frozenset())
    if proposal.profile not in allowed:
        raise _Denied(
            Reason.RUNTIME_NOT_ALLOWED_PROFILE,
            f"This agent runtime may not use the profile '{proposal.profile}'.",
        )
    profile = snapshot.profiles.get(proposal.profile)
    if profile is None:
        raise _Denied(Reason.UNKNOWN_PROFILE, f"There is no profile '{proposal.profile}'.")
    facts["profile_revision"] = profile.revision
    if profile.status != USABLE_PROFILE_STATUS:
        raise _Denied(
            Reason.PROFILE_INACTIVE,
            f"Profile '{profile.slug}' is {profile.status}, not active.",
        )
    if profile.expires_at is not None and profile.expires_at <= proposal.now:
        raise _Denied(
            Reason.PROFILE_EXPIRED,
            f"Profile '{profile.slug}' expired at {profile.expires_at.isoformat()}.",
        )
    return profile


def _check_launcher(profile: ProfilePolicy, proposal: Proposal, facts: dict[str, object]) -> None:
    # People are compared by identity (user id), never by two spellings of an address.
    person = proposal.on_behalf_of_user_id
    if person is not None and person in profile.launcher_users:
        facts["launcher"] = "user"
        return
    groups = sorted(profile.launcher_groups & proposal.on_behalf_of_groups)
    if groups:
        facts["launcher"] = f"group:{groups[0]}"
        return
    raise _Denied(
        Reason.LAUNCHER_NOT_ALLOWED,
        f"{proposal.on_behalf_of} may not launch the profile '{profile.slug}'.",
    )


def _named_connectors(proposal: Proposal) -> list[str]:
    """The connectors a proposal names, in order and without repeats."""
    named = [proposal.connector] if proposal.connector else []
    named += [split_data_source(source)[0] for source in proposal.data_sources]
    return list(dict.fromkeys(named))


def _catalog_entry(snapshot: PolicySnapshot, slug: str, kind: str) -> CatalogEntry:
    entry = snapshot.catalog.get(slug)
    if entry is None or entry.kind != kind:
        raise _Denied(
            Reason.UNKNOWN_CATALOG_ITEM, f"There is no {kind} '{slug}' in the approved catalog."
        )
    if entry.status != APPROVED_ITEM_STATUS:
        raise _Denied(
            Reason.CATALOG_ITEM_NOT_APPROVED,
            f"The {kind} '{slug}' is {entry.status}, not approved for use.",
        )
    return entry


def _check_catalog(
    snapshot: PolicySnapshot, profile: ProfilePolicy, proposal: Proposal, facts: dict[str, object]
) -> None:
    versions: dict[str, str | None] = {}
    for slug in _named_connectors(proposal):
        versions[slug] = _catalog_entry(snapshot, slug, "connector").pinned_version
    facts["connector_versions"] = versions
    if proposal.plugin is None:
        return
    slug, version = split_plugin(proposal.plugin)
    entry = _catalog_entry(snapshot, slug, "plugin")
    if slug not in profile.plugins:
        raise _Denied(
            Reason.PLUGIN_NOT_IN_PROFILE,
            f"Profile '{profile.slug}' does not allow the plugin '{slug}'.",
        )
    if not version:
        raise _Denied(
            Reason.PLUGIN_VERSION_MISSING,
            f"The plugin '{slug}' must be named with its version (slug@version).",
        )
    if version in entry.yanked_versions:
        raise _Denied(
            Reason.VERSION_YANKED, f"Version {version} of '{slug}' was yanked from the catalog."
        )
    if version != entry.pinned_version:
        pinned = entry.pinned_version or "none"
        raise _Denied(
            Reason.VERSION_NOT_PINNED,
            f"Version {version} of '{slug}' is not the pinned version (pinned: {pinned}).",
        )
    facts["plugin"] = f"{slug}@{version}"


def _check_data_sources(
    profile: ProfilePolicy, proposal: Proposal, facts: dict[str, object]
) -> None:
    covered: dict[str, str] = {}
    for source in proposal.data_sources:
        connector, resource = split_data_source(source)
        grants = [g for g in profile.grants if g.connector == connector]
        if not any(g.covers(resource, need_write=False) for g in grants):
            raise _Denied(
                Reason.DATA_SOURCE_OUT_OF_SCOPE,
                f"Profile '{profile.slug}' grants no read access to '{source}'.",
            )
        need_write = connector == proposal.connector
        if need_write and not any(g.covers(resource, need_write=True) for g in grants):
            raise _Denied(
                Reason.WRITE_NOT_GRANTED,
                f"Profile '{profile.slug}' grants no write access to '{source}'.",
            )
        covered[source] = "write" if need_write else "read"
    # An action that changes a connector without naming a resource on it needs at least
    # some write grant on that connector.
    named = {split_data_source(s)[0] for s in proposal.data_sources}
    changed = proposal.connector
    if changed and changed not in named and not _has_write_grant(profile, changed):
        raise _Denied(
            Reason.WRITE_NOT_GRANTED,
            f"Profile '{profile.slug}' grants no write access to '{changed}'.",
        )
    facts["data_sources"] = covered


def _has_write_grant(profile: ProfilePolicy, connector: str) -> bool:
    return any(g.connector == connector and g.access == "write" for g in profile.grants)


def _check_oversight(
    snapshot: PolicySnapshot,
    proposal: Proposal,
    profile: ProfilePolicy,
    facts: dict[str, object],
) -> Verdict:
    action = snapshot.action_types.get(proposal.action)
    conditions = _Conditions(proposal, profile, action, facts)
    try:
        return _oversight(snapshot, proposal, profile, action, conditions, facts)
    finally:
        conditions.record_shadow()


def _oversight(
    snapshot: PolicySnapshot,
    proposal: Proposal,
    profile: ProfilePolicy,
    action: ActionTypePolicy | None,
    conditions: _Conditions,
    facts: dict[str, object],
) -> Verdict:
    frozen_facts = MappingProxyType(facts)
    denied = conditions.first(DENY)
    if denied is not None:
        reason, message = denied
        return Verdict(Outcome.DENY, reason, message, frozen_facts)
    asked = conditions.first(REQUIRE_APPROVAL)
    if asked is not None:
        return _pending(snapshot, action, asked, frozen_facts)
    if action is None:
        return Verdict(
            Outcome.PENDING,
            Reason.UNKNOWN_ACTION_TYPE,
            f"'{proposal.action}' is not a known action type, so a person must decide.",
            frozen_facts,
            approver_group=snapshot.default_approver_group,
            approvals_needed=1,
            approval_ttl_minutes=snapshot.default_approval_ttl_minutes,
        )
    facts.update(
        impact=action.impact, reversible=action.reversible, auto_execute=action.auto_execute
    )
    pending = _pending_reason(action, profile, proposal)
    if pending is None or pending[0] is Reason.REQUIRES_HUMAN_APPROVAL:
        allowed = conditions.first(AUTO_EXECUTE)
        if allowed is not None:
            return _allow(action, *allowed, frozen_facts)
    if pending is None:
        message = f"'{action.key}' is on the auto-execute allow-list."
        return _allow(action, Reason.AUTO_EXECUTE_ALLOWLISTED, message, frozen_facts)
    return _pending(snapshot, action, pending, frozen_facts)


def _allow(
    action: ActionTypePolicy, reason: Reason, message: str, facts: Mapping[str, object]
) -> Verdict:
    return Verdict(
        Outcome.ALLOW,
        reason,
        message,
        facts,
        impact=action.impact,
        reversible=action.reversible,
    )


def _pending(
    snapshot: PolicySnapshot,
    action: ActionTypePolicy | None,
    why: tuple[Reason, str],
    facts: Mapping[str, object],
) -> Verdict:
    reason, message = why
    if action is None:
        return Verdict(
            Outcome.PENDING,
            reason,
            message,
            facts,
            approver_group=snapshot.default_approver_group,
            approvals_needed=1,
            approval_ttl_minutes=snapshot.default_approval_ttl_minutes,
        )
    needed = max(action.approvals_needed, 2 if action.impact == "critical" else 1)
    return Verdict(
        Outcome.PENDING,
        reason,
        message,
        facts,
        impact=action.impact,
        reversible=action.reversible,
        approver_group=action.approver_group or snapshot.default_approver_group,
        approvals_needed=needed,
        approval_ttl_minutes=action.approval_ttl_minutes,
    )


def _pending_reason(
    action: ActionTypePolicy, profile: ProfilePolicy, proposal: Proposal
) -> tuple[Reason, str] | None:
    if matches_any(proposal.action, profile.always_ask):
        return (
            Reason.PROFILE_REQUIRES_APPROVAL,
            f"Profile '{profile.slug}' asks a person before every '{action.key}'.",
        )
    if action.impact in HIGH_IMPACTS or not action.reversible:
        kind = "irreversible" if not action.reversible else f"{action.impact} impact"
        return (
            Reason.HIGH_IMPACT_OR_IRREVERSIBLE,
            f"'{action.key}' is {kind}, so a person must approve it.",
        )
    if not action.auto_execute:
        return (
            Reason.REQUIRES_HUMAN_APPROVAL,
            f"'{action.key}' is not on the auto-execute allow-list, so a person must approve it.",
        )
    return None


# Condition effects and modes (the values of conditions.Effect and conditions.Mode).
DENY, REQUIRE_APPROVAL, AUTO_EXECUTE = "deny", "require_approval", "auto_execute"
SHADOW = "shadow"
# What an enforced condition that holds, or fails, does: (reason, reason on error).
_ON_MATCH = {
    DENY: (Reason.CONDITION_DENIED, Reason.CONDITION_ERROR),
    REQUIRE_APPROVAL: (Reason.CONDITION_REQUIRES_APPROVAL, Reason.CONDITION_ERROR),
    AUTO_EXECUTE: (Reason.CONDITION_AUTO_EXECUTE, None),  # an error never allows
}


class _Conditions:
    """The conditions that apply to one proposal (the profile's, then the action type's),
    evaluated lazily with one set of variables; each evaluation is recorded in the facts
    (`conditions`: name, owner, effect, mode, result)."""

    def __init__(
        self,
        proposal: Proposal,
        profile: ProfilePolicy,
        action: ActionTypePolicy | None,
        facts: dict[str, object],
    ):
        owned = [("profile", c) for c in profile.conditions]
        owned += [("action_type", c) for c in (action.conditions if action else ())]
        self.owned = owned
        self.proposal = proposal
        self.facts = facts
        self._variables: Mapping[str, object] | None = None
        self._results: dict[int, str] = {}

    def first(self, effect: str) -> tuple[Reason, str] | None:
        """The first enforced condition of `effect` that holds (or fails to evaluate, for
        deny and require_approval): its reason and message; None if none does."""
        matched, failed = _ON_MATCH[effect]
        for index, (owner, compiled) in enumerate(self.owned):
            condition = compiled.condition
            if condition.effect != effect or condition.mode == SHADOW:
                continue
            result = self._evaluate(index, owner, compiled)
            if result == "match":
                return matched, _message(condition, effect)
            if result == "error" and failed is not None:
                return failed, (
                    f"Condition '{condition.name}' could not be evaluated, so "
                    + ("the action is denied." if effect == DENY else "a person must decide.")
                )
        return None

    def record_shadow(self) -> None:
        """Evaluate every shadow condition (what it would have done is in the facts)."""
        for index, (owner, compiled) in enumerate(self.owned):
            if compiled.condition.mode == SHADOW:
                self._evaluate(index, owner, compiled)

    def _evaluate(self, index: int, owner: str, compiled) -> str:
        if index in self._results:
            return self._results[index]
        entry = {
            "name": compiled.condition.name,
            "owner": owner,
            "effect": str(compiled.condition.effect),
            "mode": str(compiled.condition.mode),
        }
        try:
            result = "match" if compiled.evaluate(self.variables()) else "no_match"
        except Exception as error:  # noqa: BLE001 - any failure is an error, never an allow
            result = "error"
            entry["error"] = str(error)[:300]
        entry["result"] = result
        self._results[index] = result
        recorded = self.facts.setdefault("conditions", [])
        recorded.append(entry)
        return result

    def variables(self) -> Mapping[str, object]:
        if self._variables is None:
            proposal = self.proposal
            self._variables = {
                "params": dict(proposal.params),
                "data_sources": list(proposal.data_sources),
                "on_behalf_of": proposal.on_behalf_of,
                "profile": proposal.profile,
                "action": proposal.action,
                "connector": proposal.connector or "",
                "plugin": proposal.plugin or "",
                "model": proposal.model or "",
                "now": proposal.now,
            }
            # Immutable: the conditions module converts it once for all the conditions.
            self._variables = MappingProxyType(self._variables)
        return self._variables


def _message(condition, effect: str) -> str:
    if condition.message:
        return f"{condition.message} (condition '{condition.name}')"
    what = {
        DENY: "denies this action",
        REQUIRE_APPROVAL: "sends this action to a person",
        AUTO_EXECUTE: "lets this action run without a person",
    }[effect]
    return f"Condition '{condition.name}' holds and {what}."
