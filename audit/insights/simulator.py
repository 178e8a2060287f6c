"""What-if simulation: replay the window's recorded decision requests through the real
engine, once with the policy in force and once with a proposed change, and count how many
outcomes change, from what to what, with examples.

The replay uses each request as it was recorded (runtime, person, profile, action,
connector, data sources, plugin, and its own time for expiry checks) and each person's
current groups. Comparing against a replay of the current policy, not against what was
decided back then, isolates the effect of the change from older configuration changes."""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from governance import engine
from governance.choices import reason_text
from governance.exceptions import ValidationFailed
from governance.models import ActionType, Decision, PermissionProfile, ProfileGrant
from governance.selectors import Person, _compiled, people_by_key, policy_snapshot_build

CHANGE_KINDS = {
    "allowlist_add": "Move an action type onto the auto-execute allow-list",
    "allowlist_remove": "Take an action type off the allow-list",
    "grant_add": "Add a grant to a profile",
    "grant_remove": "Remove a grant from a profile",
    "profile_action_remove": "Stop a profile from allowing an action type",
    "condition_set": "Add or change a condition",
    "condition_remove": "Remove a condition",
}
CONDITION_KINDS = ("condition_set", "condition_remove")
EXAMPLES = 5


@dataclass(frozen=True)
class Change:
    kind: str
    action: str = ""
    profile: str = ""
    connector: str = ""
    resources: tuple[str, ...] = ()
    access: str = "read"
    # Condition changes: on the action type `action` if named, else on the profile; the
    # condition as stored (name, when, effect, mode, message), or only its name to remove.
    condition: dict = field(default_factory=dict)

    @property
    def owner_kind(self) -> str:
        return "action_type" if self.action else "profile"

    def describe(self) -> str:
        if self.kind in CONDITION_KINDS:
            owner = f"action type {self.action}" if self.action else f"profile {self.profile}"
            name = self.condition.get("name", "")
            if self.kind == "condition_remove":
                return f"{CHANGE_KINDS[self.kind]}: '{name}' from {owner}"
            when, effect = self.condition.get("when", ""), self.condition.get("effect", "")
            return f"{CHANGE_KINDS[self.kind]}: '{name}' ({when} -> {effect}) on {owner}"
        if self.kind.startswith("allowlist"):
            return f"{CHANGE_KINDS[self.kind]}: {self.action}"
        if self.kind == "profile_action_remove":
            return f"{CHANGE_KINDS[self.kind]}: {self.action} from {self.profile}"
        grant = f"{self.connector}:{','.join(self.resources)} ({self.access})"
        return f"{CHANGE_KINDS[self.kind]}: {grant} on {self.profile}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """A stored change as it was recorded (not checked against today's configuration)."""
        return cls(
            kind=data.get("kind", ""),
            action=data.get("action", ""),
            profile=data.get("profile", ""),
            connector=data.get("connector", ""),
            resources=tuple(data.get("resources") or ()),
            access=data.get("access") or "read",
            condition=dict(data.get("condition") or {}),
        )

    def as_dict(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "action": self.action,
            "profile": self.profile,
            "connector": self.connector,
            "resources": list(self.resources),
            "access": self.access,
        }
        if self.condition:  # condition changes only: the others' records stay as they were
            data["condition"] = dict(self.condition)
        return data


def change_parse(data: dict[str, Any]) -> Change:
    """A change from a form, the API or a recommendation; refused plainly if it does not
    name things that exist or does not make sense."""
    kind = data.get("kind", "")
    if kind not in CHANGE_KINDS:
        raise ValidationFailed(f"Choose what to change: {', '.join(CHANGE_KINDS)}.")
    resources = data.get("resources") or ()
    if isinstance(resources, str):
        resources = [r.strip() for r in resources.replace("\n", ",").split(",") if r.strip()]
    change = Change(
        kind=kind,
        action=(data.get("action") or "").strip(),
        profile=(data.get("profile") or "").strip(),
        connector=(data.get("connector") or "").strip(),
        resources=tuple(resources),
        access=data.get("access") or "read",
        condition=_condition_data(data) if kind in CONDITION_KINDS else {},
    )
    _check(change)
    return change


CONDITION_FORM_KEYS = ("name", "when", "effect", "mode", "message")


def _condition_data(data: dict[str, Any]) -> dict[str, str]:
    """The condition of a change: a mapping under `condition` (the API, a recommendation)
    or the form's fields `condition_name`, `when`, `effect`, `mode`, `message`."""
    given = data.get("condition")
    if isinstance(given, dict):
        return dict(given)
    form = {"name": data.get("condition_name", "")}
    form.update({key: data.get(key, "") for key in CONDITION_FORM_KEYS[1:]})
    return {key: (value or "").strip() for key, value in form.items() if value}


def _check(change: Change) -> None:
    if change.kind in CONDITION_KINDS:
        _check_condition(change)
        return
    if change.kind.startswith("allowlist"):
        action = ActionType.objects.filter(key=change.action).first()
        if action is None:
            raise ValidationFailed(
                f"There is no action type '{change.action}'.",
                extra={"fields": {"action": ["Unknown."]}},
            )
        if change.kind == "allowlist_add" and (
            not action.reversible or action.impact in ("high", "critical")
        ):
            raise ValidationFailed(
                f"'{action.key}' is {_risk(action)}: "
                "it can never run without a person, so it cannot be allow-listed."
            )
        return
    if not PermissionProfile.objects.filter(slug=change.profile).exists():
        raise ValidationFailed(
            f"There is no profile '{change.profile}'.", extra={"fields": {"profile": ["Unknown."]}}
        )
    if change.kind == "profile_action_remove":
        if not change.action:
            raise ValidationFailed("Name the action type to remove from the profile.")
        return
    if not change.connector or not change.resources or change.access not in ("read", "write"):
        raise ValidationFailed(
            "A grant needs a connector, resource patterns and read or write access."
        )
    if change.kind == "grant_remove" and not _grant(change):
        raise ValidationFailed(f"Profile '{change.profile}' has no such grant to remove.")


def _condition_owner(change: Change) -> ActionType | PermissionProfile:
    if change.action:
        owner = ActionType.objects.filter(key=change.action).first()
        missing, field_name = f"There is no action type '{change.action}'.", "action"
    else:
        owner = PermissionProfile.objects.filter(slug=change.profile).first()
        missing, field_name = f"There is no profile '{change.profile}'.", "profile"
    if owner is None:
        raise ValidationFailed(missing, extra={"fields": {field_name: ["Unknown."]}})
    return owner


def conditions_after(stored: list, change: Change) -> list[dict]:
    """The owner's conditions with the change made: a condition of the same name replaced
    in place (or added at the end), or removed."""
    name = change.condition.get("name")
    kept = [c for c in stored or () if c.get("name") != name]
    if change.kind == "condition_remove":
        return kept
    if any(c.get("name") == name for c in stored or ()):
        return [change.condition if c.get("name") == name else c for c in stored]
    return [*kept, change.condition]


def _check_condition(change: Change) -> None:
    """The owner exists and its conditions, once changed, would be saved by it (they
    compile; no auto_execute on an irreversible or high-impact action type)."""
    owner = _condition_owner(change)
    name = change.condition.get("name")
    if not name:
        raise ValidationFailed("Name the condition.", extra={"fields": {"name": ["Required."]}})
    if change.kind == "condition_remove" and not any(
        c.get("name") == name for c in owner.conditions or ()
    ):
        raise ValidationFailed(f"{owner} has no condition '{name}' to remove.")
    owner.conditions = conditions_after(owner.conditions, change)
    try:
        owner.clean()
    except DjangoValidationError as error:
        messages = error.message_dict.get("conditions") or error.messages
        raise ValidationFailed(messages[0], extra={"fields": {"when": messages}}) from error


def _risk(action: ActionType) -> str:
    return "irreversible" if not action.reversible else f"{action.impact} impact"


def _grant(change: Change) -> ProfileGrant | None:
    for grant in ProfileGrant.objects.filter(
        profile__slug=change.profile, connector__slug=change.connector, access=change.access
    ):
        if sorted(grant.resources) == sorted(change.resources):
            return grant
    return None


def snapshot_with(snapshot: engine.PolicySnapshot, change: Change) -> engine.PolicySnapshot:
    """The frozen snapshot with the change applied (nothing is written anywhere)."""
    if change.kind in CONDITION_KINDS:
        return _snapshot_with_condition(snapshot, change)
    if change.kind.startswith("allowlist"):
        actions = dict(snapshot.action_types)
        actions[change.action] = replace(
            actions[change.action], auto_execute=change.kind == "allowlist_add"
        )
        return replace(snapshot, action_types=MappingProxyType(actions))
    profiles = dict(snapshot.profiles)
    profile = profiles[change.profile]
    if change.kind == "profile_action_remove":
        profile = replace(
            profile, action_types=tuple(p for p in profile.action_types if p != change.action)
        )
    else:
        grant = engine.GrantPolicy(change.connector, tuple(change.resources), change.access)
        if change.kind == "grant_add":
            profile = replace(profile, grants=(*profile.grants, grant))
        else:
            profile = replace(profile, grants=tuple(g for g in profile.grants if g != grant))
    profiles[change.profile] = profile
    return replace(snapshot, profiles=MappingProxyType(profiles))


def _snapshot_with_condition(
    snapshot: engine.PolicySnapshot, change: Change
) -> engine.PolicySnapshot:
    """The snapshot with one owner's conditions changed, compiled as the snapshot's are."""
    if change.action:
        actions = dict(snapshot.action_types)
        action = actions.get(change.action)
        if action is None:  # an action type the snapshot does not know: nothing to change
            return snapshot
        stored = [c.condition.as_dict() for c in action.conditions]
        compiled = _compiled(conditions_after(stored, change))
        actions[change.action] = replace(action, conditions=compiled)
        return replace(snapshot, action_types=MappingProxyType(actions))
    profiles = dict(snapshot.profiles)
    profile = profiles[change.profile]
    stored = [c.condition.as_dict() for c in profile.conditions]
    profiles[change.profile] = replace(
        profile, conditions=_compiled(conditions_after(stored, change))
    )
    return replace(snapshot, profiles=MappingProxyType(profiles))


@dataclass
class Simulation:
    change: Change
    replayed: int = 0
    changed: int = 0
    transitions: Counter = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0
    in_scope: int = 0  # requests the change can affect in the window
    fraction: float = 1.0  # the share of them replayed (1.0 unless sampled)
    # Every replayed request, changed or not: (before, after) -> count, and the reasons
    # the changed policy gives, which say why an outcome stays what it was.
    outcomes: Counter = field(default_factory=Counter)
    reasons: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def per_second(self) -> float:
        return self.replayed / self.seconds if self.seconds else 0.0

    @property
    def sampled(self) -> bool:
        return self.fraction < 1.0

    def estimate(self, count: int) -> int:
        """A count over the replayed requests, scaled to all the requests in scope."""
        return round(count / self.fraction) if self.sampled else count

    @property
    def changed_estimate(self) -> int:
        return self.estimate(self.changed)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "before": before,
                "after": after,
                "count": count,
                "estimate": self.estimate(count),
                "examples": self.examples[(before, after)],
            }
            for (before, after), count in self.transitions.most_common()
        ]

    def breakdown(self) -> list[dict[str, Any]]:
        """Every outcome before -> after, the unchanged ones too (changed first, then by
        count), each with the reasons the changed policy gives."""
        pairs = sorted(self.outcomes.items(), key=lambda kv: (kv[0][0] == kv[0][1], -kv[1]))
        return [
            {
                "before": before,
                "after": after,
                "changed": before != after,
                "count": count,
                "estimate": self.estimate(count),
                "reasons": [
                    (code, reason_text(code), n)
                    for code, n in self.reasons[(before, after)].most_common(3)
                ],
                "examples": self.examples[(before, after)],
            }
            for (before, after), count in pairs
        ]

    def why_unchanged(self) -> str:
        """Why no outcome would change, in a sentence (empty when some would)."""
        if self.changed:
            return ""
        if not self.replayed:
            return "No recorded request in the window could be affected by this change."
        parts = []
        for (outcome, _), count in self.outcomes.most_common():
            reasons = ", ".join(
                f"{reason_text(code).lower()} ({n})"
                for code, n in self.reasons[(outcome, outcome)].most_common(3)
            )
            share = "all" if count == self.replayed else str(count)
            word = OUTCOME_WORDS.get(outcome, outcome)
            parts.append(f"{share} {word} under both policies, because: {reasons}")
        return (
            "; ".join(parts) + ". " + CHANGE_REACH.get(self.change.kind.split("_")[0], "")
        ).strip()


OUTCOME_WORDS = {
    "allow": "allowed automatically",
    "pending": "sent to a person",
    "deny": "denied",
}
# What a change can reach: why a request stopped by something else keeps its outcome.
CHANGE_REACH = {
    "allowlist": "The allow-list decides only for requests that pass the least-privilege "
    "checks (profile, catalog, action, data) and that no other rule sends to a person "
    "(high impact, irreversible, the profile's always-ask, a condition).",
    "grant": "A grant decides only whether the data sources are in scope: requests stopped "
    "by another check, or sent to a person for their action, keep their outcome.",
    "profile": "Removing an action from a profile changes only requests for that action "
    "that passed the checks before it.",
    "condition": "A condition is evaluated only for requests that pass the least-privilege "
    "checks, and a condition in shadow mode never changes an outcome.",
}


def _people(decisions) -> dict[str, Person]:
    """The people the decisions were made for, by canonical address, as they are now."""
    return people_by_key(decisions.values_list("on_behalf_of", flat=True).distinct().order_by())


def _has_conditions(snapshot: engine.PolicySnapshot) -> bool:
    return any(a.conditions for a in snapshot.action_types.values()) or any(
        p.conditions for p in snapshot.profiles.values()
    )


def scope_of(change: Change) -> dict[str, str]:
    """The decisions a change can affect: an allow-list change or an action type's condition
    only those of its action type (the engine looks action types up by exact key), a profile
    change only those naming the profile. Every other decision gets the same verdict under
    both policies."""
    if change.kind.startswith("allowlist") or (change.kind in CONDITION_KINDS and change.action):
        return {"action": change.action}
    return {"profile_slug": change.profile}


def _simulation_max() -> int:
    from audit.insights.tuning import tuning_settings

    return tuning_settings()["simulation_max"]


def simulate(
    change: Change,
    *,
    start: datetime,
    end: datetime,
    scoped: bool = True,
    limit: int | None = None,
) -> Simulation:
    """Replay the decisions proposed in [start, end) that the change can affect (all of them
    with `scoped=False`) under the current and the changed policy. Beyond `limit` requests
    (TUNING_SIMULATION_MAX), replay a random sample of that size and scale the counts."""
    started = time.perf_counter()
    current, _ = policy_snapshot_build()
    changed = snapshot_with(current, change)
    result = replay(
        current,
        changed,
        start=start,
        end=end,
        scope=scope_of(change) if scoped else {},
        limit=limit,
        change=change,
    )
    result.seconds = time.perf_counter() - started
    return result


def replay(
    current: engine.PolicySnapshot,
    changed: engine.PolicySnapshot,
    *,
    start: datetime,
    end: datetime,
    scope: dict[str, str],
    limit: int | None = None,
    change: Change | None = None,
    examples: int = EXAMPLES,
) -> Simulation:
    """Replay the decisions proposed in [start, end) and matching `scope` (field lookups on
    Decision) under both snapshots; keep up to `examples` decision ids per transition. The
    console's policy editor passes the snapshot with its proposed profile or action type."""
    started = time.perf_counter()
    decisions = Decision.objects.filter(created_at__gte=start, created_at__lt=end, **scope)
    result = Simulation(change, in_scope=decisions.count())
    limit = max(1, limit if limit is not None else _simulation_max())
    if result.in_scope > limit:
        # Decision ids are random (UUID 4), so the ids below a threshold are a uniform random
        # sample of the expected size, chosen by the database without reading the others.
        result.fraction = limit / result.in_scope
        decisions = decisions.filter(pk__lt=uuid.UUID(int=int(result.fraction * 2**128)))
    people = _people(decisions)
    # Conditions read the request's params and model: load them only when a condition
    # could read them (they are the bulk of a decision row).
    with_params = _has_conditions(current) or _has_conditions(changed)
    columns = ["pk", "runtime_id", "on_behalf_of", "profile_slug", "action", "connector"]
    columns += ["data_sources", "plugin", "created_at"]
    if with_params:
        columns += ["params", "model"]
    for row in decisions.values_list(*columns).order_by().iterator(chunk_size=5000):
        pk, runtime_id, person, profile, action, connector, sources, plugin, created = row[:9]
        known = people.get(person) or Person(person)
        proposal = engine.Proposal(
            runtime_id=runtime_id,
            on_behalf_of=person,
            on_behalf_of_groups=known.groups,
            on_behalf_of_user_id=known.user_id,
            profile=profile,
            action=action,
            now=created,
            connector=connector or None,
            data_sources=tuple(sources),
            plugin=plugin or None,
            params=row[9] if with_params else {},
            model=row[10] if with_params else "",
        )
        before = engine.decide(current, proposal).outcome.value
        verdict = engine.decide(changed, proposal)
        after = verdict.outcome.value
        result.replayed += 1
        result.outcomes[(before, after)] += 1
        result.reasons[(before, after)][verdict.reason.value] += 1
        if len(result.examples[(before, after)]) < examples:
            result.examples[(before, after)].append(str(pk))
        if before != after:
            result.changed += 1
            result.transitions[(before, after)] += 1
    result.seconds = time.perf_counter() - started
    return result
