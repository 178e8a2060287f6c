"""Reads of the policy domain, above all the policy snapshot the engine decides on."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet

from catalog.choices import VersionReviewState
from catalog.models import CatalogItem, CatalogVersion
from governance.conditions import (
    BrokenCondition,
    CompiledCondition,
    Condition,
    ConditionError,
    condition_compile,
)
from governance.engine import (
    ActionTypePolicy,
    CatalogEntry,
    GrantPolicy,
    PolicySnapshot,
    ProfilePolicy,
)
from governance.models import (
    ActionType,
    AgentRuntime,
    Decision,
    PermissionProfile,
    PolicyRevision,
    User,
)


def policy_revision_current() -> tuple[int, str]:
    """The current policy revision number and its token (one primary-key read)."""
    row = PolicyRevision.objects.filter(id=1).values_list("number", "token").first()
    return (row[0], str(row[1])) if row else (1, "")


def _compiled(stored: list) -> tuple[CompiledCondition, ...]:
    """Conditions as stored, compiled once for the snapshot (the decision path never parses
    an expression). They were checked when saved; one that no longer compiles (a change of
    CEL library) is kept as a condition that fails to evaluate: never an allow."""
    compiled = []
    for item in stored or ():
        condition = Condition.from_dict(item)
        try:
            compiled.append(condition_compile(condition))
        except ConditionError as error:
            compiled.append(BrokenCondition(condition, str(error)))
    return tuple(compiled)


def action_type_policy_build(at: ActionType) -> ActionTypePolicy:
    """The engine's view of one action type (saved, or proposed in the console's editor)."""
    return ActionTypePolicy(
        key=at.key,
        impact=at.impact,
        reversible=at.reversible,
        auto_execute=at.auto_execute,
        approver_group=at.approver_group.name if at.approver_group else None,
        approvals_needed=at.effective_approvals_needed,
        approval_ttl_minutes=at.approval_ttl_minutes,
        conditions=_compiled(at.conditions),
    )


def _action_types() -> dict[str, ActionTypePolicy]:
    return {
        at.key: action_type_policy_build(at)
        for at in ActionType.objects.select_related("approver_group")
    }


def profile_policy_build(
    profile: PermissionProfile,
    *,
    launcher_users: Iterable[User],
    launcher_groups: Iterable[Group],
    plugins: Iterable[CatalogItem],
    grants: Iterable[tuple[str, Iterable[str], str]],
) -> ProfilePolicy:
    """The engine's view of one profile; its related rows are given, so a profile proposed
    in the console's editor (not saved) is built the same way as a saved one. `grants` are
    (connector slug, resource patterns, access)."""
    return ProfilePolicy(
        slug=profile.slug,
        status=profile.status,
        revision=profile.revision,
        expires_at=profile.expires_at,
        launcher_users=frozenset(u.pk for u in launcher_users if u.is_active),
        launcher_groups=frozenset(g.name for g in launcher_groups),
        action_types=tuple(profile.action_types),
        always_ask=tuple(profile.always_ask),
        plugins=frozenset(item.slug for item in plugins),
        grants=tuple(GrantPolicy(c, tuple(r), a) for c, r, a in grants),
        conditions=_compiled(profile.conditions),
    )


def _profiles() -> dict[str, ProfilePolicy]:
    profiles = PermissionProfile.objects.prefetch_related(
        "launcher_groups", "launcher_users", "plugins", "grants__connector"
    )
    return {
        p.slug: profile_policy_build(
            p,
            launcher_users=p.launcher_users.all(),
            launcher_groups=p.launcher_groups.all(),
            plugins=p.plugins.all(),
            grants=[(g.connector.slug, g.resources, g.access) for g in p.grants.all()],
        )
        for p in profiles
    }


def _catalog() -> dict[str, CatalogEntry]:
    items = CatalogItem.objects.prefetch_related(
        Prefetch(
            "versions",
            queryset=CatalogVersion.objects.only(
                "item_id", "version", "is_pinned", "yanked_at", "review_state", "allowed_until"
            ),
        )
    )
    catalog = {}
    for item in items:
        versions = list(item.versions.all())
        catalog[item.slug] = CatalogEntry(
            slug=item.slug,
            kind=item.kind,
            status=item.status,
            pinned_version=next((v.version for v in versions if v.is_pinned), None),
            yanked_versions=frozenset(
                v.version
                for v in versions
                if v.yanked_at is not None or v.review_state == VersionReviewState.REJECTED
            ),
            grace_versions=MappingProxyType(
                {
                    v.version: v.allowed_until
                    for v in versions
                    if v.allowed_until is not None and not v.is_pinned
                }
            ),
        )
    return catalog


def _runtime_profiles() -> dict[int, frozenset[str]]:
    mapping: dict[int, set[str]] = {}
    through = AgentRuntime.profiles.through.objects.values_list(
        "agentruntime_id", "permissionprofile__slug"
    )
    for runtime_id, slug in through:
        mapping.setdefault(runtime_id, set()).add(slug)
    return {runtime_id: frozenset(slugs) for runtime_id, slugs in mapping.items()}


def policy_snapshot_build() -> tuple[PolicySnapshot, str]:
    """Read the whole governance configuration into an immutable snapshot.

    A configuration change that commits while we read would leave us with rows newer
    than the revision we label them with; every change bumps the revision in its own
    transaction, so reading the revision before and after and retrying on a difference
    gives a snapshot that matches its label."""
    governance = settings.GOVERNANCE
    while True:
        revision, token = policy_revision_current()
        snapshot = PolicySnapshot(
            revision=revision,
            action_types=MappingProxyType(_action_types()),
            profiles=MappingProxyType(_profiles()),
            catalog=MappingProxyType(_catalog()),
            runtime_profiles=MappingProxyType(_runtime_profiles()),
            default_approver_group=governance["DEFAULT_APPROVER_GROUP"],
            default_approval_ttl_minutes=governance["DEFAULT_APPROVAL_TTL_MINUTES"],
        )
        if policy_revision_current() == (revision, token):
            return snapshot, token


@dataclass(frozen=True)
class RuntimeEntry:
    """What the decision path needs of an agent runtime, read once per policy revision."""

    id: int
    name: str
    active: bool
    token_hash: str

    def as_model(self) -> AgentRuntime:
        """A stand-in carrying the id, name and token hash (for foreign keys and labels)."""
        runtime = AgentRuntime(id=self.id, name=self.name, token_hash=self.token_hash)
        runtime._state.adding = False
        return runtime


@dataclass(frozen=True)
class Routing:
    """Where a pending decision of one action type goes, besides the engine's verdict."""

    escalation_group_id: int | None
    sla_minutes: int | None


@dataclass(frozen=True)
class PolicyCache:
    """Everything the decision path reads, built once per policy revision and held per
    process: the engine's snapshot, the runtimes by token hash, the people by canonical
    address, the groups by name and each action type's routing.

    Every change that matters bumps the revision (configuration services; token rotation,
    revocation and callbacks; people, groups and memberships through governance.signals),
    and the decision's write verifies the revision token (see decision_store), so a stale
    cache costs a retry, never a decision on an older policy."""

    snapshot: PolicySnapshot
    token: str
    runtimes: Mapping[str, RuntimeEntry]
    people: Mapping[str, Person]
    group_ids: Mapping[str, int]
    routing: Mapping[str, Routing]

    def person(self, key: str) -> Person:
        return self.people.get(key) or Person(key)


def _runtimes() -> dict[str, RuntimeEntry]:
    rows = AgentRuntime.objects.values_list("token_hash", "id", "name", "revoked_at")
    return {h: RuntimeEntry(i, name, revoked is None, h) for h, i, name, revoked in rows}


def _routing() -> dict[str, Routing]:
    rows = ActionType.objects.values_list("key", "escalation_group_id", "approval_sla_minutes")
    return {key: Routing(group, sla) for key, group, sla in rows}


def policy_cache_build() -> PolicyCache:
    """Read the configuration, the runtimes and the people (see policy_snapshot_build for
    how the revision label is kept honest)."""
    while True:
        snapshot, token = policy_snapshot_build()
        cache = PolicyCache(
            snapshot=snapshot,
            token=token,
            runtimes=MappingProxyType(_runtimes()),
            people=MappingProxyType(_people(User.objects.exclude(email_key=""))),
            group_ids=MappingProxyType(dict(Group.objects.values_list("name", "id"))),
            routing=MappingProxyType(_routing()),
        )
        if policy_revision_current()[1] == token:
            return cache


_cache_lock = threading.Lock()
_cached: PolicyCache | None = None


def policy_cache_get(*, verify: bool = True) -> PolicyCache:
    """The per-process cache for the current revision.

    `verify=True` costs one primary-key read (the revision token) and rebuilds after a
    change in any process; `verify=False` trusts the cache as it is and is for callers that
    verify the token themselves when they write (the decision path)."""
    cached = _cached
    if cached is not None and not verify:
        return cached
    token = policy_revision_current()[1] if cached is not None else None
    if cached is not None and cached.token == token:
        return cached
    return _rebuild(token)


def policy_cache_refresh(stale: PolicyCache) -> PolicyCache:
    """A cache newer than `stale` (whose token a write found outdated)."""
    return _rebuild(policy_revision_current()[1], stale=stale)


def _rebuild(token: str | None, stale: PolicyCache | None = None) -> PolicyCache:
    global _cached
    with _cache_lock:
        current = _cached
        if current is not None and current is not stale and current.token == token:
            return current  # another thread rebuilt it while we waited
        _cached = policy_cache_build()
        return _cached


def policy_snapshot_get() -> PolicySnapshot:
    """The engine's snapshot for the current revision (one primary-key read)."""
    return policy_cache_get().snapshot


def policy_snapshot_clear() -> None:
    """Forget the cached policy (tests)."""
    global _cached
    _cached = None


@dataclass(frozen=True)
class Person:
    """Whom an agent acts for: the canonical address (identity.email_key), the user it
    belongs to where there is one, and that user's groups while the user is active."""

    key: str
    user_id: int | None = None
    groups: frozenset[str] = frozenset()


def people_by_key(keys: Iterable[str]) -> dict[str, Person]:
    """The known people among these canonical addresses, in one query."""
    return _people(User.objects.filter(email_key__in=set(keys)))


def _people(users: QuerySet[User]) -> dict[str, Person]:
    rows = users.values_list("email_key", "id", "is_active", "groups__name")
    found: dict[str, tuple[int, set[str]]] = {}
    for key, user_id, active, group in rows:
        _, groups = found.setdefault(key, (user_id, set()))
        if active and group:
            groups.add(group)
    return {
        key: Person(key, user_id, frozenset(groups)) for key, (user_id, groups) in found.items()
    }


def person_get(key: str) -> Person:
    """The person behind a canonical address; unknown addresses are a Person without a user."""
    return people_by_key([key]).get(key) or Person(key)


def on_behalf_of_q(user, prefix: str = "") -> Q:
    """Rows (decisions, or `prefix` + decision) made on behalf of `user`: the queryset form
    of identity.same_person, so that lists and checks agree on who "you" are."""
    by_id = Q(**{f"{prefix}on_behalf_of_user": user.pk})
    if not user.email_key:
        return by_id
    by_key = Q(
        **{f"{prefix}on_behalf_of_user__isnull": True, f"{prefix}on_behalf_of": user.email_key}
    )
    return by_id | by_key


def decision_list_for_runtime(runtime: AgentRuntime) -> QuerySet[Decision]:
    """Decisions a runtime may read: its own, nothing else (others are a 404)."""
    return Decision.objects.filter(runtime=runtime)


def decision_list_for_user(user: User) -> QuerySet[Decision]:
    """Decisions a person may read in the console."""
    from governance.permissions import can_view_policy

    if can_view_policy(user):
        return Decision.objects.select_related("runtime")
    return Decision.objects.filter(on_behalf_of_q(user)).select_related("runtime")
