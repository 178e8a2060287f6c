"""A Claude Code PreToolUse hook: ask the console before every tool call.

Claude Code runs the command with the hook's JSON on standard input; the command prints
its answer as JSON and exits 0:

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "allow" | "deny" | "ask",
                            "permissionDecisionReason": "<reason code>: <message>",
                            "updatedInput": {...}}}      # when a person edited the params

Configuration (environment): AGC_URL, AGC_TOKEN (the runtime token), AGC_PROFILE,
AGC_ON_BEHALF_OF (the person's e-mail), AGC_MAPPING (a TOML file; default: the packaged
claude_code_mapping.toml), AGC_WAIT_SECONDS (how long to wait for a person, default 120),
AGC_PENDING (what to answer when nobody decided in time: deny (default) or ask),
AGC_MODEL, AGC_TIMEOUT (seconds per HTTP request, default 10).

Fails closed: an unreachable console, a bad answer or a broken configuration is a deny."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from agent_governance.client import GovernanceClient
from agent_governance.errors import GovernanceDenied

PATH_FIELDS = ("file_path", "notebook_path", "path")
DEFAULT_MAPPING = Path(__file__).with_name("claude_code_mapping.toml")


@dataclass(frozen=True)
class Mapped:
    action: str
    connector: str | None
    data_sources: list[str]


def load_mapping(path: str | None) -> dict[str, Any]:
    with open(path or DEFAULT_MAPPING, "rb") as handle:
        return tomllib.load(handle)


def _source(value: str, field: str, cwd: str) -> str:
    if field not in PATH_FIELDS:
        return value
    path = Path(value if os.path.isabs(value) else os.path.join(cwd, value)).resolve()
    root = Path(cwd).resolve()
    if path == root or root in path.parents:
        return f"repo:{path.relative_to(root).as_posix() or '.'}"
    return f"fs:{path.as_posix()}"


def map_tool(
    mapping: dict[str, Any], tool_name: str, tool_input: dict[str, Any], cwd: str
) -> Mapped | None:
    """The governed action of a tool call, or None when the mapping does not cover it."""
    if tool_name.startswith("mcp__"):
        _, server, tool = (tool_name.split("__", 2) + ["", ""])[:3]
        if not server or not tool:
            return None
        action = (
            mapping.get("mcp", {}).get(server, {}).get("tools", {}).get(tool, f"{server}.{tool}")
        )
        resource = tool_input.get("repo_path") or tool_input.get("path") or "*"
        return Mapped(action, server, [f"{server}:{resource}"])
    rule = mapping.get("tools", {}).get(tool_name)
    if rule is None:
        return None
    sources = []
    for template in rule.get("data_sources", []):
        field = template.strip("{}")
        value = tool_input.get(field)
        if isinstance(value, str) and value:
            sources.append(_source(value, field, cwd))
    return Mapped(rule["action"], rule.get("connector"), sources)


def answer(
    decision: str, reason: str, updated_input: dict[str, Any] | None = None
) -> dict[str, Any]:
    output: dict[str, Any] = {
        "hookEventName": "PreToolUse",
        "permissionDecision": decision,
        "permissionDecisionReason": reason,
    }
    if updated_input is not None:
        output["updatedInput"] = updated_input
    return {"hookSpecificOutput": output}


def refusal_reason(error: GovernanceDenied) -> str:
    """The reason given when the console gave no usable answer: its stable code first."""
    return f"{error.code}: {error} Denied because the console gave no usable answer."


def _request_id(payload: dict[str, Any]) -> str:
    """Stable per tool call, so a retried hook gets the same decision back."""
    key = (
        payload.get("tool_use_id")
        or hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
    )
    return f"cc-{payload.get('session_id', 'session')}-{key}"[:200]


def decide(payload: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The hook's answer for one PreToolUse payload."""
    tool_name = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if not isinstance(tool_name, str) or not isinstance(tool_input, dict):
        return answer(
            "deny", "hook_input_invalid: the hook's input has no tool_name or tool_input."
        )
    missing = [
        name
        for name in ("AGC_URL", "AGC_TOKEN", "AGC_PROFILE", "AGC_ON_BEHALF_OF")
        if not env.get(name)
    ]
    if missing:
        return answer(
            "deny", f"hook_not_configured: set {', '.join(missing)} for the governance hook."
        )
    mapping = load_mapping(env.get("AGC_MAPPING"))
    mapped = map_tool(mapping, tool_name, tool_input, payload.get("cwd") or os.getcwd())
    if mapped is None:
        unmapped = mapping.get("unmapped", "ask")
        return answer(unmapped, f"not_governed: {tool_name} is not in the governance mapping.")
    client = GovernanceClient(
        env["AGC_URL"], env["AGC_TOKEN"], timeout=float(env.get("AGC_TIMEOUT", "10"))
    )
    return _ask(client, payload, env, mapped, tool_input)


def _ask(client: GovernanceClient, payload, env, mapped: Mapped, tool_input) -> dict[str, Any]:
    try:
        decision = client.decide(
            request_id=_request_id(payload),
            on_behalf_of=env["AGC_ON_BEHALF_OF"],
            profile=env["AGC_PROFILE"],
            action=mapped.action,
            connector=mapped.connector,
            data_sources=mapped.data_sources,
            model=env.get("AGC_MODEL", ""),
            params=tool_input,
            rationale=f"Claude Code runs {payload['tool_name']} in {payload.get('cwd', '?')}.",
        )
        if decision.pending:
            decision = client.wait(decision.decision_id, float(env.get("AGC_WAIT_SECONDS", "120")))
    except GovernanceDenied as error:
        return answer("deny", refusal_reason(error))
    reason = f"{decision.reason}: {decision.message}"
    if decision.allowed:
        edited = decision.params if decision.edited else None
        return answer(
            "allow", f"{decision.status} ({decision.approval or 'auto'}) {reason}", edited
        )
    if decision.pending:
        fallback = env.get("AGC_PENDING", "deny")
        return answer(
            "ask" if fallback == "ask" else "deny",
            f"approval_pending: nobody approved it yet (approval {decision.approval_id}); {reason}",
        )
    return answer("deny", f"{decision.status}: {reason}")


def main(
    stdin: TextIO | None = None, stdout: TextIO | None = None, env: dict[str, str] | None = None
) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    try:
        payload = json.load(stdin)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        result = answer("deny", f"hook_input_invalid: {error}")
    else:
        try:
            result = decide(payload, dict(os.environ if env is None else env))
        except Exception as error:  # noqa: BLE001 - whatever breaks, the answer is a deny
            result = answer("deny", f"hook_error: {type(error).__name__}: {error}")
    json.dump(result, stdout)
    stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
