"""Where the console's answer, or the lack of one, becomes what the agent may do.

The Claude Code hook (the command, and the console's HTTP hook endpoint) and the MCP
gateway answer through these functions, so that an answer cannot be an allow in one and a
deny in another. Only a decision whose status is `allowed` or `approved` lets the call run;
every other status (pending, denied, rejected, expired, or one this client does not know)
refuses it, and no usable answer at all (a GovernanceDenied: timeout, refused connection,
redirect, error status, unreadable or mismatched answer) refuses it with the error's stable
code first. A pending decision is `ask` only where the policy lets the person who launched
the agent confirm it; otherwise it is a deny that says who must approve it."""

from __future__ import annotations

from typing import Any

from agent_governance.errors import GovernanceDenied
from agent_governance.models import ALLOWED, PENDING, Decision

PRE = "PreToolUse"


def answer(
    decision: str, reason: str, updated_input: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A PreToolUse answer, exactly as Claude Code reads it."""
    output: dict[str, Any] = {
        "hookEventName": PRE,
        "permissionDecision": decision,
        "permissionDecisionReason": reason,
    }
    if updated_input is not None:
        output["updatedInput"] = updated_input
    return {"hookSpecificOutput": output}


def decision_answer(
    *,
    status: str,
    reason: str,
    message: str,
    action: str,
    approval: str | None = None,
    updated_input: dict[str, Any] | None = None,
    waiting_for: str | None = None,
    link: str | None = None,
    confirmable: bool = False,
) -> dict[str, Any]:
    """The PreToolUse answer for a decision in any state."""
    because = f"{reason}: {message}"
    if status in ALLOWED:
        return answer("allow", f"{status} ({approval or 'auto'}) {because}", updated_input)
    if status == PENDING and confirmable:
        return answer(
            "ask",
            f"launcher_may_confirm: the policy lets the person who launched the agent "
            f"confirm {action} here. {because}",
        )
    if status == PENDING:
        return answer(
            "deny",
            f"approval_pending: {action} is waiting for {waiting_for or 'a person'} to "
            f"approve it{f' ({link})' if link else ''}. Retry the same call later: once it "
            f"is approved it runs. {because}",
        )
    return answer("deny", f"{status}: {because}")


def refusal_reason(error: GovernanceDenied) -> str:
    """The reason given when the console gave no usable answer: its stable code first."""
    return f"{error.code}: {error} Denied because the console gave no usable answer."


def call_refusal(decision: Decision) -> str | None:
    """Why the MCP gateway must not forward the call, or None when it may (allowed, or
    approved by a person: with `decision.params`, which a person may have edited)."""
    if decision.status in ALLOWED:
        return None
    state = "approval_pending" if decision.status == PENDING else decision.status
    return f"{state}: {decision.reason}: {decision.message}"
