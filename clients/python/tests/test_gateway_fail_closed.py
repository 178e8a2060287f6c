"""The MCP gateway's tools/call in-process, against a FakeConsole and a stand-in upstream
session, without a database: no console failure and no status but allowed or approved
lets a call reach the upstream server; each refusal is a tool error whose text starts with
the reason code (verdicts.py, shared with the Claude Code hook). test_mcp_gateway.py runs
the real gateway process in front of the real reference servers.

These tests run once per mutant of verdicts.py and client.py in `make mutation`."""

import json
from concurrent.futures import ThreadPoolExecutor

import anyio
import mcp_types as types
import pytest
from agent_governance.claude_code import MappingDocument
from agent_governance.client import GovernanceClient
from agent_governance.mcp_gateway import Gateway, Route, Upstream
from fakes import JSON, FakeConsole, decision_json, free_port

PREFIX = "Refused by the governance console. "
NO_ANSWER = "Denied because the console gave no usable answer."
MAPPINGS = {
    "policy_revision": 1,
    "rules": [
        {"tool": "mcp__git__*", "action": "git.{tool}", "data_sources": ["git:{repo_path}"]},
    ],
}
COMMIT = {"repo_path": "/r", "message": "wip"}


def decision(request_id="r", status="allowed", **fields):
    body = json.loads(decision_json(request_id, status=status, params=fields.pop("params", {})))
    return {**body, "message": "Said so.", **fields}


class UpstreamSession:
    """Stands in for the upstream MCP server's session: records the calls it gets."""

    def __init__(self, error=False):
        self.calls = []
        self.error = error

    async def call_tool(self, name, arguments):
        self.calls.append((name, arguments))
        text = types.TextContent(type="text", text="committed")
        return types.CallToolResult(content=[text], is_error=self.error)


class Context:
    """The MCP request context: progress notifications are recorded."""

    def __init__(self):
        self.progress = []
        self.session = self

    async def report_progress(self, progress, total, message):
        self.progress.append(message)


@pytest.fixture
def console():
    """Answers POST /api/v1/decisions with `console.decide`, polls with `console.poll`,
    outcome reports with 200; each (status, body) or (status, headers, body[, delay]), or a
    function of the request."""
    state = {"decide": None, "poll": (200, decision(status="pending"))}

    def respond(seen):
        if seen.path == "/api/v1/decisions":
            answer = state["decide"]
        elif seen.path.endswith("/outcome"):
            answer = (200, decision(status="executed"))
        else:
            answer = state["poll"]
        if callable(answer):
            answer = answer(seen)
        if len(answer) == 2:
            answer = (answer[0], JSON, answer[1])
        status, headers, body, *delay = answer
        body = json.dumps(body).encode() if isinstance(body, dict) else body
        return (status, headers, body, *delay)

    fake = FakeConsole(respond)
    fake.state = state
    yield fake
    fake.close()


def echo(status="allowed", **fields):
    return lambda seen: (201, decision(seen.body["request_id"], status=status, **fields))


def gateway_of(url, session, changed=None):
    gateway = Gateway(
        client=GovernanceClient(url, "agc_rt_secret", timeout=2, retries=0),
        profile="repo-maintenance",
        on_behalf_of="devon@corp.example",
        mapping=MappingDocument.from_json(MAPPINGS),
        wait_timeout=0.05,
        poll_interval=0.02,
    )
    tool = types.Tool(name="git_commit", input_schema={"type": "object"})
    gateway.upstreams["git"] = Upstream("git", session=session, tools=[tool], changed=changed)
    gateway.routes["git_commit"] = Route("git", tool, session)
    return gateway


def call(gateway, name="git_commit", arguments=COMMIT, context=None):
    """Run the gateway's call in an event loop of its own thread: a browser test's Playwright
    (sync API) may still hold a running loop in the test's thread."""
    params = types.CallToolRequestParams(name=name, arguments=arguments)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, gateway.call_tool, context or Context(), params).result()


def text_of(result) -> str:
    assert result.is_error
    (content,) = result.content
    assert content.text.startswith(PREFIX)
    return content.text.removeprefix(PREFIX)


def test_an_allowed_call_is_forwarded_with_the_allowed_params_and_reported(console):
    edited = {"repo_path": "/r", "message": "reviewed"}
    console.state["decide"] = echo("approved", params=edited, edited=True)
    session = UpstreamSession()
    result = call(gateway_of(console.url, session))
    assert not result.is_error and result.content[0].text == "committed"
    assert session.calls == [("git_commit", edited)]
    asked, reported = console.seen
    assert (asked.body["action"], asked.body["data_sources"], asked.body["params"]) == (
        "git.commit",
        ["git:r"],
        COMMIT,
    )
    assert reported.body["status"] == "executed"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            (302, {"Location": "http://elsewhere.example/"}, b""),
            "console_redirect: HTTP 302: {url}/api/v1/decisions redirected to "
            "http://elsewhere.example/; redirects are refused",
        ),
        ((500, {"detail": "Boom."}), "console_http_error: HTTP 500 : Boom."),
        ((503, b""), "console_unavailable: HTTP 503: the console could not decide"),
        ((200, b"<html/>"), "console_protocol_error: The console's answer is not a JSON object."),
        (
            (201, decision("another")),
            "console_protocol_error: The console answered for request_id 'another', not",
        ),
        ((201, {"status": "allowed"}), "console_protocol_error: The console's answer lacks"),
        ((201, JSON, b"{}", 1.0), "console_timeout: No answer from {url} within 0.3 s"),
    ],
)
def test_no_usable_answer_refuses_the_call(console, answer, reason):
    console.state["decide"] = answer
    session = UpstreamSession()
    gateway = gateway_of(console.url, session)
    gateway.client.timeout = 0.3
    text = text_of(call(gateway))
    assert text.startswith(reason.format(url=console.url))
    assert text.endswith(NO_ANSWER)
    assert session.calls == []


def test_an_absent_console_refuses_the_call():
    session = UpstreamSession()
    url = f"http://127.0.0.1:{free_port()}"
    text = text_of(call(gateway_of(url, session)))
    assert text.startswith(f"console_unavailable: Cannot reach {url}: ")
    assert text.endswith(NO_ANSWER) and session.calls == []


@pytest.mark.parametrize("status", ["denied", "rejected", "expired", "executed", "quarantined"])
def test_every_status_but_allowed_and_approved_refuses_the_call(console, status):
    console.state["decide"] = echo(status, outcome="allow")
    session = UpstreamSession()
    assert text_of(call(gateway_of(console.url, session))) == (
        f"{status}: needs_a_person: Said so."
    )
    assert session.calls == [] and len(console.seen) == 1


def test_a_call_still_pending_when_the_wait_ends_is_refused(console):
    console.state["decide"] = echo("pending", approval_id=3)
    session, context = UpstreamSession(), Context()
    text = text_of(call(gateway_of(console.url, session), context=context))
    assert text == "approval_pending: needs_a_person: Said so."
    assert session.calls == []
    assert context.progress[0].startswith("Waiting for a person to approve x.y (approval #3")


def test_a_call_rejected_while_waiting_is_refused(console):
    console.state["decide"] = echo("pending")
    console.state["poll"] = (200, decision(status="rejected", reason="no_force"))
    session = UpstreamSession()
    assert text_of(call(gateway_of(console.url, session))) == "rejected: no_force: Said so."
    assert session.calls == []


def test_a_poll_answering_for_another_decision_refuses_the_call(console):
    console.state["decide"] = echo("pending")
    console.state["poll"] = (200, decision(status="approved", decision_id="d-2"))
    session = UpstreamSession()
    assert text_of(call(gateway_of(console.url, session))).startswith(
        "console_protocol_error: The console answered for decision 'd-2', not 'd-1' as asked."
    )
    assert session.calls == []


def test_calls_the_console_is_never_asked_about(console):
    session = UpstreamSession()
    gateway = gateway_of(console.url, session)
    assert text_of(call(gateway, name="git_reset")) == (
        "tool_not_available: git_reset is not a tool this profile may use."
    )
    assert text_of(call(gateway, arguments={"message": "m"})) == (
        "mapping_incomplete: git_commit: the tool's input has no repo_path (the mapping needs it)."
    )
    changed = gateway_of(console.url, session, changed="the tools of git differ")
    assert text_of(call(changed)) == "tool_definitions_changed: the tools of git differ"
    assert console.seen == [] and session.calls == []


def test_an_upstream_error_is_reported_as_failed(console):
    console.state["decide"] = echo()
    session = UpstreamSession(error=True)
    assert call(gateway_of(console.url, session)).is_error
    assert console.seen[1].body["status"] == "failed"
