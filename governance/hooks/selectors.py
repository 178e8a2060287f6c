"""Reads for the hooks: the mapping rules (with the policy revision they belong to) and
the reviewed annotations of MCP tools."""

from __future__ import annotations

from typing import Any

from agent_governance.tool_mapping import Rule, mcp_parts

from catalog.models import CatalogVersion
from governance.models import ActionType, ToolMapping
from governance.selectors import policy_revision_current


def tool_mapping_rules() -> list[Rule]:
    return [
        Rule(m.tool, m.action, m.connector, tuple(m.data_sources))
        for m in ToolMapping.objects.order_by("tool")
    ]


def tool_mapping_document() -> dict[str, Any]:
    """What the command hook and the gateway download: the rules and the revision they
    belong to (a client keeps them until the revision moves)."""
    revision, _ = policy_revision_current()
    rules = tool_mapping_rules()
    return {
        "policy_revision": revision,
        "rules": [
            {
                "tool": r.tool,
                "action": r.action,
                "connector": r.connector,
                "data_sources": list(r.data_sources),
            }
            for r in rules
        ],
        "action_types": {
            at.key: {
                "approver_group": at.approver_group.name if at.approver_group else None,
                "confirmable_by_launcher": at.confirmable_by_launcher,
            }
            for at in ActionType.objects.select_related("approver_group")
        },
        "mcp_annotations": mcp_annotations_all(),
    }


def mcp_annotations_all() -> dict[str, dict[str, Any]]:
    """server slug -> tool -> annotations, from each MCP server's pinned catalog version."""
    versions = CatalogVersion.objects.filter(
        is_pinned=True, tool_definitions__isnull=False
    ).select_related("item")
    return {
        v.item.slug: {
            t["name"]: t.get("annotations") or {}
            for t in v.tool_definitions or []
            if isinstance(t, dict) and "name" in t
        }
        for v in versions
    }


def mcp_tool_annotations(tool_name: str) -> dict[str, Any] | None:
    """The annotations of an MCP tool as reviewed in its server's pinned catalog version
    (the server's slug is the <server> of mcp__<server>__<tool>), or None."""
    parts = mcp_parts(tool_name)
    if parts is None:
        return None
    server, tool = parts
    version = (
        CatalogVersion.objects.filter(item__slug=server, is_pinned=True)
        .only("tool_definitions")
        .first()
    )
    for definition in (version.tool_definitions if version else None) or []:
        if definition.get("name") == tool:
            return definition.get("annotations") or {}
    return None
