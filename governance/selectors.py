"""Reads of the policy domain, above all the policy snapshot the engine decides on."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from catalog.choices import VersionReviewState
from catalog.models import CatalogItem, CatalogVersion
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


def _action_types() -> dict[str, ActionTypePolicy]:
    return {
        at.key: ActionTypePolicy(
            key=at.key,
            impact=at.impact,
            reversible=at.reversible,
            auto_execute=at.auto_execute,
            approver_group=at.approver_group.name if at.approver_group else None,
            approvals_needed=at.effective_approvals_needed,
            approval_ttl_minutes=at.approval_ttl_minutes,
        )
        for at in ActionType.objects.select_related("approver_group")
    }


def _profiles() -> dict[str, ProfilePolicy]:
    profiles = PermissionProfile.objects.prefetch_related(
        "launcher_groups", "launcher_users", "plugins", "grants__connector"
    )
    return {
        p.slug: ProfilePolicy(
            slug=p.slug,
            status=p.status,
            revision=p.revision,
            expires_at=p.expires_at,
            launcher_users=frozenset(u.pk for u in p.launcher_users.all() if u.is_active),
            launcher_groups=frozenset(g.name for g in p.launcher_groups.all()),
            action_types=tuple(p.action_types),
            always_ask=tuple(p.always_ask),
            plugins=frozenset(item.slug for item in p.plugins.all()),
            grants=tuple(
                GrantPolicy(g.connector.slug, tuple(g.resources), g.access) for g in p.grants.all()
            ),
        )
        for p in profiles
    }


def _catalog() -> dict[str, CatalogEntry]:
    items = CatalogItem.objects.prefetch_related(
        Prefetch(
            "versions",
            queryset=CatalogVersion.objects.only(
                "item_id", "version", "is_pinned", "yanked_at", "review_state"
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


_snapshot_lock = threading.Lock()
_cached: tuple[PolicySnapshot, str] | None = None


def policy_snapshot_get() -> PolicySnapshot:
    """The snapshot for the current revision, cached per process.

    Costs one primary-key read per call; the snapshot is rebuilt only after a
    configuration change bumped the revision (in any process)."""
    global _cached
    _, token = policy_revision_current()
    cached = _cached
    if cached is not None and cached[1] == token:
        return cached[0]
    with _snapshot_lock:
        if _cached is None or _cached[1] != token:
            _cached = policy_snapshot_build()
        return _cached[0]


def policy_snapshot_clear() -> None:
    """Forget the cached snapshot (tests)."""
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
    rows = User.objects.filter(email_key__in=set(keys)).values_list(
        "email_key", "id", "is_active", "groups__name"
    )
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
