"""Who may change what in the catalog."""

from django.conf import settings

from audit.services import SystemActor
from governance.permissions import _is_person, is_auditor, is_governance_admin


def can_manage_item(user, item) -> bool:
    """Governance admins, the item's owner, and members of its owning group manage its
    versions (pin, roll back, yank)."""
    if isinstance(user, SystemActor):
        return True
    if is_governance_admin(user):
        return True
    if not _is_person(user):
        return False
    if item.owner_id == user.pk:
        return True
    return bool(item.owning_group_id) and user.groups.filter(pk=item.owning_group_id).exists()


def is_intake_reviewer(user) -> bool:
    """Someone intake requests may wait for: connector owners and governance admins (their
    items' versions, new items) and the security review group."""
    from governance.permissions import is_connector_owner

    return is_governance_admin(user) or is_connector_owner(user) or _security_reviewer(user)


def _security_reviewer(user) -> bool:
    group = settings.GOVERNANCE["SECURITY_REVIEW_GROUP"]
    return _is_person(user) and user.groups.filter(name=group).exists()


def reviews_intake(user, intake) -> bool:
    """Whose queue the request is in: governance admins for new items; the item's owner and
    owning group for new versions (governance admins if it has neither)."""
    if not _is_person(user):
        return False
    if intake.item_id is None:
        return is_governance_admin(user)
    item = intake.item
    if not item.owner_id and not item.owning_group_id:
        return is_governance_admin(user)
    return can_manage_item(user, item)


def may_review(user, intake) -> bool:
    """In the request's reviewer population: its queue, or the security review group."""
    return reviews_intake(user, intake) or _security_reviewer(user)


# Refusals that are about the person (403) rather than the request's state (409).
FORBIDDEN_REVIEW_CODES = {"own_request", "not_a_reviewer"}


def review_refusal(user, intake, kind: str) -> tuple[str, str] | None:
    """Why `user` may not give the `kind` review of `intake` now, as (code, message), or
    None if they may. Two reviews by two different people, neither the requester; the
    security review may also come from the security review group."""
    from catalog.choices import IntakeState, ReviewKind

    if intake.state not in (IntakeState.SUBMITTED, IntakeState.IN_REVIEW):
        state = intake.get_state_display().lower()
        return "wrong_state", f"This request is {state}; it takes no reviews now."
    if intake.requester_id == getattr(user, "pk", None):
        return "own_request", "You cannot review your own request."
    if not (
        reviews_intake(user, intake) or (kind == ReviewKind.SECURITY and _security_reviewer(user))
    ):
        return "not_a_reviewer", "You are not a reviewer of this request."
    reviews = list(intake.current_reviews())
    if any(r.kind == kind for r in reviews):
        return (
            "already_reviewed",
            f"The {ReviewKind(kind).label.lower()} of this round is already done.",
        )
    if any(r.reviewer_id == user.pk for r in reviews):
        return (
            "same_reviewer",
            "The two reviews must come from two different people; you gave the other one.",
        )
    return None


def can_publish_intake(user, intake) -> bool:
    """New items: governance admins. New versions: whoever manages the item."""
    if intake.item_id is None:
        return is_governance_admin(user)
    return can_manage_item(user, intake.item)


def can_view_intake(user, intake) -> bool:
    if not _is_person(user):
        return False
    return (
        intake.requester_id == user.pk
        or is_governance_admin(user)
        or is_auditor(user)
        or reviews_intake(user, intake)
        or _security_reviewer(user)
    )
