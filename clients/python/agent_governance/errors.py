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
        └── ConsoleProtocolError an answer that is not the JSON the API promises
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_governance.models import Decision


class GovernanceDenied(Exception):
    """Do not act."""


class ActionDenied(GovernanceDenied):
    def __init__(self, decision: Decision):
        super().__init__(f"{decision.status}: {decision.reason}: {decision.message}")
        self.decision = decision


class ApprovalPending(GovernanceDenied):
    def __init__(self, decision: Decision):
        super().__init__(
            f"Still waiting for a person to approve {decision.action} ({decision.decision_id})."
        )
        self.decision = decision


class ConsoleError(GovernanceDenied):
    """The console gave no usable answer."""


class ConsoleUnavailable(ConsoleError):
    pass


class ConsoleTimeout(ConsoleError):
    pass


class ConsoleHTTPError(ConsoleError):
    def __init__(self, status: int, body: object):
        code = body.get("code", "") if isinstance(body, dict) else ""
        detail = body.get("detail", "") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"HTTP {status} {code}: {detail}".strip())
        self.status = status
        self.body = body


class ConsoleProtocolError(ConsoleError):
    pass
