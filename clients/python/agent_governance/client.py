"""GovernanceClient: ask the console before acting, wait for a person when needed, and
report what was done. Standard library only; every failure is a deny."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from agent_governance.errors import (
    ActionDenied,
    ApprovalPending,
    ConsoleHTTPError,
    ConsoleProtocolError,
    ConsoleRedirect,
    ConsoleTimeout,
    ConsoleUnavailable,
    GovernanceDenied,
)
from agent_governance.models import Decision

F = TypeVar("F", bound=Callable[..., Any])
USER_AGENT = "agent-governance-client/0.1"
# Sent with every request, besides the runtime's token.
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": USER_AGENT,
}
# Who the Claude Code hook event is for (the console's HTTP hook endpoint reads them).
PROFILE_HEADER, ON_BEHALF_OF_HEADER = "X-Agent-Profile", "X-On-Behalf-Of"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would resend the Authorization header to whatever
    address the 3xx names. Returning None makes urllib raise the 3xx as an HTTPError,
    which `_send` turns into ConsoleRedirect."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Our own opener: a global one installed by the host program (install_opener) could follow
# redirects or add handlers of its own.
_OPENER = urllib.request.build_opener(_RefuseRedirects)


class GovernanceClient:
    """A client of the decision API for one agent runtime.

    `base_url` is the console (e.g. https://governance.corp.example), `token` the runtime's
    bearer token, `timeout` the seconds allowed for each HTTP request. `retries` transient
    failures (network errors, 502/503/504) are retried with backoff; a retried decide()
    reuses its request_id, so the console records one decision however many attempts."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, *, retries: int = 2):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries

    # -- HTTP ---------------------------------------------------------------

    def _request(
        self, path: str, body: dict | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """GET `path`, or POST `body` (JSON) to it."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.base_url + path,
            data=data,
            method="GET" if data is None else "POST",
            headers={**(headers or {}), **HEADERS, "Authorization": f"Bearer {self.token}"},
        )
        for attempt in range(self.retries):
            try:
                return self._send(request)
            except (ConsoleUnavailable, ConsoleTimeout):
                time.sleep(min(2.0, 0.2 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        return self._send(request)  # the last attempt: its error is the answer

    def _send(self, request: urllib.request.Request) -> dict[str, Any]:
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                error.close()
                raise ConsoleRedirect(
                    error.code, error.headers.get("Location"), request.full_url
                ) from error
            body = _json_or_text(error.read())
            if error.code in (502, 503, 504):
                raise ConsoleUnavailable(
                    f"HTTP {error.code}: the console could not decide"
                ) from error
            raise ConsoleHTTPError(error.code, body) from error
        except TimeoutError as error:
            raise ConsoleTimeout(
                f"No answer from {self.base_url} within {self.timeout} s"
            ) from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError | socket.timeout):
                raise ConsoleTimeout(
                    f"No answer from {self.base_url} within {self.timeout} s"
                ) from error
            raise ConsoleUnavailable(f"Cannot reach {self.base_url}: {error.reason}") from error
        except OSError as error:
            raise ConsoleUnavailable(f"Cannot reach {self.base_url}: {error}") from error
        body = _json_or_text(raw)
        if not isinstance(body, dict):
            raise ConsoleProtocolError("The console's answer is not a JSON object.")
        return body

    def _decision(
        self,
        body: dict[str, Any],
        *,
        request_id: str | None = None,
        decision_id: str | None = None,
    ) -> Decision:
        """The answer as a Decision, refused unless it answers the question asked: an
        answer for another request (a cache, a proxy, a replayed body) must not let an
        action run."""
        try:
            decision = Decision.from_json(body)
        except (KeyError, TypeError, ValueError) as error:
            raise ConsoleProtocolError(f"The console's answer lacks {error}.") from error
        if request_id is not None and decision.request_id != request_id:
            raise ConsoleProtocolError(
                f"The console answered for request_id {decision.request_id!r}, "
                f"not {request_id!r} as asked."
            )
        if decision_id is not None and decision.decision_id != decision_id:
            raise ConsoleProtocolError(
                f"The console answered for decision {decision.decision_id!r}, "
                f"not {decision_id!r} as asked."
            )
        return decision

    # -- The decision API ------------------------------------------------------

    def decide(
        self,
        *,
        on_behalf_of: str,
        profile: str,
        action: str,
        connector: str | None = None,
        data_sources: Iterable[str] = (),
        plugin: str | None = None,
        model: str = "",
        params: dict[str, Any] | None = None,
        rationale: str = "",
        request_id: str | None = None,
    ) -> Decision:
        """Ask before acting. Returns the decision whatever it is (allowed, denied or
        pending); raises a ConsoleError when there is no usable answer."""
        request_id = request_id or uuid.uuid4().hex
        body = {
            "request_id": request_id,
            "on_behalf_of": on_behalf_of,
            "profile": profile,
            "action": action,
            "data_sources": list(data_sources),
            "model": model,
            "params": params or {},
            "rationale": rationale,
        }
        if connector:
            body["connector"] = connector
        if plugin:
            body["plugin"] = plugin
        try:
            answer = self._request("/api/v1/decisions", body)
        except ConsoleHTTPError as error:
            # A profile the runtime may not use is a 403 that carries a decision.
            if error.status == 403 and isinstance(error.body, dict) and "decision_id" in error.body:
                return self._decision(error.body, request_id=request_id)
            raise
        return self._decision(answer, request_id=request_id)

    def get(self, decision_id: str) -> Decision:
        """The decision's current state; refused unless it is the decision asked for."""
        decision_id = str(decision_id)
        answer = self._request(f"/api/v1/decisions/{_segment(decision_id)}")
        return self._decision(answer, decision_id=decision_id)

    def wait(
        self,
        decision_id: str,
        timeout: float,
        *,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
        on_poll: Callable[[Decision, float], None] | None = None,
    ) -> Decision:
        """Poll until the decision is no longer pending, or `timeout` seconds have passed
        (then the last answer, still pending, is returned). Backs off exponentially with
        jitter; `on_poll(decision, seconds_waited)` is called after each poll."""
        started = time.monotonic()
        interval = poll_interval
        while True:
            decision = self.get(decision_id)
            waited = time.monotonic() - started
            if on_poll is not None:
                on_poll(decision, waited)
            if not decision.pending or waited >= timeout:
                return decision
            time.sleep(min(interval, max(0.0, timeout - waited)))
            interval = min(max_interval, interval * 1.5) * (0.8 + 0.4 * random.random())  # noqa: S311

    def report_outcome(self, decision: Decision, status: str, detail: str = "") -> Decision:
        """Tell the console what the agent did: executed, failed or skipped. The digest of
        the params that were allowed is sent along, as the console requires."""
        body = {"status": status, "params_digest": decision.params_digest, "detail": detail[:4000]}
        path = f"/api/v1/decisions/{_segment(decision.decision_id)}/outcome"
        return self._decision(self._request(path, body), decision_id=decision.decision_id)

    def catalog_item(self, slug: str) -> dict[str, Any]:
        """A catalog item (connectors carry `mcp_server`: how to reach them)."""
        return self._request(f"/api/v1/catalog/items/{_segment(slug)}")

    def runtime_profile(self, slug: str) -> dict[str, Any]:
        """A profile this runtime may use: its allowed action types and grants."""
        return self._request(f"/api/v1/runtime/profiles/{_segment(slug)}")

    def tool_mappings(self, revision: int | None = None) -> dict[str, Any]:
        """The console's tool mappings; {"unchanged": true} while `revision` is current."""
        query = f"?revision={int(revision)}" if isinstance(revision, int) else ""
        body = self._request(f"/api/v1/hooks/tool-mappings{query}")
        if not isinstance(body.get("policy_revision"), int) or (
            not body.get("unchanged") and not isinstance(body.get("rules"), list)
        ):
            raise ConsoleProtocolError("The console's tool mappings are not in the promised form.")
        return body

    def hook_event(self, event: dict[str, Any], *, profile: str, on_behalf_of: str) -> dict:
        """Pass a Claude Code hook event to the console's HTTP hook endpoint."""
        headers = {PROFILE_HEADER: profile, ON_BEHALF_OF_HEADER: on_behalf_of}
        return self._request("/api/v1/hooks/claude-code", event, headers=headers)

    def tool_definitions_changed(self, slug: str, **report: Any) -> dict[str, Any]:
        """Tell the console that a connector's live tools differ from its pinned version."""
        path = f"/api/v1/catalog/items/{_segment(slug)}/tool-definitions-changed"
        return self._request(path, report)

    def decide_and_wait(self, *, wait_timeout: float, **proposal: Any) -> Decision:
        """decide(), then wait() for a person if needed; raise unless it may run now."""
        decision = self.decide(**proposal)
        if decision.pending:
            decision = self.wait(decision.decision_id, wait_timeout)
        if decision.pending:
            raise ApprovalPending(decision)
        if not decision.allowed:
            raise ActionDenied(decision)
        return decision

    # -- The decorator ---------------------------------------------------------

    def guarded(
        self,
        *,
        action: str,
        profile: str,
        on_behalf_of: str | Callable[[dict[str, Any]], str],
        connector: str | None = None,
        data_sources: Iterable[str] | Callable[[dict[str, Any]], Iterable[str]] = (),
        plugin: str | None = None,
        model: str = "",
        rationale: str = "",
        wait_timeout: float = 300.0,
    ) -> Callable[[F], F]:
        """Decorate a function whose keyword arguments are the action's params.

        Before it runs, the console is asked; a pending decision waits for a person (up to
        `wait_timeout`); the function then runs with the params that were allowed (the
        edited ones when a person edited them); its outcome is reported (executed, or
        failed with the exception). Raises a GovernanceDenied subclass instead of running
        when the answer is not an allow."""

        def decorate(function: F) -> F:
            signature = inspect.signature(function)

            @functools.wraps(function)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                params = dict(signature.bind_partial(*args, **kwargs).arguments)
                decision = self.decide_and_wait(
                    wait_timeout=wait_timeout,
                    on_behalf_of=on_behalf_of(params) if callable(on_behalf_of) else on_behalf_of,
                    profile=profile,
                    action=action,
                    connector=connector,
                    data_sources=data_sources(params) if callable(data_sources) else data_sources,
                    plugin=plugin,
                    model=model,
                    params=params,
                    rationale=rationale,
                )
                return self._run(function, decision)

            return wrapper  # type: ignore[return-value]

        return decorate

    def _run(self, function: Callable[..., Any], decision: Decision) -> Any:
        try:
            result = function(**decision.params)
        except GovernanceDenied:
            raise
        except Exception as error:
            self._report_quietly(decision, "failed", f"{type(error).__name__}: {error}")
            raise
        self._report_quietly(decision, "executed")
        return result

    def _report_quietly(self, decision: Decision, status: str, detail: str = "") -> None:
        """The action already ran: a failed report must not turn it into an exception."""
        with contextlib.suppress(GovernanceDenied):
            self.report_outcome(decision, status, detail)


def _segment(value: str) -> str:
    """One path segment, percent-encoded: an id or slug from an answer or a configuration
    cannot add path segments, a query or a fragment ('/', '?', '#' are encoded)."""
    return urllib.parse.quote(str(value), safe="")


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw[:500].decode(errors="replace")
