"""Why an action must not run. Every failure is a deny: catching `GovernanceDenied`
catches them all, so an agent that does only that fails closed.

    GovernanceDenied
    ├── ActionDenied            the console answered deny, or a person rejected it,
    │                           or the approval expired (`.decision` says which)
    ├── ApprovalPending         still waiting for a person when the wait ran out
    └── ConsoleError            no usable answer: treat as deny
        ├── ConsoleUnavailable  network error, refused connection, 5xx
        ├── ConsoleTimeout      no answer in time
        ├── ConsoleHTTPError    another non-2xx answer (bad request, bad token, ...)
        ├── ConsoleRedirect     a 3xx answer: redirects are never followed, so the token
        │                       never reaches another address
        └── ConsoleProtocolError an answer that is not the JSON the API promises, or
                                that answers another question (request_id or
                                decision_id not the one asked)

Each class has a stable `code` (`console_unavailable`, ...) that the Claude Code hook and
the MCP gateway put at the start of their refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_governance.models import Decision


class GovernanceDenied(Exception):
    """Do not act."""

    code = "denied"


class ActionDenied(GovernanceDenied):
    code = "action_denied"

    def __init__(self, decision: Decision):
        super().__init__(f"{decision.status}: {decision.reason}: {decision.message}")
        self.decision = decision


class ApprovalPending(GovernanceDenied):
    code = "approval_pending"

    def __init__(self, decision: Decision):
        super().__init__(
            f"Still waiting for a person to approve {decision.action} ({decision.decision_id})."
        )
        self.decision = decision


class ConsoleError(GovernanceDenied):
    """The console gave no usable answer."""

    code = "console_error"


class ConsoleUnavailable(ConsoleError):
    code = "console_unavailable"


class ConsoleTimeout(ConsoleError):
    code = "console_timeout"


class ConsoleHTTPError(ConsoleError):
    code = "console_http_error"

    def __init__(self, status: int, body: object):
        code = body.get("code", "") if isinstance(body, dict) else ""
        detail = body.get("detail", "") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"HTTP {status} {code}: {detail}".strip())
        self.status = status
        self.body = body


class ConsoleRedirect(ConsoleError):
    """The console answered 3xx. Following it would send the runtime's token, and trust
    the answer of, whatever address the redirect names: refused instead."""

    code = "console_redirect"

    def __init__(self, status: int, location: str | None, url: str):
        where = f" to {location}" if location else ""
        super().__init__(
            f"HTTP {status}: {url} redirected{where}; redirects are refused (the runtime's "
            "token is sent to the configured console only). Set the console's URL to the "
            "address that answers directly (scheme, host and port)."
        )
        self.status = status
        self.location = location


class ConsoleProtocolError(ConsoleError):
    code = "console_protocol_error"
