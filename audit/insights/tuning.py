"""Tuning recommendations: where the guardrails are probably too tight or too loose.

- allow-list candidates: action types people approved at least N times in the window, at
  an approval rate of at least X %, with no rejection. Irreversible, high or critical
  action types are never proposed for auto-execution: they are flagged instead.
- denial clusters: profiles whose denials concentrate on one reason and connector.
- approval bottlenecks: approver groups whose median wait exceeds their SLA.
- unused access: allowed action types and grants not exercised in 90 days.

Computed from the rollups (and, for unused grants, one query per profile) by the periodic
refresh, stored as Recommendation rows; applied or dismissed by a governance admin."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit.choices import Category, EventType, RecommendationKind, RecommendationStatus
from audit.insights.dashboard import Window, decision_times
from audit.insights.links import audit_log_url
from audit.insights.simulator import CONDITION_KINDS, Change, change_parse, conditions_after
from audit.models import DecisionRollup, Recommendation
from audit.services import audit_event_record
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import ActionType, Decision, PermissionProfile
from governance.permissions import is_governance_admin
from governance.services import (
    action_type_update,
    profile_grant_add,
    profile_grant_remove,
    profile_update,
)

UNUSED_DAYS = 90


def tuning_settings() -> dict[str, Any]:
    return {
        "window_days": 30,
        "min_count": 10,
        "min_rate": 0.95,
        "cluster_min": 10,
        "cluster_share": 0.1,
        "simulation_max": 100_000,
    } | getattr(settings, "TUNING", {})


def _window(days: int) -> Window:
    today = timezone.localdate()
    return Window(today - timedelta(days=days - 1), today)


def allowlist_candidates(window: Window, *, min_count: int, min_rate: float) -> list[dict]:
    rows = (
        DecisionRollup.objects.filter(day__gte=window.start, day__lte=window.end)
        .filter(
            category__in=[Category.APPROVED, Category.REJECTED, Category.EXPIRED, Category.PENDING]
        )
        .values("action", "category")
        .annotate(n=Sum("count"))
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[row["action"]][row["category"]] = row["n"]
    found = []
    for action in ActionType.objects.filter(key__in=counts, auto_execute=False):
        c = counts[action.key]
        decided = c[Category.APPROVED] + c[Category.REJECTED] + c[Category.EXPIRED]
        routed = decided + c[Category.PENDING]
        rate = c[Category.APPROVED] / decided if decided else 0
        if routed < min_count or rate < min_rate or c[Category.REJECTED]:
            continue
        found.append(_candidate(action, window, routed, c, rate))
    return found


def _candidate(action: ActionType, window: Window, routed: int, counts, rate: float) -> dict:
    evidence = {
        "routed_to_people": routed,
        "approved": counts[Category.APPROVED],
        "rejected": counts[Category.REJECTED],
        "expired": counts[Category.EXPIRED],
        "approval_rate": round(rate, 3),
        "impact": action.impact,
        "reversible": action.reversible,
        "link": audit_log_url(
            start=window.start, end=window.end, category=Category.APPROVED, action=action.key
        ),
    }
    decided = counts[Category.APPROVED] + counts[Category.REJECTED] + counts[Category.EXPIRED]
    summary = (
        f"{routed} '{action.key}' requests went to people in {window.days} days; they approved "
        f"{counts[Category.APPROVED]} of the {decided} they decided ({rate:.0%}) and rejected none."
    )
    if not action.reversible or action.impact in ("high", "critical"):
        why = "irreversible" if not action.reversible else f"{action.impact} impact"
        return {
            "kind": RecommendationKind.ALWAYS_APPROVED_FLAG,
            "key": f"flag:{action.key}",
            "title": f"'{action.key}' is always approved, but it is {why}",
            "detail": summary
            + " It can never run without a person; consider whether the approver group "
            "or the SLA fit the volume.",
            "evidence": evidence,
            "change": None,
        }
    return {
        "kind": RecommendationKind.ALLOWLIST_CANDIDATE,
        "key": f"allowlist:{action.key}",
        "title": f"Move '{action.key}' onto the auto-execute allow-list",
        "detail": summary + " It is reversible and of low or medium impact.",
        "evidence": evidence,
        "change": Change("allowlist_add", action=action.key).as_dict(),
    }


def denial_clusters(window: Window, *, minimum: int, share: float) -> list[dict]:
    rows = DecisionRollup.objects.filter(day__gte=window.start, day__lte=window.end)
    per_profile = {r["profile"]: r["n"] for r in rows.values("profile").annotate(n=Sum("count"))}
    denied = (
        rows.filter(category=Category.DENIED)
        .values("profile", "reason", "connector")
        .annotate(n=Sum("count"))
        .order_by("-n")
    )
    found = []
    for row in denied:
        total = per_profile.get(row["profile"], 0)
        if row["n"] < minimum or not total or row["n"] / total < share:
            continue
        found.append(
            {
                "kind": RecommendationKind.DENIAL_CLUSTER,
                "key": f"denials:{row['profile']}:{row['reason']}:{row['connector']}",
                "title": f"{row['profile']}: {row['n']} denials for {row['reason']} "
                f"on {row['connector'] or 'no connector'}",
                "detail": f"{row['n'] / total:.0%} of the profile's {total} requests in "
                f"{window.days} days were denied this way: "
                "the scope is probably too tight, or an agent is misconfigured.",
                "evidence": {
                    "denials": row["n"],
                    "profile_requests": total,
                    "link": audit_log_url(
                        start=window.start,
                        end=window.end,
                        category=Category.DENIED,
                        profile=row["profile"],
                        reason=row["reason"],
                        connector=row["connector"],
                    ),
                },
                "change": None,
            }
        )
    return found


def approval_bottlenecks(window: Window) -> list[dict]:
    """Groups whose median wait exceeds the SLA: fewer than half of their decisions were
    made within the SLA of their own action type (counted by the timing rollup)."""
    found = []
    for timing in decision_times(window):
        if not timing.decided or timing.within_sla * 2 >= timing.decided:
            continue
        found.append(
            {
                "kind": RecommendationKind.APPROVAL_BOTTLENECK,
                "key": f"bottleneck:{timing.group}",
                "title": f"{timing.group} take longer than their SLA",
                "detail": f"Only {timing.within_sla} of {timing.decided} requests were decided "
                f"within their SLA over {window.days} days (median wait about "
                f"{timing.median_minutes:.0f} min). Add approvers, or an escalation group.",
                "evidence": {
                    "median_minutes": timing.median_minutes,
                    "p90_minutes": timing.p90_minutes,
                    "within_sla": timing.within_sla,
                    "decided": timing.decided,
                    "link": audit_log_url(
                        start=window.start,
                        end=window.end,
                        event_type=["decision_approved", "decision_rejected"],
                        approval_group=timing.group,
                    ),
                },
                "change": None,
            }
        )
    return found


def unused_access() -> list[dict]:
    since = timezone.now() - timedelta(days=UNUSED_DAYS)
    window = _window(UNUSED_DAYS)
    found = []
    for profile in PermissionProfile.objects.active().prefetch_related("grants__connector"):
        rollups = DecisionRollup.objects.filter(profile=profile.slug, day__gte=window.start)
        used = set(rollups.values_list("action", flat=True).distinct())
        for pattern in profile.action_types:
            if not any(fnmatch.fnmatchcase(action, pattern) for action in used):
                found.append(_unused_action(profile, pattern))
        # The rollups know each decision's first connector; only a connector not found there
        # is looked for in the decisions' other data sources.
        connectors = set(rollups.values_list("connector", flat=True).distinct())
        decisions = Decision.objects.filter(profile_slug=profile.slug, created_at__gte=since)
        for grant in profile.grants.all():
            slug = grant.connector.slug
            if not (
                slug in connectors or decisions.filter(data_sources__icontains=f'"{slug}:').exists()
            ):
                found.append(_unused_grant(profile, grant))
    return found


def _unused_action(profile: PermissionProfile, pattern: str) -> dict:
    return {
        "kind": RecommendationKind.UNUSED_ACTION,
        "key": f"unused-action:{profile.slug}:{pattern}",
        "title": f"{profile.slug} allows '{pattern}', unused for {UNUSED_DAYS} days",
        "detail": "Least privilege: remove what the task does not use; "
        "it can be added back when needed.",
        "evidence": {"profile": profile.slug, "pattern": pattern},
        "change": Change("profile_action_remove", profile=profile.slug, action=pattern).as_dict(),
    }


def _unused_grant(profile: PermissionProfile, grant) -> dict:
    resources = ",".join(grant.resources)
    return {
        "kind": RecommendationKind.UNUSED_GRANT,
        "key": f"unused-grant:{profile.slug}:{grant.connector.slug}:{resources}:{grant.access}",
        "title": f"{profile.slug} can {grant.access} {grant.connector.slug}:{resources}, "
        f"unused for {UNUSED_DAYS} days",
        "detail": "Least privilege: remove the grant; "
        "no decision under this profile touched the connector.",
        "evidence": {
            "profile": profile.slug,
            "connector": grant.connector.slug,
            "resources": grant.resources,
        },
        "change": Change(
            "grant_remove",
            profile=profile.slug,
            connector=grant.connector.slug,
            resources=tuple(grant.resources),
            access=grant.access,
        ).as_dict(),
    }


def recommendations_compute() -> list[dict]:
    config = tuning_settings()
    window = _window(config["window_days"])
    return [
        *allowlist_candidates(window, min_count=config["min_count"], min_rate=config["min_rate"]),
        *denial_clusters(window, minimum=config["cluster_min"], share=config["cluster_share"]),
        *approval_bottlenecks(window),
        *unused_access(),
    ]


def recommendations_refresh() -> int:
    """Store the current recommendations: update open ones, add new ones, drop open ones
    that no longer hold. A key applied or dismissed in the last 90 days is not proposed again."""
    found = {r["key"]: r for r in recommendations_compute()}
    recent = timezone.now() - timedelta(days=UNUSED_DAYS)
    closed = set(
        Recommendation.objects.exclude(status=RecommendationStatus.OPEN)
        .filter(decided_at__gte=recent)
        .values_list("key", flat=True)
    )
    window = tuning_settings()["window_days"]
    with transaction.atomic():
        Recommendation.objects.filter(status=RecommendationStatus.OPEN).exclude(
            key__in=found
        ).delete()
        for key, data in found.items():
            if key in closed:
                continue
            Recommendation.objects.update_or_create(
                key=key,
                status=RecommendationStatus.OPEN,
                defaults={**data, "window_days": window, "updated_at": timezone.now()},
            )
    return Recommendation.objects.filter(status=RecommendationStatus.OPEN).count()


def _decide(recommendation: Recommendation, actor) -> Recommendation:
    if not is_governance_admin(actor):
        raise PermissionDenied("Only governance admins apply or dismiss recommendations.")
    locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    if locked.status != RecommendationStatus.OPEN:
        raise Conflict(f"This recommendation was already {locked.status}.")
    return locked


def recommendation_apply(
    recommendation: Recommendation, *, actor, note: str = ""
) -> Recommendation:
    """Make the proposed change through the ordinary services (audited, policy revision
    bumped) and record who applied it."""
    with transaction.atomic():
        recommendation = _decide(recommendation, actor)
        if not recommendation.change:
            raise ValidationFailed("This recommendation is a flag: it proposes no change to apply.")
        change = change_parse(recommendation.change)
        change_apply(change, actor=actor)
        return _close(
            recommendation,
            RecommendationStatus.APPLIED,
            EventType.RECOMMENDATION_APPLIED,
            actor,
            note,
        )


def recommendation_dismiss(recommendation: Recommendation, *, actor, reason: str) -> Recommendation:
    if not reason.strip():
        raise ValidationFailed("Say why it is dismissed: the quarterly review shows it.")
    with transaction.atomic():
        recommendation = _decide(recommendation, actor)
        return _close(
            recommendation,
            RecommendationStatus.DISMISSED,
            EventType.RECOMMENDATION_DISMISSED,
            actor,
            reason,
        )


def _close(
    recommendation: Recommendation, status: str, event_type, actor, note: str
) -> Recommendation:
    recommendation.status = status
    recommendation.decided_by = actor
    recommendation.decided_at = timezone.now()
    recommendation.decision_note = note
    recommendation.save()
    audit_event_record(
        event_type=event_type,
        actor=actor,
        target=recommendation,
        outcome=status,
        detail={
            "kind": recommendation.kind,
            "title": recommendation.title,
            "change": recommendation.change,
            "note": note,
        },
    )
    return recommendation


def change_apply(change: Change, *, actor) -> None:
    """Apply a (recommended or hand-made) change through the configuration services."""
    if change.kind in CONDITION_KINDS:
        if change.action:
            owner = ActionType.objects.get(key=change.action)
            update = action_type_update
        else:
            owner = PermissionProfile.objects.get(slug=change.profile)
            update = profile_update
        update(owner, actor=actor, conditions=conditions_after(owner.conditions, change))
        return
    if change.kind in ("allowlist_add", "allowlist_remove"):
        action_type_update(
            ActionType.objects.get(key=change.action),
            actor=actor,
            auto_execute=change.kind == "allowlist_add",
        )
        return
    profile = PermissionProfile.objects.get(slug=change.profile)
    if change.kind == "profile_action_remove":
        profile_update(
            profile,
            actor=actor,
            action_types=[p for p in profile.action_types if p != change.action],
        )
    elif change.kind == "grant_add":
        from catalog.models import CatalogItem

        connector = CatalogItem.objects.filter(slug=change.connector, kind="connector").first()
        if connector is None:
            raise ValidationFailed(f"There is no connector '{change.connector}'.")
        profile_grant_add(
            actor=actor,
            profile=profile,
            connector=connector,
            resources=list(change.resources),
            access=change.access,
        )
    else:
        from audit.insights.simulator import _grant

        profile_grant_remove(_grant(change), actor=actor)
