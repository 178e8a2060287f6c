"""The governed MCP gateway in front of the real reference MCP servers (mcp-server-git on
a throwaway repository, mcp-server-time), driven by the MCP SDK's own client."""

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from fakes import JSON, FakeConsole, hostile_console
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from governance.models import Decision

pytestmark = pytest.mark.django_db(transaction=True)


def git_log(repo) -> list[str]:
    import subprocess

    out = subprocess.run(
        ["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True, check=True
    )
    return out.stdout.split("\n")[:-1]


def run(coroutine):
    """Run the MCP client in a thread with its own event loop: the browser tests' Playwright
    keeps one running in the main thread."""
    outcome = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def gateway_args(console, *connectors: str) -> list[str]:
    args = [
        "-m",
        "agent_governance.mcp_gateway",
        "--url",
        console.url,
        "--profile",
        "repo-maintenance",
        "--on-behalf-of",
        "devon@corp.example",
        "--wait-seconds",
        "30",
    ]
    for connector in connectors:
        args += ["--connector", connector]
    return args


def gateway_env(console) -> dict[str, str]:
    import os

    return {"AGC_TOKEN": console.tokens["mcp-gateway"], "PATH": os.environ["PATH"]}


async def with_gateway(console, work, connectors=("git", "time")):
    parameters = StdioServerParameters(
        command=sys.executable, args=gateway_args(console, *connectors), env=gateway_env(console)
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def decide_soon(console, action: str, verdict: str = "approve", body=None):
    def run():
        for _ in range(200):
            pending = console.approvals(action)
            if pending:
                console.vote(pending[0]["id"], verdict, body)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_tools_the_profile_can_never_use_are_hidden_and_refused(console, scratch_repo):
    async def work(session):
        names = sorted(tool.name for tool in (await session.list_tools()).tools)
        refused = await session.call_tool("git_reset", {"repo_path": str(scratch_repo)})
        return names, refused

    names, refused = run(with_gateway(console, work))
    assert {"git_status", "git_commit", "git_log", "get_current_time"} <= set(names)
    assert "git_reset" not in names and "git_checkout" not in names
    assert refused.is_error
    assert "tool_not_available" in refused.content[0].text


def test_a_read_goes_through_and_is_reported(console, scratch_repo):
    async def work(session):
        return await session.call_tool("git_status", {"repo_path": str(scratch_repo)})

    result = run(with_gateway(console, work))
    assert not result.is_error
    assert "Changes to be committed" in result.content[0].text
    decision = Decision.objects.get(action="git.status")
    assert (decision.status, decision.on_behalf_of) == ("executed", "devon@corp.example")


def test_a_commit_waits_for_approval_then_lands(console, scratch_repo):
    progress = []

    async def work(session):
        async def on_progress(value, total, message):
            progress.append(message)

        decide_soon(console, "git.commit")
        return await session.call_tool(
            "git_commit",
            {"repo_path": str(scratch_repo), "message": "governed commit"},
            progress_callback=on_progress,
        )

    result = run(with_gateway(console, work))
    assert not result.is_error, result.content[0].text
    assert git_log(scratch_repo)[0] == "governed commit"
    assert progress and "Waiting for a person to approve git.commit" in progress[0]
    decision = Decision.objects.get(action="git.commit")
    assert (decision.status, decision.approval) == ("executed", "human:alex@corp.example")


def test_an_edited_commit_message_is_what_lands(console, scratch_repo):
    async def work(session):
        decide_soon(
            console,
            "git.commit",
            body={"params": {"repo_path": str(scratch_repo), "message": "reviewed message"}},
        )
        return await session.call_tool(
            "git_commit", {"repo_path": str(scratch_repo), "message": "wip"}
        )

    run(with_gateway(console, work))
    assert git_log(scratch_repo)[0] == "reviewed message"


def test_a_rejected_commit_never_lands(console, scratch_repo):
    async def work(session):
        decide_soon(console, "git.commit", verdict="reject", body={"reason": "Not on main"})
        return await session.call_tool(
            "git_commit", {"repo_path": str(scratch_repo), "message": "sneaky"}
        )

    result = run(with_gateway(console, work))
    assert result.is_error
    assert "rejected" in result.content[0].text
    assert git_log(scratch_repo) == ["init"]


def test_a_read_only_connector_works_alongside(console, scratch_repo):
    async def work(session):
        return await session.call_tool("get_current_time", {"timezone": "Europe/Paris"})

    result = run(with_gateway(console, work))
    assert not result.is_error
    assert "Europe/Paris" in result.content[0].text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_gateway_over_streamable_http(console, scratch_repo):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            *gateway_args(console, "git"),
            "--transport",
            "streamable-http",
            "--port",
            str(port),
        ],
        env=gateway_env(console),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def work():
            url = f"http://127.0.0.1:{port}/mcp"
            async with (
                streamable_http_client(url) as (read, write, *_),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await session.call_tool("git_status", {"repo_path": str(scratch_repo)})

        result = run(work())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not result.is_error
    assert "Changes to be committed" in result.content[0].text


def test_the_gateway_refuses_to_start_without_its_configuration():
    done = subprocess.run(
        [sys.executable, "-m", "agent_governance.mcp_gateway"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "--connector" in done.stderr


REFUSED_WITH = {
    "redirect": "console_redirect",
    "wrong_request_id": "console_protocol_error",
    "wrong_decision_id": "console_protocol_error",
    "poll_redirect": "console_redirect",
    "garbage": "console_protocol_error",
    "unreachable": "console_unavailable",
}


def catalog_and_profile(seen):
    """What a console answers the gateway at start: the git connector and the profile."""
    if seen.path == "/api/v1/catalog/items/git":
        item = {
            "slug": "git",
            "kind": "connector",
            "status": "approved",
            "mcp_server": {"command": ["mcp-server-git"]},
        }
        return 200, JSON, json.dumps(item).encode()
    if seen.path == "/api/v1/runtime/profiles/repo-maintenance":
        return (
            200,
            JSON,
            json.dumps({"slug": "repo-maintenance", "action_types": ["git.*"]}).encode(),
        )
    return 404, JSON, b'{"detail": "no"}'


@pytest.mark.parametrize("kind", list(REFUSED_WITH))
def test_a_hostile_or_absent_console_refuses_the_call(db, elsewhere, scratch_repo, kind):
    """The same hostile consoles as the client's and the hook's tests: the commit never
    lands, the refusal names what went wrong, and the other host never sees the token."""
    console = hostile_console(kind, elsewhere, extra=catalog_and_profile)
    fake = type("Console", (), {"url": console.url, "tokens": {"mcp-gateway": "agc_rt_secret"}})

    async def work(session):
        if kind == "unreachable":
            console.close()
        return await session.call_tool(
            "git_commit", {"repo_path": str(scratch_repo), "message": "should not land"}
        )

    try:
        result = run(with_gateway(fake, work, connectors=("git",)))
    finally:
        if kind != "unreachable":
            console.close()
    assert result.is_error
    assert REFUSED_WITH[kind] in result.content[0].text
    assert git_log(scratch_repo) == ["init"]
    assert elsewhere.seen == []


@pytest.mark.parametrize("kind", ["redirect", "garbage", "unreachable"])
def test_the_gateway_will_not_start_on_a_hostile_or_absent_console(db, elsewhere, kind):
    if kind == "redirect":
        console = FakeConsole(lambda seen: (302, {"Location": f"{elsewhere.url}{seen.path}"}, b""))
    else:
        console = FakeConsole(lambda seen: (200, {}, b"<html>proxy</html>"))
    if kind == "unreachable":
        console.close()
    fake = type("Console", (), {"url": console.url, "tokens": {"mcp-gateway": "agc_rt_secret"}})
    try:
        done = subprocess.run(
            [sys.executable, *gateway_args(fake, "git")],
            env=gateway_env(fake),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if kind != "unreachable":
            console.close()
    assert done.returncode == 2, done.stderr
    assert REFUSED_WITH[kind] in done.stderr
    assert elsewhere.seen == []
