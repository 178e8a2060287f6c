"""The digest of what an MCP server exposes: the canonical JSON of its `tools/list`.

A catalog version of an MCP server records this digest when it is reviewed, and the
governed gateway compares the live server against it at every start: a server that
changed a tool's description, input schema or annotations, or added or removed a tool,
under the same version is refused (`tool_definitions_changed`). Standard library only,
so the console and the gateway compute the very same digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

FIELDS = ("name", "description", "inputSchema", "annotations")


class ToolDefinitionsError(ValueError):
    """Not a tools/list result."""


def canonical_tools(tools: Any) -> list[dict[str, Any]]:
    """The reviewed part of each tool (name, description, input schema, annotations),
    sorted by name. Accepts a tools/list result ({"tools": [...]}) or its list."""
    if isinstance(tools, Mapping):
        tools = tools.get("tools")
    if not isinstance(tools, list):
        raise ToolDefinitionsError('Give the tools/list result: {"tools": [...]} or a list.')
    result = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise ToolDefinitionsError(f"tools[{index}] is not a tool with a name.")
        result.append({name: _plain(tool.get(name)) for name in FIELDS})
    names = [t["name"] for t in result]
    if len(names) != len(set(names)):
        raise ToolDefinitionsError("Two tools have the same name.")
    return sorted(result, key=lambda t: t["name"])


def _plain(value: Any) -> Any:
    """Drop null members of annotations/schemas so that absent and null read the same."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def tools_digest(tools: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> str:
    """sha256:<hex> of the canonical JSON of the tools."""
    text = json.dumps(
        canonical_tools(tools), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
