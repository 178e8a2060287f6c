"""Writes of the tool mappings: governed configuration like any other (audited with
before and after, and each bumps the policy revision that hooks cache the mapping by)."""

from __future__ import annotations

from typing import Any

from governance.models import ToolMapping
from governance.services import config_object_delete, config_object_save, require_policy_admin

MAPPING_FIELDS = {"tool", "action", "connector", "data_sources", "description"}


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    from governance.exceptions import ValidationFailed

    unknown = set(fields) - MAPPING_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    return fields


def tool_mapping_create(*, actor: Any, **fields: Any) -> ToolMapping:
    """Map a tool name or pattern to an action type, connector and data sources."""
    require_policy_admin(actor)
    return config_object_save(ToolMapping(), actor=actor, fields=_fields(fields))


def tool_mapping_update(mapping: ToolMapping, *, actor: Any, **fields: Any) -> ToolMapping:
    """Change a mapping; hooks see it at their next call (the policy revision moved)."""
    require_policy_admin(actor)
    return config_object_save(mapping, actor=actor, fields=_fields(fields))


def tool_mapping_delete(mapping: ToolMapping, *, actor: Any) -> None:
    """Remove a mapping: the tools it covered fall back to the default-to-human rule."""
    require_policy_admin(actor)
    config_object_delete(mapping, actor=actor)
