"""API of the hooks: Claude Code's HTTP hook endpoint and the tool mappings the command
hook and the MCP gateway download."""

from __future__ import annotations

import json
import logging

from agent_governance.verdicts import PRE, answer
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.authentication import RuntimeTokenAuthentication
from governance.hooks.claude import claude_hook_answer
from governance.hooks.selectors import tool_mapping_document
from governance.permissions import IsAgentRuntime
from governance.selectors import policy_revision_current

logger = logging.getLogger("governance.hooks")

HOOK_ANSWER = inline_serializer(
    "ClaudeCodeHookAnswer",
    {
        "hookSpecificOutput": inline_serializer(
            "ClaudeCodeHookSpecificOutput",
            {
                "hookEventName": serializers.CharField(),
                "permissionDecision": serializers.ChoiceField(["allow", "deny", "ask"]),
                "permissionDecisionReason": serializers.CharField(),
                "updatedInput": serializers.DictField(required=False),
            },
            required=False,
        )
    },
)
HOOK_EVENT = inline_serializer(
    "ClaudeCodeHookEvent",
    {
        "session_id": serializers.CharField(),
        "transcript_path": serializers.CharField(required=False),
        "cwd": serializers.CharField(required=False),
        "permission_mode": serializers.CharField(required=False),
        "hook_event_name": serializers.ChoiceField(
            ["PreToolUse", "PostToolUse", "PostToolUseFailure"]
        ),
        "tool_name": serializers.CharField(),
        "tool_input": serializers.DictField(),
        "tool_use_id": serializers.CharField(required=False),
        "tool_response": serializers.JSONField(required=False),
    },
)


class ClaudeCodeHookView(APIView):
    """Claude Code's HTTP hook. Claude Code lets a tool run when an HTTP hook answers
    anything but a 2xx (or times out), so every answer here is a 200: a missing token,
    bad input or an internal error is a 200 with permissionDecision "deny"."""

    # Authenticated inside post(): a refused token must be a deny, not a 401.
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="hooks_claude_code",
        summary="Claude Code HTTP hook (PreToolUse, PostToolUse)",
        request=HOOK_EVENT,
        responses={200: HOOK_ANSWER},
        parameters=[
            OpenApiParameter("X-Agent-Profile", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-On-Behalf-Of", str, OpenApiParameter.HEADER, required=True),
        ],
    )
    def post(self, request):
        self.event = None
        self.event = json.loads(request.body.decode("utf-8"))
        runtime = self._runtime(request)
        if runtime is None:
            return Response(self._deny("hook_unauthenticated: send the runtime token."))
        body = claude_hook_answer(
            runtime=runtime,
            event=self.event,
            profile=request.headers.get("X-Agent-Profile", "").strip(),
            on_behalf_of=request.headers.get("X-On-Behalf-Of", "").strip(),
        )
        return Response(body)

    def _runtime(self, request):
        try:
            found = RuntimeTokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None
        return found[0] if found else None

    def _deny(self, reason: str) -> dict:
        """Deny a PreToolUse; answer other events (or unreadable ones) with a deny too,
        except recorded outcomes, which have nothing left to refuse."""
        event = self.event if isinstance(getattr(self, "event", None), dict) else {}
        if event.get("hook_event_name", PRE) != PRE:
            return {}
        return answer("deny", reason)

    def handle_exception(self, exc):
        """Whatever went wrong, Claude Code gets a 200 deny (never a 4xx/5xx it would
        treat as "no objection")."""
        if isinstance(exc, UnicodeDecodeError | ValueError):
            return Response(self._deny(f"hook_input_invalid: {exc}"))
        logger.exception("Claude Code hook failed", exc_info=exc)
        return Response(
            self._deny("hook_error: the console could not decide this call; it is denied.")
        )


TOOL_MAPPINGS = inline_serializer(
    "ToolMappings",
    {
        "policy_revision": serializers.IntegerField(),
        "unchanged": serializers.BooleanField(required=False),
        "rules": inline_serializer(
            "ToolMappingRule",
            {
                "tool": serializers.CharField(),
                "action": serializers.CharField(),
                "connector": serializers.CharField(),
                "data_sources": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
            required=False,
        ),
        "action_types": serializers.DictField(child=serializers.DictField(), required=False),
        "mcp_annotations": serializers.DictField(child=serializers.DictField(), required=False),
    },
)


class ToolMappingView(APIView):
    """GET the tool mappings with the policy revision they belong to; with
    ?revision=N and N still current, only {"policy_revision": N, "unchanged": true}."""

    authentication_classes = [RuntimeTokenAuthentication]
    permission_classes = [IsAgentRuntime]

    @extend_schema(
        operation_id="hooks_tool_mappings",
        parameters=[OpenApiParameter("revision", int, required=False)],
        responses={200: TOOL_MAPPINGS},
    )
    def get(self, request):
        revision, _ = policy_revision_current()
        asked = request.query_params.get("revision", "")
        if asked.isdigit() and int(asked) == revision:
            return Response({"policy_revision": revision, "unchanged": True})
        return Response(tool_mapping_document())
