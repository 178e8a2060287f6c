"""The intake review workflow: one transition table, one service per transition.

    submitted --start_review--> in_review --(security and data reviews approve)--> approved
    approved --publish--> published
    submitted | in_review --request_changes--> changes_requested --resubmit--> submitted
    submitted | in_review --reject--> rejected
    submitted | in_review | changes_requested | approved --withdraw--> withdrawn

Every transition is audited with the state before and after; the requester is e-mailed on
every state change and reviewers when a request (re)enters their queue, after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.choices import EventType
from audit.services import audit_event_record
from catalog.choices import (
    CHECKLISTS,
    IntakeKind,
    IntakeState,
    ItemStatus,
    ReviewKind,
    ReviewVerdict,
    VersionReviewState,
)
from catalog.models import CatalogItem, CatalogVersion, IntakeRequest, IntakeReview
from catalog.permissions import (
    FORBIDDEN_REVIEW_CODES,
    can_publish_intake,
    may_review,
    review_refusal,
    reviews_intake,
)
from catalog.services import catalog_item_create, catalog_version_create, catalog_version_pin
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.services import validation_failed

S = IntakeState
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start_review": (frozenset({S.SUBMITTED}), S.IN_REVIEW),
    "request_changes": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.CHANGES_REQUESTED),
    "resubmit": (frozenset({S.CHANGES_REQUESTED}), S.SUBMITTED),
    "approve": (frozenset({S.IN_REVIEW}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED, S.IN_REVIEW}), S.REJECTED),
    "withdraw": (
        frozenset({S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED}),
        S.WITHDRAWN,
    ),
    "publish": (frozenset({S.APPROVED}), S.PUBLISHED),
}
VERBS = {
    "start_review": "start reviewing",
    "request_changes": "request changes to",
    "resubmit": "resubmit",
    "approve": "approve",
    "reject": "reject",
    "withdraw": "withdraw",
    "publish": "publish",
}


def allowed_transitions(intake: IntakeRequest) -> set[str]:
    return {name for name, (sources, _) in TRANSITIONS.items() if intake.state in sources}


def _transition(intake: IntakeRequest, name: str, *, actor: Any, note: str = "") -> IntakeRequest:
    """Move a locked request along the table, or refuse clearly; audit; notify on commit."""
    sources, target = TRANSITIONS[name]
    if intake.state not in sources:
        raise Conflict(
            f"You cannot {VERBS[name]} a request that is {intake.get_state_display().lower()}.",
            code="illegal_transition",
        )
    before = intake.state
    intake.state = target
    intake.state_changed_at = timezone.now()
    if note:
        intake.last_note = note
    intake.save()
    audit_event_record(
        event_type=EventType.INTAKE_STATE_CHANGED,
        actor=actor,
        target=intake,
        outcome=target,
        changes={"before": {"state": before}, "after": {"state": target}},
        detail={"transition": name, "note": note, "item": intake.target_label},
    )
    _notify_on_commit(intake.pk, name)
    return intake


def _notify_on_commit(intake_id: int, transition: str) -> None:
    from catalog.tasks import notify_intake_change

    transaction.on_commit(lambda: notify_intake_change.delay(intake_id, transition))


def _locked(intake: IntakeRequest) -> IntakeRequest:
    return (
        IntakeRequest.objects.select_for_update(of=("self",))
        .select_related("item")
        .get(pk=intake.pk)
    )


INTAKE_FIELDS = {
    "slug", "name", "item_kind", "description", "proposed_owner", "vendor", "systems",
    "data_classes", "reach", "version", "artifact_digest", "justification", "pin_on_publish",
    "mcp_server", "tool_definitions", "server_json",
}  # fmt: skip


def _capture_tool_definitions(intake: IntakeRequest) -> None:
    """Keep the reviewed part of the MCP server's tools/list, canonical, and its digest:
    what the reviewers read is exactly what publishing pins."""
    from agent_governance.tool_definitions import (
        ToolDefinitionsError,
        canonical_tools,
        tools_digest,
    )

    if intake.tool_definitions in (None, "", [], {}):
        intake.tool_definitions, intake.tool_definitions_digest = None, ""
        return
    try:
        intake.tool_definitions = canonical_tools(intake.tool_definitions)
    except ToolDefinitionsError as error:
        raise ValidationFailed(
            str(error), extra={"fields": {"tool_definitions": [str(error)]}}
        ) from error
    intake.tool_definitions_digest = tools_digest(intake.tool_definitions)


def _validate(intake: IntakeRequest) -> None:
    from django.core.exceptions import ValidationError

    from catalog.models import validate_mcp_server

    _capture_tool_definitions(intake)
    problem = validate_mcp_server(intake.mcp_server or {})
    if problem:
        raise ValidationFailed(problem, extra={"fields": {"mcp_server": [problem]}})
    try:
        intake.full_clean(exclude=["requester", "item", "published_version"])
    except ValidationError as error:
        raise validation_failed(error) from error
    probe = CatalogItem(
        slug=intake.target_slug or "x",
        name="x",
        kind=intake.item_kind or "connector",
        systems=intake.systems,
        data_classes=intake.data_classes,
    )
    try:
        probe.clean()
    except ValidationError as error:
        raise validation_failed(error) from error
    if intake.kind == IntakeKind.NEW_ITEM:
        _validate_new_item(intake)
    elif intake.item.versions.filter(version=intake.version).exists():
        raise ValidationFailed(
            f"{intake.item.slug} already has a version {intake.version}.",
            extra={"fields": {"version": ["This version already exists."]}},
        )


def _validate_new_item(intake: IntakeRequest) -> None:
    missing = [name for name in ("slug", "name", "item_kind") if not getattr(intake, name)]
    if missing:
        raise ValidationFailed(
            "A new item needs a slug, a name and a kind.",
            extra={"fields": {name: ["This field is required."] for name in missing}},
        )
    if CatalogItem.objects.filter(slug=intake.slug).exists():
        raise ValidationFailed(
            f"There is already a catalog item '{intake.slug}'; file a new version of it instead.",
            extra={"fields": {"slug": ["Already in the catalog."]}},
        )


def intake_request_submit(
    *, actor: Any, item: CatalogItem | None = None, **fields: Any
) -> IntakeRequest:
    """Anyone signed in files a request: a new item (no `item`) or a new version of `item`."""
    unknown = set(fields) - INTAKE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    intake = IntakeRequest(
        kind=IntakeKind.NEW_VERSION if item else IntakeKind.NEW_ITEM,
        requester=actor,
        item=item,
        **fields,
    )
    if item is not None:
        intake.item_kind = item.kind
    _validate(intake)
    with transaction.atomic():
        intake.save()
        audit_event_record(
            event_type=EventType.INTAKE_STATE_CHANGED,
            actor=actor,
            target=intake,
            outcome=S.SUBMITTED,
            changes={"before": None, "after": {"state": S.SUBMITTED}},
            detail={"transition": "submit", "item": intake.target_label},
        )
        _notify_on_commit(intake.pk, "submit")
    return intake


def intake_request_start_review(intake: IntakeRequest, *, actor: Any) -> IntakeRequest:
    """A reviewer takes the request from the queue."""
    if intake.requester_id == actor.pk:
        raise PermissionDenied("You cannot review your own request.", code="own_request")
    if not may_review(actor, intake):
        raise PermissionDenied("You are not a reviewer of this request.", code="not_a_reviewer")
    with transaction.atomic():
        return _transition(_locked(intake), "start_review", actor=actor)


def intake_review_add(
    intake: IntakeRequest,
    *,
    actor: Any,
    kind: str,
    verdict: str,
    checklist: list[str] | None = None,
    comment: str = "",
) -> IntakeReview:
    """Record a security or data review. A rejection rejects the request, a request for
    changes sends it back to the requester, and the second approving review (by another
    person) approves it."""
    if kind not in ReviewKind.values or verdict not in ReviewVerdict.values:
        raise ValidationFailed(
            "kind must be security or data; verdict approve, request_changes or reject."
        )
    checklist = list(checklist or [])
    keys = {key for key, _ in CHECKLISTS[kind]}
    if not set(checklist) <= keys:
        raise ValidationFailed(
            f"Unknown checklist items: {', '.join(sorted(set(checklist) - keys))}."
        )
    if verdict == ReviewVerdict.APPROVE and set(checklist) != keys:
        raise ValidationFailed("Tick every checklist item to approve, or request changes.")
    if verdict != ReviewVerdict.APPROVE and not comment.strip():
        raise ValidationFailed(
            "Say what has to change (or why it is rejected): the requester reads it."
        )
    with transaction.atomic():
        intake = _locked(intake)
        refusal = review_refusal(actor, intake, kind)
        if refusal:
            code, message = refusal
            raise (PermissionDenied if code in FORBIDDEN_REVIEW_CODES else Conflict)(
                message, code=code
            )
        if intake.state == S.SUBMITTED:
            _transition(intake, "start_review", actor=actor)
        review = IntakeReview.objects.create(
            request=intake, round=intake.round, kind=kind, reviewer=actor, verdict=verdict,
            checklist=checklist, comment=comment,
        )  # fmt: skip
        audit_event_record(
            event_type=EventType.INTAKE_REVIEWED,
            actor=actor,
            target=intake,
            outcome=verdict,
            detail={
                "kind": kind,
                "round": intake.round,
                "checklist": checklist,
                "comment": comment,
            },
        )
        _after_review(intake, review, actor)
    return review


def _after_review(intake: IntakeRequest, review: IntakeReview, actor: Any) -> None:
    if review.verdict == ReviewVerdict.REJECT:
        _transition(intake, "reject", actor=actor, note=review.comment)
    elif review.verdict == ReviewVerdict.REQUEST_CHANGES:
        _transition(intake, "request_changes", actor=actor, note=review.comment)
    else:
        approvals = intake.current_reviews().filter(verdict=ReviewVerdict.APPROVE)
        if {r.kind for r in approvals} == set(ReviewKind.values):
            _transition(intake, "approve", actor=actor, note="Security and data reviews approved.")


def intake_request_reject(intake: IntakeRequest, *, actor: Any, reason: str) -> IntakeRequest:
    """A reviewer refuses the request outright."""
    if not reason.strip():
        raise ValidationFailed("Give the reason for the rejection.")
    if not reviews_intake(actor, intake) or intake.requester_id == actor.pk:
        raise PermissionDenied("Only a reviewer of this request (not its requester) may reject it.")
    with transaction.atomic():
        return _transition(_locked(intake), "reject", actor=actor, note=reason)


def intake_request_withdraw(
    intake: IntakeRequest, *, actor: Any, reason: str = ""
) -> IntakeRequest:
    """The requester takes the request back."""
    if intake.requester_id != actor.pk:
        raise PermissionDenied("Only the requester may withdraw a request.")
    with transaction.atomic():
        return _transition(_locked(intake), "withdraw", actor=actor, note=reason)


def intake_request_resubmit(intake: IntakeRequest, *, actor: Any, **changes: Any) -> IntakeRequest:
    """The requester answers a request for changes; a new review round starts."""
    if intake.requester_id != actor.pk:
        raise PermissionDenied("Only the requester may resubmit a request.")
    unknown = set(changes) - INTAKE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        intake = _locked(intake)
        for name, value in changes.items():
            setattr(intake, name, value)
        _validate(intake)
        intake.round += 1
        return _transition(intake, "resubmit", actor=actor)


def intake_request_publish(
    intake: IntakeRequest,
    *,
    actor: Any,
    pin: bool | None = None,
    previous_allowed_until: datetime | None = None,
) -> CatalogVersion:
    """Create the approved version (and the item, for a new one) through the catalog
    services, so it is audited and the policy revision bumps; pin it if asked, keeping
    the previously pinned version allowed until `previous_allowed_until` if given (a
    rollout window, see catalog_version_pin)."""
    pin = intake.pin_on_publish if pin is None else pin
    if previous_allowed_until is not None and not pin:
        raise ValidationFailed(
            "A rollout window comes with pinning the new version; choose to pin it.",
            extra={"fields": {"allowed_until": ["Only when the new version is pinned."]}},
        )
    if not can_publish_intake(actor, intake):
        raise PermissionDenied(
            "Only governance admins publish new items; the item's owners publish its versions."
        )
    with transaction.atomic():
        intake = _locked(intake)
        if intake.state != S.APPROVED:
            _transition(intake, "publish", actor=actor)  # raises the clear refusal
        item = intake.item or _item_create(intake, actor)
        version = catalog_version_create(
            actor=actor,
            item=item,
            version=intake.version,
            artifact_digest=intake.artifact_digest,
            review_state=VersionReviewState.APPROVED,
            notes=f"Published from intake request #{intake.pk}.",
            tool_definitions=intake.tool_definitions,
            tool_definitions_digest=intake.tool_definitions_digest,
        )
        if pin:
            catalog_version_pin(version, actor=actor, previous_allowed_until=previous_allowed_until)
        intake.item, intake.published_version = item, version
        _transition(intake, "publish", actor=actor)
    return version


def _item_create(intake: IntakeRequest, actor: Any) -> CatalogItem:
    return catalog_item_create(
        actor=actor,
        slug=intake.slug,
        name=intake.name,
        kind=intake.item_kind,
        description=intake.description,
        owner=intake.proposed_owner or intake.requester,
        vendor=intake.vendor,
        systems=intake.systems,
        data_classes=intake.data_classes,
        reach=intake.reach,
        status=ItemStatus.APPROVED,
        mcp_server=intake.mcp_server or {},
    )
