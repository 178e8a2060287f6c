"""Typed views of the console's answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

ALLOWED = frozenset({"allowed", "approved"})
PENDING = "pending"
FINAL_REFUSALS = frozenset({"denied", "rejected", "expired"})


def params_digest(params: dict[str, Any]) -> str:
    """The console's digest of a params object: SHA-256 of canonical JSON."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Decision:
    """A decision as GET /api/v1/decisions/{id} returns it."""

    decision_id: str
    request_id: str
    outcome: str  # allow | deny | pending (what was decided at first)
    status: str  # pending | allowed | denied | approved | rejected | expired | executed | ...
    reason: str
    message: str
    action: str
    params: dict[str, Any]
    params_digest: str
    edited: bool = False
    approval: str | None = None
    approval_id: int | None = None
    expires_at: str | None = None
    status_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Decision:
        return cls(
            decision_id=str(body["decision_id"]),
            request_id=str(body["request_id"]),
            outcome=body["outcome"],
            status=body["status"],
            reason=body["reason"],
            message=body.get("message", ""),
            action=body.get("action", ""),
            params=dict(body.get("params") or {}),
            params_digest=body["params_digest"],
            edited=bool(body.get("edited", False)),
            approval=body.get("approval"),
            approval_id=body.get("approval_id"),
            expires_at=body.get("expires_at"),
            status_url=body.get("status_url"),
            raw=body,
        )

    @property
    def allowed(self) -> bool:
        """True when the agent may act now (on `params`)."""
        return self.status in ALLOWED

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def refused(self) -> bool:
        return self.status in FINAL_REFUSALS
