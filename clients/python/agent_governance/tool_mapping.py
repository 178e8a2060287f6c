"""Which governed action a tool call is: the mapping of tool names to action types.

Pure and standard-library only: the console uses it for its HTTP hook endpoint and its
"this tool call maps to ..." test box, the Claude Code command hook and the MCP gateway
use it on the agent's side, so both ends map a call the same way.

A rule maps a tool name or a `*` pattern (`Bash`, `Edit`, `mcp__git__*`, `mcp__*`) to:

- `action`: an action type key, where `{server}` and `{tool}` stand for the MCP server
  and tool of an `mcp__<server>__<tool>` name (`{tool}` without a leading `<server>_`);
- `connector`: the catalog connector the call changes (empty for a read), `{server}` too;
- `data_sources`: templates such as `repo:{file_path}`, where `{name}` is that field of
  the tool's input. A path inside the project becomes relative to it; a path outside it
  makes the data source `fs:<absolute path>`, which no profile grants.

The exact name wins over patterns, and a longer pattern over a shorter one. A tool no
rule covers follows the default-to-human rule through the `unmapped.*` action types,
chosen by the tool's MCP annotations where it has some: `unmapped.read_only` (read-only
hint), `unmapped.destructive` (destructive hint), `unmapped.other` (anything else)."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from agent_governance.paths import data_source

PATH_FIELDS = frozenset({"file_path", "notebook_path", "path"})
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
UNMAPPED_READ_ONLY = "unmapped.read_only"
UNMAPPED_DESTRUCTIVE = "unmapped.destructive"
UNMAPPED_OTHER = "unmapped.other"


class MappingError(ValueError):
    """A rule covers the call but cannot be applied to it (a field it needs is missing)."""


@dataclass(frozen=True)
class Rule:
    tool: str
    action: str
    connector: str = ""
    data_sources: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            tool=str(data["tool"]),
            action=str(data["action"]),
            connector=str(data.get("connector") or ""),
            data_sources=tuple(str(s) for s in data.get("data_sources") or ()),
        )


@dataclass(frozen=True)
class Mapped:
    """The governed action of one tool call."""

    action: str
    connector: str | None
    data_sources: list[str]
    rule: str | None  # the rule's tool pattern, or None for the unmapped default
    annotations: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        via = f"rule {self.rule!r}" if self.rule else "no rule: the default for unmapped tools"
        sources = ", ".join(self.data_sources) or "no data source"
        writes = f", changes {self.connector}" if self.connector else ""
        return f"{self.action} ({sources}{writes}; {via})"


def mcp_parts(tool_name: str) -> tuple[str, str] | None:
    """(server, tool) of an `mcp__<server>__<tool>` name, or None."""
    if not tool_name.startswith("mcp__"):
        return None
    server, _, tool = tool_name[5:].partition("__")
    return (server, tool) if server and tool else None


def specificity(pattern: str) -> tuple[int, int, str]:
    """Sort key: exact names first, then the longest literal part."""
    wild = any(c in pattern for c in "*?[")
    literal = len(re.sub(r"[*?\[\]]", "", pattern))
    return (1 if wild else 0, -literal, pattern)


def rule_for(rules: Iterable[Rule], tool_name: str) -> Rule | None:
    """The rule that covers `tool_name`: the exact one, else the most specific pattern."""
    matching = [r for r in rules if fnmatch.fnmatchcase(tool_name, r.tool)]
    return min(matching, key=lambda r: specificity(r.tool)) if matching else None


def _key_part(value: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", value.lower())


def _names(tool_name: str, *, key: bool) -> dict[str, str]:
    """{server} and {tool} of an MCP tool name; as action-key words when `key`."""
    parts = mcp_parts(tool_name)
    if parts is None:
        return {}
    server, tool = parts
    short = tool[len(server) + 1 :] if tool.startswith(f"{server}_") else tool
    return (
        {"server": _key_part(server), "tool": _key_part(short)}
        if key
        else {
            "server": server,
            "tool": short,
        }
    )


def _path_source(prefix: str, value: str, cwd: str) -> list[str]:
    """`prefix` + the path relative to the project, or fs:<absolute> outside it, in the
    console's data-source grammar (paths.py); nothing when it names the project itself."""
    base = PurePosixPath(os.path.normpath(cwd or "/"))
    raw = value if value.startswith("/") else f"{base}/{value}"
    path = PurePosixPath(os.path.normpath(raw))
    if path == base or base in path.parents:
        return data_source(prefix.rstrip(":"), path.relative_to(base).as_posix())
    return data_source("fs", path.as_posix())


def _source(
    template: str, tool_input: Mapping[str, Any], names: dict[str, str], cwd: str
) -> list[str]:
    """A data-source template filled in: the connector's part as written, each value in
    the resource part encoded as a path (`git:{repo_path}` with /r gives git:r)."""
    connector, sep, resource = template.partition(":")
    fields = PLACEHOLDER.findall(resource)
    if sep and len(fields) == 1 and resource == "{" + fields[0] + "}":
        value = _fill(resource, tool_input, names, cwd)
        connector = _fill(connector, tool_input, names, cwd)
        if fields[0] in PATH_FIELDS:
            return _path_source(f"{connector}:", value, cwd)
        return data_source(connector, value)
    filled = _fill(template, tool_input, names, cwd)
    return [filled] if filled else []


def _fill(template: str, tool_input: Mapping[str, Any], names: dict[str, str], cwd: str) -> str:
    fields = PLACEHOLDER.findall(template)
    values: dict[str, str] = {}
    for name in fields:
        if name in ("server", "tool"):
            values[name] = names.get(name, "")
            continue
        value = tool_input.get(name)
        if not isinstance(value, str | int) or value == "":
            raise MappingError(f"the tool's input has no {name} (the mapping needs it)")
        values[name] = str(value)
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def unmapped_action(annotations: Mapping[str, Any] | None) -> str:
    """The default action type of a tool no rule covers, from its MCP annotations."""
    annotations = annotations or {}
    if annotations.get("destructiveHint") is True:
        return UNMAPPED_DESTRUCTIVE
    if annotations.get("readOnlyHint") is True:
        return UNMAPPED_READ_ONLY
    return UNMAPPED_OTHER


def action_for(
    rules: Iterable[Rule], tool_name: str, annotations: Mapping[str, Any] | None = None
) -> str:
    """The action type a tool maps to, whatever its input (for listing what a profile can
    use: a rule's action depends only on the tool's name)."""
    rule = rule_for(rules, tool_name)
    if rule is None:
        return unmapped_action(annotations)
    return _fill(rule.action, {}, _names(tool_name, key=True), "/")


def map_call(
    rules: Iterable[Rule],
    tool_name: str,
    tool_input: Mapping[str, Any],
    *,
    cwd: str = "/",
    annotations: Mapping[str, Any] | None = None,
) -> Mapped:
    """The governed action of a tool call (raises MappingError when a rule cannot apply)."""
    names = _names(tool_name, key=False)
    rule = rule_for(rules, tool_name)
    if rule is None:
        action = unmapped_action(annotations)
        server = names.get("server")
        return Mapped(
            action=action,
            connector=server if server and action != UNMAPPED_READ_ONLY else None,
            data_sources=[],  # an unmapped tool names no data the console could check
            rule=None,
            annotations=dict(annotations or {}),
        )
    return Mapped(
        action=_fill(rule.action, tool_input, _names(tool_name, key=True), cwd),
        connector=_fill(rule.connector, tool_input, names, cwd) or None,
        data_sources=[s for t in rule.data_sources for s in _source(t, tool_input, names, cwd)],
        rule=rule.tool,
        annotations=dict(annotations or {}),
    )
