"""Conditions in shadow mode: what each would have done had it been enforced.

A shadow condition is evaluated on every decision that reaches it and its result is
recorded in the decision's facts (`conditions`: name, owner, effect, mode, result), but it
changes nothing. Here, for a window of decisions, each recorded result is turned into the
outcome the decision would have had with the condition enforced, from what the engine's
order says and what was actually decided:

- `deny`: a match (or an evaluation error) denies;
- `require_approval`: a match (or an error) sends the decision to a person, unless it was
  denied anyway (deny conditions come first);
- `auto_execute`: a match allows the decisions that were allowed anyway or that went to a
  person only because the action is not on the allow-list (`requires_human_approval`); the
  others (high impact, irreversible, "always ask", a deny or require_approval condition)
  keep their outcome. An error never allows, so it changes nothing.

The counts on the shadow page (audit/insights) and the audit-log filter behind its links
(audit/filters.py, `condition` and `condition_would`) both come from `shadow_decisions`, so
a number and its link always agree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q

from governance.conditions import Condition
from governance.models import ActionType, Decision, PermissionProfile
from governance.periods import day_start, last_days

OWNER_KINDS = {"action_type": ActionType, "profile": PermissionProfile}
# In URLs (kebab-case paths) and in the audit-log filter value.
URL_KINDS = {"action-type": "action_type", "profile": "profile"}
WOULD = ("deny", "pending", "allow")
WOULD_LABELS = {
    "deny": "would have denied",
    "pending": "would have sent to a person",
    "allow": "would have allowed",
}
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class ConditionRef:
    """A condition by where it lives: its owner's kind and key (or slug), and its name."""

    owner_kind: str  # action_type | profile
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner_kind}:{self.owner}:{self.name}"

    @classmethod
    def parse(cls, value: str) -> ConditionRef:
        """From "action_type:ticket.close:solved-closes-itself"; ValueError otherwise."""
        kind, _, rest = value.partition(":")
        owner, _, name = rest.rpartition(":")
        if kind not in OWNER_KINDS or not owner or not name:
            raise ValueError(
                "Name a condition as action_type:<key>:<name> or profile:<slug>:<name>."
            )
        return cls(kind, owner, name)

    @property
    def url_kind(self) -> str:
        return "action-type" if self.owner_kind == "action_type" else "profile"

    def owner_object(self) -> ActionType | PermissionProfile | None:
        model = OWNER_KINDS[self.owner_kind]
        lookup = {"key": self.owner} if model is ActionType else {"slug": self.owner}
        return model.objects.filter(**lookup).first()

    def decisions(self) -> Q:
        """The decisions the condition can have been evaluated on: its owner's."""
        if self.owner_kind == "action_type":
            return Q(action=self.owner)
        return Q(profile_slug=self.owner)


def condition_find(ref: ConditionRef) -> tuple[object | None, Condition | None]:
    """The owner and the condition as configured now (None for either that does not exist)."""
    owner = ref.owner_object()
    if owner is None:
        return None, None
    for data in owner.conditions or []:
        if data.get("name") == ref.name:
            return owner, Condition.from_dict(data)
    return owner, None


def shadow_conditions() -> list[tuple[ConditionRef, Condition]]:
    """Every condition in shadow mode, action types' first, in their configured order."""
    found = []
    for kind, model, key in (
        ("action_type", ActionType, "key"),
        ("profile", PermissionProfile, "slug"),
    ):
        for owner, conditions in model.objects.order_by(key).values_list(key, "conditions"):
            for data in conditions or []:
                if data.get("mode") == "shadow":
                    ref = ConditionRef(kind, owner, data["name"])
                    found.append((ref, Condition.from_dict(data)))
    return found


def would_outcome(entry: dict, outcome: str, reason: str) -> str | None:
    """What the decision would have been with this recorded condition enforced; None when
    the condition did not hold (or, for auto_execute, could not be evaluated)."""
    result, effect = entry.get("result"), entry.get("effect")
    if result not in ("match", "error"):
        return None
    if effect == "deny":
        return "deny"
    if effect == "require_approval":
        return "deny" if outcome == "deny" else "pending"
    if effect == "auto_execute" and result == "match":
        if outcome == "allow" or reason == "requires_human_approval":
            return "allow"
        return outcome
    return None


@dataclass(frozen=True)
class ShadowRow:
    decision_id: str
    outcome: str  # what was decided
    would: str  # what it would have been


def _recorded(
    ref: ConditionRef, start: datetime | None, end: datetime | None
) -> Iterator[tuple[str, dict, str, str]]:
    """(decision id, the condition's recorded entry, outcome, reason) for every decision
    proposed in [start, end) that reached the condition, whatever its result."""
    decisions = Decision.objects.filter(ref.decisions())
    if start is not None:
        decisions = decisions.filter(created_at__gte=start)
    if end is not None:
        decisions = decisions.filter(created_at__lt=end)
    # A cheap first cut in the database (the name appears in the recorded conditions), the
    # exact test here: the same on SQLite and PostgreSQL.
    decisions = decisions.filter(facts__conditions__icontains=ref.name)
    rows = decisions.values_list("pk", "facts", "outcome", "reason").order_by()
    for pk, facts, outcome, reason in rows.iterator(chunk_size=2000):
        for entry in (facts or {}).get("conditions") or ():
            if entry.get("name") == ref.name and entry.get("owner") == ref.owner_kind:
                yield str(pk), entry, outcome, reason
                break


def shadow_decisions(
    ref: ConditionRef, *, start: datetime | None = None, end: datetime | None = None
) -> Iterator[ShadowRow]:
    """The decisions proposed in [start, end) on which the condition held (or failed) and so
    would have had an effect, with what was decided and what would have been."""
    for pk, entry, outcome, reason in _recorded(ref, start, end):
        would = would_outcome(entry, outcome, reason)
        if would is not None:
            yield ShadowRow(pk, outcome, would)


@dataclass
class ShadowCounts:
    ref: ConditionRef
    start: date
    end: date  # inclusive
    evaluated: int = 0
    would: Counter = field(default_factory=Counter)  # would-outcome -> decisions
    changed: Counter = field(default_factory=Counter)  # would-outcome -> of which different

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def total(self) -> int:
        return sum(self.would.values())

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def window_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start of the first day, start of the day after the last) in TIME_ZONE."""
    return day_start(start), day_start(end + timedelta(days=1))


def shadow_counts(ref: ConditionRef, *, days: int = DEFAULT_DAYS, today=None) -> ShadowCounts:
    """Over the last `days` calendar days (governance/periods.py, the one definition), how
    many decisions the condition would have denied, sent to a person or allowed, and how
    many of those it would have changed."""
    start, end = last_days(days, today=today)
    counts = ShadowCounts(ref, start, end)
    since, until = window_bounds(start, end)
    for _pk, entry, outcome, reason in _recorded(ref, since, until):
        counts.evaluated += 1
        would = would_outcome(entry, outcome, reason)
        if would is not None:
            counts.would[would] += 1
            if would != outcome:
                counts.changed[would] += 1
    return counts


def shadow_counts_all(*, days: int = DEFAULT_DAYS) -> list[tuple[Condition, ShadowCounts]]:
    """Every shadow condition with its counts over the last `days` days (the tuning page)."""
    return [(c, shadow_counts(ref, days=days)) for ref, c in shadow_conditions()]
