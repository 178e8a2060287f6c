"""managed-settings.json (and managed-mcp.json) for Claude Code, generated for a runtime
and a profile: governing Claude Code is a download from the console.

- The hooks are wired for PreToolUse, PostToolUse and PostToolUseFailure (matcher `*`):
  by default the command hook (`agc-claude-hook`), optionally the HTTP hook endpoint.
  Both carry `onFailure: "block"` (Claude Code v2.1.295 or later): otherwise a hook that
  times out, cannot start or (HTTP) answers anything but a 2xx lets the tool run.
- `allowManagedHooksOnly` and `allowManagedPermissionRulesOnly`: users cannot add hooks
  or permission rules of their own that would get round these.
- `permissions.deny`: the tools that no action type of the profile allows (they would
  be denied by the console anyway; denying them here saves the round trip).
- The MCP servers the profile may use (its granted connectors that the gateway reaches),
  in `allowedMcpServers`, and in managed-mcp.json each started through the governed MCP
  gateway, which checks the catalog's pinned version and its tool definitions.
- Secrets are never written: the runtime token and the person's e-mail are referenced as
  environment variables (AGC_TOKEN, AGC_ON_BEHALF_OF; `allowedEnvVars` for the HTTP hook).

Every document is validated against the schemas in hooks/schemas/ before it is served."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from agent_governance.tool_mapping import action_for

from catalog.models import CatalogItem
from governance.engine import matches_any
from governance.exceptions import ValidationFailed
from governance.hooks.selectors import mcp_annotations_all, tool_mapping_rules
from governance.models import AgentRuntime, PermissionProfile

SCHEMAS = Path(__file__).with_name("schemas")
BUILT_IN_TOOLS = (
    "Bash", "Edit", "Glob", "Grep", "MultiEdit", "NotebookEdit", "Read", "WebFetch",
    "WebSearch", "Write",
)  # fmt: skip
EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
SECRET_ENV = ("AGC_TOKEN", "AGC_ON_BEHALF_OF")
HOOK_KINDS = ("command", "http")


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"claude-code-{name}.schema.json").read_text("utf-8"))


def settings_validate(document: dict[str, Any], name: str) -> list[str]:
    """The schema errors of a generated document (empty when it is valid)."""
    validator = jsonschema.Draft202012Validator(schema(name))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def _profile_of(runtime: AgentRuntime, slug: str) -> PermissionProfile:
    profile = runtime.profiles.filter(slug=slug).first()
    if profile is None:
        raise ValidationFailed(f"Runtime '{runtime.name}' may not use a profile '{slug}'.")
    return profile


def _hook(kind: str, *, base_url: str, profile: str, wait_seconds: float) -> dict[str, Any]:
    if kind == "command":
        # The hook's own HTTP requests get 10 s each on top of its wait for a person.
        return {
            "type": "command",
            "command": "agc-claude-hook",
            "timeout": int(wait_seconds) + 30,
            "onFailure": "block",
        }
    return {
        "type": "http",
        "url": f"{base_url}/api/v1/hooks/claude-code",
        "headers": {
            "Authorization": "Bearer ${AGC_TOKEN}",
            "X-Agent-Profile": profile,
            "X-On-Behalf-Of": "${AGC_ON_BEHALF_OF}",
        },
        "allowedEnvVars": list(SECRET_ENV),
        "timeout": int(wait_seconds) + 15,
        "onFailure": "block",
    }


def denied_tools(profile: PermissionProfile) -> list[str]:
    """Tools whose action type (through the console's mapping) the profile never allows:
    Claude Code's built-in tools, the tools named exactly by a mapping, and the reviewed
    tools of the MCP servers in the catalog."""
    rules = tool_mapping_rules()
    annotations = mcp_annotations_all()
    names = set(BUILT_IN_TOOLS) | {r.tool for r in rules if not any(c in r.tool for c in "*?[")}
    names |= {f"mcp__{server}__{tool}" for server, tools in annotations.items() for tool in tools}
    patterns = tuple(profile.action_types)

    def annotation(name: str) -> dict | None:
        _, _, rest = name.partition("mcp__")
        server, _, tool = rest.partition("__")
        return annotations.get(server, {}).get(tool) if rest else None

    return sorted(
        name
        for name in names
        if not matches_any(action_for(rules, name, annotation(name)), patterns)
    )


def mcp_connectors(profile: PermissionProfile) -> list[CatalogItem]:
    """The approved connectors the profile is granted that the MCP gateway can reach."""
    slugs = set(profile.grants.values_list("connector__slug", flat=True))
    return [
        item
        for item in CatalogItem.objects.connectors().approved().filter(slug__in=slugs)
        if item.mcp_server
    ]


def claude_settings_build(
    *,
    runtime: AgentRuntime,
    profile: str,
    base_url: str,
    hook: str = "command",
    wait_seconds: float = 60,
) -> dict[str, Any]:
    """managed-settings.json for `runtime` working under `profile` (validated)."""
    if hook not in HOOK_KINDS:
        raise ValidationFailed(f"hook must be one of {', '.join(HOOK_KINDS)}.")
    chosen = _profile_of(runtime, profile)
    base_url = base_url.rstrip("/")
    entry = _hook(hook, base_url=base_url, profile=chosen.slug, wait_seconds=wait_seconds)
    document: dict[str, Any] = {
        "env": {
            "AGC_URL": base_url,
            "AGC_PROFILE": chosen.slug,
            "AGC_WAIT_SECONDS": str(int(wait_seconds)),
        },
        "hooks": {event: [{"matcher": "*", "hooks": [entry]}] for event in EVENTS},
        "allowManagedHooksOnly": True,
        "allowManagedPermissionRulesOnly": True,
        "permissions": {
            "deny": denied_tools(chosen),
            "disableBypassPermissionsMode": "disable",
        },
        "allowManagedMcpServersOnly": True,
        "allowedMcpServers": [{"serverName": item.slug} for item in mcp_connectors(chosen)],
    }
    if hook == "http":
        document["allowedHttpHookUrls"] = [f"{base_url}/api/v1/hooks/*"]
        document["httpHookAllowedEnvVars"] = list(SECRET_ENV)
    return _checked(document, "managed-settings")


def managed_mcp_build(*, runtime: AgentRuntime, profile: str, base_url: str) -> dict[str, Any]:
    """managed-mcp.json: each MCP server of the profile, through the governed gateway."""
    chosen = _profile_of(runtime, profile)
    servers = {}
    for item in mcp_connectors(chosen):
        secrets = sorted(
            {
                value[2:-1]
                for value in (item.mcp_server.get("env") or {}).values()
                if value.startswith("${") and value.endswith("}")
            }
        )
        servers[item.slug] = {
            "type": "stdio",
            "command": "agc-mcp-gateway",
            "args": [
                "--url",
                base_url.rstrip("/"),
                "--profile",
                chosen.slug,
                "--on-behalf-of",
                "${AGC_ON_BEHALF_OF}",
                "--connector",
                item.slug,
            ],  # fmt: skip
            "env": {name: f"${{{name}}}" for name in ["AGC_TOKEN", *secrets]},
        }
    return _checked({"mcpServers": servers}, "managed-mcp")


def _checked(document: dict[str, Any], name: str) -> dict[str, Any]:
    errors = settings_validate(document, name)
    if errors:  # a bug of the generator: never serve a file Claude Code would misread
        raise ValidationFailed(f"The generated {name}.json is invalid: {'; '.join(errors)}")
    return document
