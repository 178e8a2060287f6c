"""Reads of the catalog."""

from __future__ import annotations

from dataclasses import dataclass

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
