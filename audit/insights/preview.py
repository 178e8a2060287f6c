"""The policy editor's preview: what a proposed action type or profile would have decided
over the last days, replayed through the what-if simulator before the admin saves it.

The proposal is never written: it is built as the engine sees it (selectors'
`*_policy_build`) and swapped into the current snapshot; only the decisions it can affect
are replayed (those of its action type, or made under its profile)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from django.utils import timezone

from audit.insights.simulator import Simulation, replay
from governance.engine import PolicySnapshot
from governance.models import ActionType, PermissionProfile
from governance.selectors import (
    action_type_policy_build,
    policy_snapshot_build,
    profile_policy_build,
)

PREVIEW_DAYS = 30
# Decisions linked per kind of change (from → to): enough to read, short enough for a URL.
LINKED = 100


def action_type_preview(proposed: ActionType, *, days: int = PREVIEW_DAYS) -> Simulation:
    """Replay the action type's recorded requests under the proposed action type."""
    current, _ = policy_snapshot_build()
    actions = dict(current.action_types)
    actions[proposed.key] = action_type_policy_build(proposed)
    changed = replace(current, action_types=MappingProxyType(actions))
    return _replay(current, changed, {"action": proposed.key}, days)


def profile_preview(
    proposed: PermissionProfile, *, related: dict[str, Any], days: int = PREVIEW_DAYS
) -> Simulation:
    """Replay the requests made under the profile with the proposed profile. `related`
    holds its launcher_users, launcher_groups, plugins and grants (connector slug,
    resources, access), as the editor has them."""
    current, _ = policy_snapshot_build()
    profiles = dict(current.profiles)
    profiles[proposed.slug] = profile_policy_build(proposed, **related)
    changed = replace(current, profiles=MappingProxyType(profiles))
    return _replay(current, changed, {"profile_slug": proposed.slug}, days)


def _replay(
    current: PolicySnapshot, changed: PolicySnapshot, scope: dict[str, str], days: int
) -> Simulation:
    end = timezone.now()
    return replay(
        current, changed, start=end - timedelta(days=days), end=end, scope=scope, examples=LINKED
    )
