"""Writes of the catalog: items, versions, pins and yanks (all audited, all bump the
policy revision because the decision engine reads them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.choices import EventType
from audit.services import audit_event_record
from catalog.choices import VersionReviewState
from catalog.models import CatalogItem, CatalogVersion
from catalog.permissions import can_manage_item
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.services import config_object_save, policy_revision_bump, require_policy_admin


def catalog_item_create(*, actor: Any, **fields: Any) -> CatalogItem:
    """Add an item to the catalog (governance admins; new items normally come through intake)."""
    require_policy_admin(actor)
    return config_object_save(CatalogItem(), actor=actor, fields=fields)


def catalog_item_update(item: CatalogItem, *, actor: Any, **fields: Any) -> CatalogItem:
    """Change an item's description, owner, data exposure or status."""
    require_policy_admin(actor)
    return config_object_save(item, actor=actor, fields=fields)


def catalog_version_create(
    *, actor: Any, item: CatalogItem, version: str, **fields: Any
) -> CatalogVersion:
    """Register a version of an item (review state defaults to pending)."""
    if not can_manage_item(actor, item):
        raise PermissionDenied(f"Only the owners of {item.slug} may add versions to it.")
    return config_object_save(
        CatalogVersion(item=item), actor=actor, fields={"version": version, **fields}
    )


# The longest rollout window an owner may give the previous version.
ROLLOUT_WINDOW_MAX_DAYS = 90


def rollout_window_check(until: datetime, *, now: datetime | None = None) -> None:
    """Refuse a rollout window that is not in the future or is longer than the maximum."""
    now = now or timezone.now()
    if until <= now:
        raise ValidationFailed(
            "The rollout window must end in the future.",
            extra={"fields": {"allowed_until": ["Choose a date after today."]}},
        )
    if until > now + timedelta(days=ROLLOUT_WINDOW_MAX_DAYS):
        raise ValidationFailed(
            f"A rollout window lasts at most {ROLLOUT_WINDOW_MAX_DAYS} days.",
            extra={"fields": {"allowed_until": [f"At most {ROLLOUT_WINDOW_MAX_DAYS} days ahead."]}},
        )


def catalog_version_pin(
    version: CatalogVersion, *, actor: Any, previous_allowed_until: datetime | None = None
) -> CatalogVersion:
    """Pin an approved version: from the next decision on, it is the only one allowed,
    except a previous version still inside its rollout window.

    `previous_allowed_until` opens a rollout window: the version pinned until now stays
    allowed until then (the engine compares it with each decision's time, so it closes on
    time), and is refused with `version_not_pinned` afterwards. Pinning an earlier approved
    version is the rollback. The item's row is locked so that two owners pinning at once
    end with exactly one pin."""
    item = version.item
    if not can_manage_item(actor, item):
        raise PermissionDenied(f"Only the owners of {item.slug} may pin its versions.")
    if previous_allowed_until is not None:
        rollout_window_check(previous_allowed_until)
    with transaction.atomic():
        CatalogItem.objects.select_for_update().get(pk=item.pk)
        version.refresh_from_db()
        if version.review_state != VersionReviewState.APPROVED or version.is_yanked:
            raise Conflict(
                f"{version} is {'yanked' if version.is_yanked else version.review_state}; "
                "only an approved, unyanked version can be pinned."
            )
        previous = item.versions.filter(is_pinned=True).first()
        if previous is not None and previous.pk == version.pk:
            return version
        if previous is None and previous_allowed_until is not None:
            raise Conflict(
                f"{item.slug} has no pinned version to keep allowed during a rollout window.",
                code="no_previous_version",
            )
        _pin_swap(version, previous, previous_allowed_until)
        revision = policy_revision_bump()
        audit_event_record(
            event_type=EventType.CATALOG_VERSION_PINNED,
            actor=actor,
            target=item,
            policy_revision=revision,
            plugin=str(version),
            changes=_pin_changes(version, previous, previous_allowed_until),
        )
    return version


def _pin_swap(
    version: CatalogVersion, previous: CatalogVersion | None, until: datetime | None
) -> None:
    if previous is not None:
        CatalogVersion.objects.filter(pk=previous.pk).update(is_pinned=False, allowed_until=until)
    CatalogVersion.objects.filter(pk=version.pk).update(
        is_pinned=True, pinned_at=timezone.now(), allowed_until=None
    )
    version.refresh_from_db()


def _pin_changes(
    version: CatalogVersion, previous: CatalogVersion | None, until: datetime | None
) -> dict[str, Any]:
    after: dict[str, Any] = {"pinned_version": version.version}
    if until is not None:
        after["rollout_window"] = {"version": previous.version, "allowed_until": until.isoformat()}
    return {"before": {"pinned_version": previous.version if previous else None}, "after": after}


def catalog_version_window_end(version: CatalogVersion, *, actor: Any) -> CatalogVersion:
    """End a rollout window now: the version is refused with `version_not_pinned` from the
    next decision on."""
    item = version.item
    if not can_manage_item(actor, item):
        raise PermissionDenied(f"Only the owners of {item.slug} may end its rollout windows.")
    with transaction.atomic():
        version = CatalogVersion.objects.select_for_update().get(pk=version.pk)
        if version.allowed_until is None:
            raise Conflict(f"{version} has no rollout window.", code="no_rollout_window")
        until = version.allowed_until
        version.allowed_until = None
        version.save(update_fields=["allowed_until"])
        revision = policy_revision_bump()
        audit_event_record(
            event_type=EventType.CONFIG_UPDATED,
            actor=actor,
            target=item,
            policy_revision=revision,
            plugin=str(version),
            changes={
                "before": {
                    "rollout_window": {
                        "version": version.version,
                        "allowed_until": until.isoformat(),
                    }
                },
                "after": {"rollout_window": None},
            },
        )
    return version


def catalog_version_yank(version: CatalogVersion, *, actor: Any, reason: str) -> CatalogVersion:
    """Withdraw a version: decisions naming it are refused with `version_yanked`.

    Yanking the pinned version (an emergency) also unpins it, leaving the item without
    a usable version until an owner pins another one; the record says so."""
    item = version.item
    if not can_manage_item(actor, item):
        raise PermissionDenied(f"Only the owners of {item.slug} may yank its versions.")
    if not reason.strip():
        raise Conflict("Give a reason for yanking a version.")
    with transaction.atomic():
        version = CatalogVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_yanked:
            raise Conflict(f"{version} is already yanked.")
        was_pinned = version.is_pinned
        version.is_pinned = False
        version.allowed_until = None  # a yanked version is refused, window or not
        version.yanked_at = timezone.now()
        version.yank_reason = reason
        version.save(update_fields=["is_pinned", "allowed_until", "yanked_at", "yank_reason"])
        revision = policy_revision_bump()
        audit_event_record(
            event_type=EventType.CATALOG_VERSION_YANKED,
            actor=actor,
            target=item,
            policy_revision=revision,
            plugin=str(version),
            changes={
                "before": {"yanked": False, "pinned": was_pinned},
                "after": {"yanked": True, "pinned": False, "reason": reason},
            },
        )
    return version


def catalog_tool_definitions_change_report(
    item: CatalogItem,
    *,
    actor: Any,
    version: str | None,
    expected_digest: str,
    found_digest: str,
    tools: list[dict],
) -> None:
    """A gateway found an MCP server exposing other tools than its pinned version was
    reviewed with (a changed description, schema or annotation, a tool added or removed):
    record it and e-mail the item's owners. The gateway already refuses every call."""
    from agent_governance.tool_definitions import ToolDefinitionsError, tools_digest

    try:
        recomputed = tools_digest(tools)
    except ToolDefinitionsError:
        recomputed = None
    with transaction.atomic():
        event = audit_event_record(
            event_type=EventType.TOOL_DEFINITIONS_CHANGED,
            actor=actor,
            target=item,
            outcome="deny",
            reason="tool_definitions_changed",
            plugin=f"{item.slug}@{version}" if version else "",
            detail={
                "version": version,
                "expected_digest": expected_digest,
                "found_digest": found_digest,
                "digest_matches_tools": recomputed == found_digest,
                "tools": tools,
            },
        )
        transaction.on_commit(lambda: _notify_owners_task(event.pk))


def _notify_owners_task(event_id: int) -> None:
    from catalog.tasks import notify_tool_definitions_changed

    notify_tool_definitions_changed.delay(event_id)
