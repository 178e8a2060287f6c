"""Reads of the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from catalog.choices import ItemKind
from catalog.models import CatalogItem, IntakeRequest
from catalog.permissions import may_review, reviews_intake
from governance.models import Decision, PermissionProfile
from governance.periods import last_days_since
from governance.permissions import is_auditor, is_governance_admin

STATS_DAYS = 30


def catalog_item_list() -> QuerySet[CatalogItem]:
    return CatalogItem.objects.select_related("owner", "owning_group").prefetch_related("versions")


@dataclass(frozen=True)
class DecisionStats:
    allowed: int
    denied: int
    pending: int
    approved: int
    rejected: int
    days: int = STATS_DAYS


def _decisions_using(item: CatalogItem) -> Q:
    if item.kind == ItemKind.CONNECTOR:
        # The connector the action changes, or the connector of one of its data sources.
        return Q(connector=item.slug) | Q(data_sources__icontains=f'"{item.slug}:')
    return Q(plugin__startswith=f"{item.slug}@")


def catalog_item_stats(item: CatalogItem) -> DecisionStats:
    """How the decisions that used this item went in the last 30 days, as Home and the
    dashboards count them (governance.periods; one query)."""
    since = last_days_since(STATS_DAYS)
    row = Decision.objects.filter(_decisions_using(item), created_at__gte=since).aggregate(
        allowed=Count("pk", filter=Q(outcome="allow")),
        denied=Count("pk", filter=Q(outcome="deny")),
        pending=Count("pk", filter=Q(outcome="pending")),
        approved=Count("pk", filter=Q(outcome="pending", approval__startswith="human:")),
        rejected=Count("pk", filter=Q(status="rejected")),
    )
    return DecisionStats(**row)


def profiles_using(item: CatalogItem) -> QuerySet[PermissionProfile]:
    """Profiles that allow the plugin or grant access through the connector."""
    return (
        PermissionProfile.objects.filter(Q(plugins=item) | Q(grants__connector=item))
        .distinct()
        .order_by("slug")
    )


def intake_request_list_visible_to(user) -> QuerySet[IntakeRequest]:
    """Requests a person may see: their own, those they review, all for admins/auditors."""
    base = IntakeRequest.objects.select_related("item", "requester")
    if is_governance_admin(user) or is_auditor(user):
        return base
    visible = [r.pk for r in base if r.requester_id == user.pk or may_review(user, r)]
    return base.filter(pk__in=visible)


def intake_review_queue(user) -> QuerySet[IntakeRequest]:
    """Open requests waiting for this person's review, oldest first."""
    from catalog.choices import IntakeState

    candidates = (
        IntakeRequest.objects.select_related("item", "requester")
        .filter(state__in=[IntakeState.SUBMITTED, IntakeState.IN_REVIEW])
        .exclude(requester=user)
        .order_by("state_changed_at")
    )
    waiting = [r.pk for r in candidates if may_review(user, r) and _review_left_for(user, r)]
    return candidates.filter(pk__in=waiting)


def _review_left_for(user, intake: IntakeRequest) -> bool:
    from catalog.permissions import review_refusal

    return any(review_refusal(user, intake, kind) is None for kind in ("security", "data"))


def intake_reviewer_emails(intake: IntakeRequest) -> list[str]:
    """Who to tell about a request in the review queue."""
    from django.conf import settings

    from governance.models import User

    group = settings.GOVERNANCE["SECURITY_REVIEW_GROUP"]
    people = User.objects.filter(is_active=True).exclude(email="").exclude(pk=intake.requester_id)
    candidates = people.filter(
        Q(groups__name=group) | Q(groups__name="Governance admins") | Q(is_superuser=True)
    )
    if intake.item_id:
        item = intake.item
        candidates = candidates | people.filter(pk=item.owner_id)
        if item.owning_group_id:
            candidates = candidates | people.filter(groups=item.owning_group_id)
    return sorted(
        {
            u.email
            for u in candidates.distinct()
            if reviews_intake(u, intake) or may_review(u, intake)
        }
    )


def _previous_definitions(intake) -> tuple[Any, list[dict] | None]:
    """The version the new tools are compared with: the item's pinned version, else its
    latest version that recorded tool definitions (None for a new item)."""
    if intake.item_id is None:
        return None, None
    versions = intake.item.versions.exclude(tool_definitions=None)
    previous = versions.filter(is_pinned=True).first() or versions.order_by("-created_at").first()
    return previous, (previous.tool_definitions if previous else None)


def intake_tool_changes(intake) -> dict[str, Any]:
    """Every tool the server exposes, with what changed since the previous version
    (added, removed, changed: the description as a line diff, schema, annotations)."""
    previous, before = _previous_definitions(intake)
    after = {t["name"]: t for t in intake.tool_definitions or []}
    old = {t["name"]: t for t in before or []}
    rows = []
    for name in sorted(set(after) | set(old)):
        new, was = after.get(name), old.get(name)
        state = "added" if was is None and before is not None else "removed" if new is None else ""
        if new and was and new != was:
            state = "changed"
        rows.append(
            {
                "name": name,
                "tool": new or was,
                "state": state,
                "description_diff": _lines_diff(was, new) if state == "changed" else [],
                "schema_changed": bool(
                    new and was and new.get("inputSchema") != was.get("inputSchema")
                ),
                "annotations_before": (was or {}).get("annotations")
                if state == "changed"
                else None,
            }
        )
    return {"previous": previous, "compared": before is not None, "rows": rows}


def _lines_diff(was: dict, new: dict) -> list[str]:
    import difflib

    return list(
        difflib.unified_diff(
            (was.get("description") or "").splitlines(),
            (new.get("description") or "").splitlines(),
            "reviewed",
            "proposed",
            lineterm="",
            n=1,
        )
    )[2:]
