"""Ask the Agent Governance Console before an agent acts.

from agent_governance import GovernanceClient, GovernanceDenied

client = GovernanceClient("https://governance.corp.example", token)
decision = client.decide(on_behalf_of="sam@corp.example", profile="account-summary",
                         action="crm.read_record", data_sources=["crm:account/42"])
"""

from agent_governance.client import GovernanceClient
from agent_governance.errors import (
    ActionDenied,
    ApprovalPending,
    ConsoleError,
    ConsoleHTTPError,
    ConsoleProtocolError,
    ConsoleRedirect,
    ConsoleTimeout,
    ConsoleUnavailable,
    GovernanceDenied,
)
from agent_governance.models import Decision, params_digest

__all__ = [
    "ActionDenied",
    "ApprovalPending",
    "ConsoleError",
    "ConsoleHTTPError",
    "ConsoleProtocolError",
    "ConsoleRedirect",
    "ConsoleTimeout",
    "ConsoleUnavailable",
    "Decision",
    "GovernanceClient",
    "GovernanceDenied",
    "params_digest",
]
