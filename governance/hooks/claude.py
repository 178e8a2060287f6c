"""The Claude Code HTTP hook: Claude Code's hook event in, Claude Code's answer out.

PreToolUse: map the tool call (the console's tool mappings), decide it through the
ordinary decision service, hold a pending decision up to HOOK_WAIT_SECONDS (long-poll)
and answer allow / deny / ask. PostToolUse and PostToolUseFailure: record the outcome of
the decision the call ran under, with the digest of the params it ran with; a tool that
ran without an executable decision is recorded as such.

The request id is derived from the session, the tool and its input, so the same call
retried after a person approved it finds its approved decision."""

from __future__ import annotations

import logging
import time
from typing import Any

from agent_governance.claude_code import (
    POST_EVENTS,
    event_problem,
    outcome_of,
    rationale_for,
    request_id_for,
    session_prefix,
)
from agent_governance.tool_mapping import MappingError, map_call
from agent_governance.verdicts import PRE, answer, decision_answer
from django.conf import settings
from django.urls import reverse

from approvals.services import approval_request_expire
from audit.choices import EventType
from audit.services import audit_event_record
from governance.api.serializers import DecisionRequestSerializer
from governance.choices import DecisionStatus
from governance.exceptions import ApplicationError
from governance.hooks.selectors import mcp_tool_annotations, tool_mapping_rules
from governance.models import ActionType, AgentRuntime, Decision
from governance.services import decision_create, decision_outcome_report, params_digest

logger = logging.getLogger("governance.hooks")
POLL_SECONDS = 0.5


def claude_hook_answer(
    *, runtime: AgentRuntime, event: Any, profile: str, on_behalf_of: str
) -> dict[str, Any]:
    """The answer to one hook event (never raises for bad input: that is a deny)."""
    problem = event_problem(event)
    name = event.get("hook_event_name") if isinstance(event, dict) else None
    if name in POST_EVENTS:
        return {} if problem else claude_outcome_record(runtime=runtime, event=event)
    if problem:
        return answer("deny", f"hook_input_invalid: {problem}.")
    if name != PRE:
        return {}
    if not profile or not on_behalf_of:
        return answer(
            "deny", "hook_not_configured: send the X-Agent-Profile and X-On-Behalf-Of headers."
        )
    return _pre_tool_use(runtime, event, profile, on_behalf_of)


def _pre_tool_use(runtime, event: dict, profile: str, on_behalf_of: str) -> dict[str, Any]:
    tool_name = event["tool_name"]
    try:
        mapped = map_call(
            tool_mapping_rules(),
            tool_name,
            event["tool_input"],
            cwd=event.get("cwd") or "/",
            annotations=mcp_tool_annotations(tool_name),
        )
    except MappingError as error:
        return answer("deny", f"mapping_incomplete: {tool_name}: {error}.")
    proposal = DecisionRequestSerializer(
        data={
            "request_id": request_id_for(event),
            "on_behalf_of": on_behalf_of,
            "profile": profile,
            "action": mapped.action,
            "connector": mapped.connector,
            "data_sources": mapped.data_sources,
            "params": event["tool_input"],
            "rationale": rationale_for(event),
        }
    )
    if not proposal.is_valid():
        return answer("deny", f"invalid_request: {_first_error(proposal.errors)}")
    try:
        decision, _ = decision_create(runtime=runtime, **proposal.validated_data)
    except ApplicationError as error:
        return answer("deny", f"{error.code}: {error.message}")
    return _answer_for(decision)


def _first_error(errors: Any) -> str:
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        return f"{key}: {_first_error(value)}"
    if isinstance(errors, list) and errors:
        return _first_error(errors[0])
    return str(errors)


def _answer_for(decision: Decision) -> dict[str, Any]:
    action_type = ActionType.objects.filter(key=decision.action).first()
    confirmable = bool(action_type and action_type.confirmable_by_launcher)
    if decision.status == DecisionStatus.PENDING and not confirmable:
        decision = decision_wait(decision, settings.GOVERNANCE["HOOK_WAIT_SECONDS"])
    approval = getattr(decision, "approval_request", None)
    return decision_answer(
        status=decision.status,
        reason=decision.reason,
        message=decision.message,
        action=decision.action,
        approval=decision.approval or None,
        updated_input=decision.approved_params
        if decision.status == DecisionStatus.APPROVED and decision.approved_params is not None
        else None,
        waiting_for=approval.group.name if approval and approval.group_id else None,
        link=settings.SITE_URL.rstrip("/")
        + reverse("approvals:approval_request_detail", args=[approval.pk])
        if approval
        else None,
        confirmable=confirmable,
    )


def decision_wait(decision: Decision, seconds: float) -> Decision:
    """Hold the request while a person decides, up to `seconds` (long-poll); one cheap
    status read per poll. A pending approval whose time is up is expired on the way out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = Decision.objects.filter(pk=decision.pk).values_list("status", flat=True).first()
        if status != DecisionStatus.PENDING:
            break
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    decision = Decision.objects.select_related("approval_request__group").get(pk=decision.pk)
    if decision.status == DecisionStatus.PENDING and approval_request_expire(
        decision.approval_request.pk
    ):
        decision = Decision.objects.select_related("approval_request__group").get(pk=decision.pk)
    return decision


def _decision_of(runtime: AgentRuntime, event: dict) -> Decision | None:
    """The decision a call ran under: by its request id, or (when a person edited the
    params, so the call ran with other input) by the approved params' digest."""
    found = Decision.objects.filter(runtime=runtime, request_id=request_id_for(event)).first()
    if found is not None:
        return found
    return (
        Decision.objects.filter(
            runtime=runtime,
            request_id__startswith=session_prefix(str(event.get("session_id", ""))),
            approved_params_digest=params_digest(event["tool_input"]),
        )
        .order_by("-created_at")
        .first()
    )


def claude_outcome_record(*, runtime: AgentRuntime, event: dict) -> dict[str, Any]:
    """Record what ran (PostToolUse: executed; PostToolUseFailure or an error: failed)."""
    decision = _decision_of(runtime, event)
    status = outcome_of(event)
    digest = params_digest(event["tool_input"])
    if decision is None:
        _ran_unapproved(runtime, event, None, "No decision was asked for this call.")
        return {}
    try:
        decision_outcome_report(
            decision,
            runtime=runtime,
            status=status,
            params_digest=digest,
            detail=f"Claude Code {event.get('hook_event_name')} for {event['tool_name']}.",
        )
    except ApplicationError as error:
        _ran_unapproved(runtime, event, decision, error.message)
    return {}


def _ran_unapproved(runtime, event: dict, decision: Decision | None, why: str) -> None:
    """A tool ran that no executable decision covers (a launcher's local confirmation, a
    bypassed hook, other params than approved): the auditors must see it."""
    audit_event_record(
        event_type=EventType.TOOL_RAN_UNAPPROVED,
        actor=runtime,
        decision=decision,
        outcome=outcome_of(event),
        reason="tool_ran_unapproved",
        params_digest=params_digest(event["tool_input"]),
        detail={
            "why": why,
            "tool_name": event["tool_name"],
            "session_id": str(event.get("session_id", ""))[:200],
            "tool_use_id": str(event.get("tool_use_id", ""))[:200],
            "decision_status": decision.status if decision else None,
        },
    )
