"""The Claude Code command hook: ask the console before every tool call.

Claude Code runs the command with the hook event's JSON on standard input; the command
prints its answer as JSON and exits 0. For PreToolUse:

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "allow" | "deny" | "ask",
                            "permissionDecisionReason": "<reason code>: <message>",
                            "updatedInput": {...}}}      # when a person edited the params

PostToolUse (and PostToolUseFailure) events are passed on to the console's hook endpoint,
which records the outcome (executed or failed) with the params digest.

The mapping of tools to action types lives in the console (GET /api/v1/hooks/tool-mappings)
and is cached on disk with the policy revision it belongs to. A pending decision is
waited for (AGC_WAIT_SECONDS), then denied with a reason naming the approver group and
the link: the person at the keyboard is the one the agent acts for, so a local prompt
(`ask`) never stands in for an approval routed to someone else. `ask` is answered only
for action types the policy marks as confirmable by the launcher.

Configuration (environment): AGC_URL, AGC_TOKEN (the runtime token), AGC_PROFILE,
AGC_ON_BEHALF_OF (the person's e-mail), AGC_WAIT_SECONDS (default 120), AGC_MODEL,
AGC_TIMEOUT (seconds per HTTP request, default 10), AGC_CACHE_DIR (default
~/.cache/agent-governance).

Fails closed: an unreachable console, a bad answer or a broken configuration is a deny.
The pieces that turn an event into a request id (here) and a decision into an answer
(verdicts.py) are shared with the console's HTTP hook endpoint, so both answer the same
event the same way."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agent_governance.client import GovernanceClient
from agent_governance.errors import GovernanceDenied
from agent_governance.tool_mapping import MappingError, Rule, map_call, mcp_parts
from agent_governance.verdicts import answer, decision_answer, refusal_reason

POST_EVENTS = frozenset({"PostToolUse", "PostToolUseFailure"})
REQUIRED_ENV = ("AGC_URL", "AGC_TOKEN", "AGC_PROFILE", "AGC_ON_BEHALF_OF")

# ---------------------------------------------------------------------------
# Shared with the console's HTTP hook endpoint


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def session_prefix(session_id: str) -> str:
    return f"cc-{_sha(session_id)[:16]}-"


def request_id_for(event: Mapping[str, Any]) -> str:
    """The same call (session, tool and input) always gets the same request id, so a call
    retried after a person approved it finds its approved decision."""
    call = json.dumps(
        [event.get("tool_name"), event.get("tool_input")],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return session_prefix(str(event.get("session_id", ""))) + _sha(call)[:40]


def rationale_for(event: Mapping[str, Any]) -> str:
    """Stable across retries (it is part of the request's fingerprint)."""
    return f"Claude Code runs {event.get('tool_name')} in {event.get('cwd') or '?'}."


def event_problem(event: Any) -> str | None:
    """Why `event` is not a tool event Claude Code sends, or None."""
    if not isinstance(event, dict):
        return "the hook input is not a JSON object"
    if not isinstance(event.get("tool_name"), str) or not event["tool_name"]:
        return "the hook input has no tool_name"
    if not isinstance(event.get("tool_input"), dict):
        return "the hook input has no tool_input object"
    if not isinstance(event.get("session_id", ""), str):
        return "session_id is not a string"
    return None


def outcome_of(event: Mapping[str, Any]) -> str:
    """executed, or failed when Claude Code says the tool failed."""
    if event.get("hook_event_name") == "PostToolUseFailure":
        return "failed"
    response = event.get("tool_response")
    if isinstance(response, dict) and (
        response.get("success") is False
        or response.get("is_error") is True
        or response.get("isError") is True
        or response.get("interrupted") is True
    ):
        return "failed"
    return "executed"


# ---------------------------------------------------------------------------
# The mapping, from the console, cached with its policy revision


@dataclass
class MappingDocument:
    policy_revision: int
    rules: list[Rule]
    action_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    mcp_annotations: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MappingDocument:
        return cls(
            policy_revision=int(data["policy_revision"]),
            rules=[Rule.from_json(r) for r in data["rules"]],
            action_types=dict(data.get("action_types") or {}),
            mcp_annotations=dict(data.get("mcp_annotations") or {}),
        )

    def annotations(self, tool_name: str) -> dict[str, Any] | None:
        parts = mcp_parts(tool_name)
        return self.mcp_annotations.get(parts[0], {}).get(parts[1]) if parts else None


def _cache_file(env: Mapping[str, str]) -> Path:
    root = Path(env.get("AGC_CACHE_DIR") or Path.home() / ".cache" / "agent-governance")
    return root / f"tool-mappings-{_sha(env['AGC_URL'])[:16]}.json"


def mapping_load(client: GovernanceClient, env: Mapping[str, str]) -> MappingDocument:
    """The console's mapping: the cached copy while its policy revision is current."""
    path = _cache_file(env)
    cached = None
    with contextlib.suppress(OSError, ValueError):
        cached = json.loads(path.read_text("utf-8"))
    revision = cached.get("policy_revision") if isinstance(cached, dict) else None
    body = client.tool_mappings(revision)
    if body.get("unchanged") and cached and body.get("policy_revision") == revision:
        return MappingDocument.from_json(cached)
    document = MappingDocument.from_json(body)
    _cache_write(path, body)
    return document


def _cache_write(path: Path, body: Mapping[str, Any]) -> None:
    """Write atomically; a cache that cannot be written only costs a download."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            json.dump(body, handle)
        os.replace(handle.name, path)
    except OSError:
        pass


# ---------------------------------------------------------------------------
# The command


def decide(event: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The hook's answer for one event (PreToolUse: a decision; PostToolUse: {})."""
    problem = event_problem(event)
    if problem:
        return answer("deny", f"hook_input_invalid: {problem}.")
    missing = [name for name in REQUIRED_ENV if not env.get(name)]
    if missing:
        return answer(
            "deny", f"hook_not_configured: set {', '.join(missing)} for the governance hook."
        )
    client = GovernanceClient(
        env["AGC_URL"], env["AGC_TOKEN"], timeout=float(env.get("AGC_TIMEOUT", "10"))
    )
    if event.get("hook_event_name") in POST_EVENTS:
        return _relay_outcome(client, event, env)
    try:
        return _pre_tool_use(client, event, env)
    except GovernanceDenied as error:
        return answer("deny", refusal_reason(error))


def _pre_tool_use(client: GovernanceClient, event: dict, env: Mapping[str, str]) -> dict:
    document = mapping_load(client, env)
    tool_name, tool_input = event["tool_name"], event["tool_input"]
    try:
        mapped = map_call(
            document.rules,
            tool_name,
            tool_input,
            cwd=event.get("cwd") or os.getcwd(),
            annotations=document.annotations(tool_name),
        )
    except MappingError as error:
        return answer("deny", f"mapping_incomplete: {tool_name}: {error}.")
    decision = client.decide(
        request_id=request_id_for(event),
        on_behalf_of=env["AGC_ON_BEHALF_OF"],
        profile=env["AGC_PROFILE"],
        action=mapped.action,
        connector=mapped.connector,
        data_sources=mapped.data_sources,
        model=env.get("AGC_MODEL", ""),
        params=tool_input,
        rationale=rationale_for(event),
    )
    policy = document.action_types.get(decision.action, {})
    confirmable = bool(policy.get("confirmable_by_launcher"))
    if decision.pending and not confirmable:
        decision = client.wait(decision.decision_id, float(env.get("AGC_WAIT_SECONDS", "120")))
    return decision_answer(
        status=decision.status,
        reason=decision.reason,
        message=decision.message,
        action=decision.action,
        approval=decision.approval,
        updated_input=decision.params if decision.allowed and decision.edited else None,
        waiting_for=policy.get("approver_group"),
        link=f"{client.base_url}/approvals/{decision.approval_id}/"
        if decision.approval_id
        else None,
        confirmable=confirmable,
    )


def _relay_outcome(client: GovernanceClient, event: dict, env: Mapping[str, str]) -> dict:
    """The console records what ran; the tool already ran, so nothing is refused here."""
    try:
        client.hook_event(event, profile=env["AGC_PROFILE"], on_behalf_of=env["AGC_ON_BEHALF_OF"])
    except GovernanceDenied as error:
        print(f"agc-claude-hook: the outcome was not recorded: {error}", file=sys.stderr)
    return {}


def main(
    stdin: TextIO | None = None, stdout: TextIO | None = None, env: dict[str, str] | None = None
) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    try:
        event = json.load(stdin)
    except ValueError as error:
        result = answer("deny", f"hook_input_invalid: {error}")
    else:
        try:
            result = decide(event, dict(os.environ if env is None else env))
        except Exception as error:  # noqa: BLE001 - whatever breaks, the answer is a deny
            result = answer("deny", f"hook_error: {type(error).__name__}: {error}")
    json.dump(result, stdout)
    stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
