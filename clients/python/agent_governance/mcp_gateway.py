"""A governed MCP gateway: an MCP server that fronts real MCP servers (catalog connectors)
for one profile and one person, and asks the console before every tools/call.

    agc-mcp-gateway --url https://governance.corp.example --profile repo-maintenance \\
        --on-behalf-of devon@corp.example --connector git [--connector time] \\
        [--transport stdio | streamable-http --port 8017]      # token: AGC_TOKEN

The connectors are read from the catalog (GET /api/v1/catalog/items/{slug}): each must be
an approved connector whose `mcp_server` says how to reach it (a command for stdio, or a
URL for streamable HTTP). Tools the profile can never use are not listed. On tools/call:

- allow: the call is forwarded and the upstream result returned;
- deny: a tool error whose text gives the reason code and message;
- pending: the gateway waits for a person (sending progress notifications when the client
  asked for them), then forwards with the approved params or returns the rejection;
- then the outcome (executed, or failed when the upstream answered an error) is reported.

Tool names are kept when they are unique across connectors and become <connector>__<tool>
otherwise. A tool maps to its action type, connector and data sources through the
console's tool mappings, as the Claude Code hook does (the tool's name there is
mcp__<connector>__<tool>); a tool no mapping covers defaults by its MCP annotations.

What a server exposes is pinned: when the catalog's pinned version of a connector records
the digest of its tool definitions (the canonical tools/list), the gateway compares the
live server with it at start and whenever the server says its tools changed
(notifications/tools/list_changed). On a difference every call to that server is refused
with `tool_definitions_changed`, its tools are no longer listed, and the console is told
(it records an audit event and e-mails the item's owner).

`--describe -- <command...>` starts an MCP server and prints its canonical tool
definitions and their digest, for an intake request. Needs the `mcp` extra."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server

from agent_governance.claude_code import MappingDocument
from agent_governance.client import GovernanceClient
from agent_governance.errors import GovernanceDenied
from agent_governance.models import Decision
from agent_governance.tool_definitions import canonical_tools, tools_digest
from agent_governance.tool_mapping import MappingError, action_for, map_call
from agent_governance.verdicts import call_refusal, refusal_reason


class GatewayError(Exception):
    """The gateway cannot start as configured (said plainly, then exit 2)."""


@dataclass
class Route:
    connector: str
    tool: types.Tool
    session: ClientSession


def tool_json(tool: types.Tool) -> dict[str, Any]:
    return tool.model_dump(by_alias=True, exclude_none=True, mode="json")


def annotations_of(tool: types.Tool) -> dict[str, Any]:
    return tool_json(tool).get("annotations") or {}


@dataclass
class Upstream:
    """One connector's MCP server and what the catalog pinned for it."""

    slug: str
    session: ClientSession | None = None
    pinned_version: str | None = None
    pinned_digest: str = ""
    tools: list[types.Tool] = field(default_factory=list)
    changed: str | None = None  # why its calls are refused, once its tools changed
    stale: bool = False  # the server said its tools changed: re-read before the next use


@dataclass
class Gateway:
    client: GovernanceClient
    profile: str
    on_behalf_of: str
    mapping: MappingDocument | None = None
    wait_timeout: float = 300.0
    poll_interval: float = 1.0
    model: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()
    upstreams: dict[str, Upstream] = field(default_factory=dict)

    # -- Mapping --------------------------------------------------------------

    def tool_name(self, connector: str, tool: str) -> str:
        return f"mcp__{connector}__{tool}"

    def usable(self, connector: str, tool: types.Tool) -> bool:
        action = action_for(
            self.mapping.rules, self.tool_name(connector, tool.name), annotations_of(tool)
        )
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.allowed)

    # -- Start ----------------------------------------------------------------

    async def connect(self, stack: contextlib.AsyncExitStack, connectors: list[str]) -> None:
        """Start each connector's MCP server, check what it exposes against the pinned
        version, and index the tools the profile can use."""
        profile = await anyio.to_thread.run_sync(self.client.runtime_profile, self.profile)
        self.allowed = tuple(profile.get("action_types", []))
        self.mapping = MappingDocument.from_json(
            await anyio.to_thread.run_sync(self.client.tool_mappings)
        )
        for slug in connectors:
            upstream = self.upstreams[slug] = Upstream(slug)
            upstream.session = await self._open(stack, upstream)
            await self.refresh(upstream)

    async def refresh(self, upstream: Upstream) -> None:
        """(Re)read a server's tools, compare them with the pinned digest, re-index."""
        listed = await upstream.session.list_tools()
        upstream.tools = list(listed.tools)
        found = tools_digest([tool_json(t) for t in upstream.tools])
        if upstream.pinned_digest and found != upstream.pinned_digest and not upstream.changed:
            upstream.changed = (
                f"the tools of {upstream.slug} differ from those reviewed for its pinned "
                f"version {upstream.pinned_version} (pinned {upstream.pinned_digest}, "
                f"now {found}); every call to it is refused until an owner reviews them."
            )
            await self._report_change(upstream, found)
        self._index()

    def _index(self) -> None:
        found: dict[str, list[Route]] = {}
        for upstream in self.upstreams.values():
            for tool in upstream.tools:
                if upstream.changed or self.usable(upstream.slug, tool):
                    found.setdefault(tool.name, []).append(
                        Route(upstream.slug, tool, upstream.session)
                    )
        self.routes = {}
        for name, routes in found.items():
            for route in routes:
                exposed = name if len(routes) == 1 else f"{route.connector}__{name}"
                self.routes[exposed] = route

    async def _report_change(self, upstream: Upstream, found: str) -> None:
        report = {
            "version": upstream.pinned_version,
            "expected_digest": upstream.pinned_digest,
            "found_digest": found,
            "tools": canonical_tools([tool_json(t) for t in upstream.tools]),
        }
        print(f"agc-mcp-gateway: tool_definitions_changed: {upstream.changed}", file=sys.stderr)
        with contextlib.suppress(GovernanceDenied):
            await anyio.to_thread.run_sync(
                lambda: self.client.tool_definitions_changed(upstream.slug, **report)
            )

    async def _open(self, stack: contextlib.AsyncExitStack, upstream: Upstream) -> ClientSession:
        slug = upstream.slug
        item = await anyio.to_thread.run_sync(self.client.catalog_item, slug)
        if item.get("kind") != "connector" or item.get("status") != "approved":
            raise GatewayError(f"{slug} is not an approved connector in the catalog.")
        pinned = next((v for v in item.get("versions", []) if v.get("is_pinned")), None)
        upstream.pinned_version = pinned.get("version") if pinned else None
        upstream.pinned_digest = (pinned or {}).get("tool_definitions_digest") or ""
        server = item.get("mcp_server") or {}
        if "url" in server:
            read, write, *_ = await stack.enter_async_context(streamable_http_client(server["url"]))
        elif "command" in server:
            command = (
                server["command"] if isinstance(server["command"], list) else [server["command"]]
            )
            parameters = StdioServerParameters(
                command=_executable(command[0]),
                args=[*command[1:], *server.get("args", [])],
                env=_expand_env(server.get("env")),
            )
            read, write = await stack.enter_async_context(
                stdio_client(parameters, errlog=sys.stderr)
            )
        else:
            raise GatewayError(
                f"The catalog does not say how to reach {slug} (mcp_server is empty)."
            )

        async def on_message(message: Any) -> None:
            # Re-read on the next use, not here: a request sent from inside the session's
            # receive loop would wait for an answer that loop must read.
            if isinstance(message, types.ToolListChangedNotification):
                upstream.stale = True

        session = await stack.enter_async_context(
            ClientSession(read, write, message_handler=on_message)
        )
        await session.initialize()
        return session

    # -- MCP handlers -----------------------------------------------------------

    async def list_tools(self, ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await self.list_tools_visible())

    async def refresh_stale(self) -> None:
        for upstream in self.upstreams.values():
            if upstream.stale:
                upstream.stale = False
                await self.refresh(upstream)

    async def list_tools_visible(self) -> list[types.Tool]:
        await self.refresh_stale()
        return [
            route.tool.model_copy(update={"name": name})
            for name, route in self.routes.items()
            if not self.upstreams[route.connector].changed
        ]

    async def call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        await self.refresh_stale()
        route = self.routes.get(params.name)
        if route is None:
            return refusal(f"tool_not_available: {params.name} is not a tool this profile may use.")
        changed = self.upstreams[route.connector].changed
        if changed:
            return refusal(f"tool_definitions_changed: {changed}")
        arguments = dict(params.arguments or {})
        try:
            decision = await self._decide(route, arguments)
            if decision.pending:
                decision = await self._wait(ctx, decision)
        except MappingError as error:
            return refusal(f"mapping_incomplete: {route.tool.name}: {error}.")
        except GovernanceDenied as error:
            return refusal(refusal_reason(error))
        refused = call_refusal(decision)
        if refused is not None:
            return refusal(refused)
        return await self._forward(route, decision)

    async def _decide(self, route: Route, arguments: dict[str, Any]) -> Decision:
        mapped = map_call(
            self.mapping.rules,
            self.tool_name(route.connector, route.tool.name),
            arguments,
            annotations=annotations_of(route.tool),
        )
        proposal = dict(
            request_id=f"mcp-{uuid.uuid4().hex}",
            on_behalf_of=self.on_behalf_of,
            profile=self.profile,
            action=mapped.action,
            connector=mapped.connector,
            data_sources=mapped.data_sources,
            model=self.model,
            params=arguments,
            rationale=f"MCP tools/call {route.tool.name} on {route.connector} via the gateway.",
        )
        return await anyio.to_thread.run_sync(lambda: self.client.decide(**proposal))

    async def _wait(self, ctx, decision: Decision) -> Decision:
        """Poll until a person decides, telling the client how long it has waited."""
        waited, interval = 0.0, self.poll_interval
        while decision.pending and waited < self.wait_timeout:
            await ctx.session.report_progress(
                waited,
                None,
                f"Waiting for a person to approve {decision.action} "
                f"(approval #{decision.approval_id}, expires {decision.expires_at}).",
            )
            await anyio.sleep(interval)
            waited += interval
            interval = min(interval * 1.5, 10.0)
            decision = await anyio.to_thread.run_sync(self.client.get, decision.decision_id)
        return decision

    async def _forward(self, route: Route, decision: Decision) -> types.CallToolResult:
        """Call upstream with the params that were allowed (a person's edit included)."""
        try:
            result = await route.session.call_tool(route.tool.name, decision.params)
        except Exception as error:  # noqa: BLE001 - reported, then answered as a tool error
            await self._report(decision, "failed", f"{type(error).__name__}: {error}")
            return refusal(f"upstream_error: {route.connector} failed: {error}")
        status = "failed" if result.is_error else "executed"
        await self._report(
            decision, status, "the upstream tool answered an error" if result.is_error else ""
        )
        return result

    async def _report(self, decision: Decision, status: str, detail: str) -> None:
        with contextlib.suppress(GovernanceDenied):
            await anyio.to_thread.run_sync(
                lambda: self.client.report_outcome(decision, status, detail)
            )


def _expand_env(env: dict[str, str] | None) -> dict[str, str] | None:
    """${NAME} in a catalog env value is taken from the gateway's environment: secrets
    are referenced, never stored in the catalog."""
    if env is None:
        return None
    return {
        key: re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: os.environ.get(m.group(1), ""), value
        )
        for key, value in env.items()
    }


def _executable(name: str) -> str:
    """A command on PATH, or else next to this Python (the same virtual environment)."""
    if os.path.sep in name or shutil.which(name):
        return name
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else name


def refusal(text: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"Refused by the governance console. {text}")],
        is_error=True,
    )


def build_server(gateway: Gateway, connectors: list[str]) -> Server:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict]:
        async with contextlib.AsyncExitStack() as stack:
            await gateway.connect(stack, connectors)
            yield {}

    return Server(
        "agent-governance-gateway",
        version="0.1.0",
        instructions="Tool calls are decided by the Agent Governance Console before they run.",
        lifespan=lifespan,
        on_list_tools=gateway.list_tools,
        on_call_tool=gateway.call_tool,
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="A governed MCP gateway (see the module docstring)."
    )
    parser.add_argument("--url", default=os.environ.get("AGC_URL"), help="The console (AGC_URL).")
    parser.add_argument("--profile", default=os.environ.get("AGC_PROFILE"))
    parser.add_argument("--on-behalf-of", default=os.environ.get("AGC_ON_BEHALF_OF"))
    parser.add_argument(
        "--connector", action="append", default=[], help="A catalog connector slug (repeat)."
    )
    parser.add_argument(
        "--wait-seconds", type=float, default=float(os.environ.get("AGC_WAIT_SECONDS", "300"))
    )
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8017)
    parser.add_argument("--model", default=os.environ.get("AGC_MODEL", ""))
    parser.add_argument(
        "--describe",
        action="store_true",
        help="--describe -- COMMAND...: print the canonical tool definitions of an MCP "
        "server (for an intake request) and exit.",
    )
    args = parser.parse_args(argv)
    missing = [name for name in ("url", "profile", "on_behalf_of") if not getattr(args, name)]
    if missing or not args.connector or not os.environ.get("AGC_TOKEN"):
        parser.error(
            "give --url, --profile, --on-behalf-of and at least one --connector, "
            "and the runtime token in AGC_TOKEN"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--describe"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not command:
            print("agc-mcp-gateway: give the server's command: --describe -- CMD", file=sys.stderr)
            return 2
        print(json.dumps(anyio.run(describe, command), indent=2, ensure_ascii=False))
        return 0
    args = parse(argv)
    gateway = Gateway(
        client=GovernanceClient(args.url, os.environ["AGC_TOKEN"]),
        profile=args.profile,
        on_behalf_of=args.on_behalf_of,
        wait_timeout=args.wait_seconds,
        model=args.model,
    )
    server = build_server(gateway, args.connector)
    try:
        if args.transport == "stdio":
            anyio.run(_serve_stdio, server)
        else:
            import uvicorn

            uvicorn.run(
                server.streamable_http_app(host=args.host),
                host=args.host,
                port=args.port,
                log_level="warning",
            )
    except BaseException as error:  # noqa: BLE001 - re-raised unless it is a refusal to start
        refusal = _refusal_to_start(error)
        if refusal is None:
            raise
        code = getattr(refusal, "code", "gateway_not_configured")
        print(f"agc-mcp-gateway: {code}: {refusal}", file=sys.stderr)
        return 2
    return 0


def _refusal_to_start(error: BaseException) -> Exception | None:
    """The configuration or console error that stopped the start, if that is what it was.
    The MCP server's task group wraps errors raised in its lifespan in exception groups."""
    if isinstance(error, GatewayError | GovernanceDenied):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _refusal_to_start(inner)
            if found is not None:
                return found
    return None


async def describe(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """The canonical tools/list of the MCP server `command` starts, and its digest."""
    parameters = StdioServerParameters(
        command=_executable(command[0]), args=command[1:], env=_expand_env(env)
    )
    async with (
        stdio_client(parameters, errlog=sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = [tool_json(t) for t in (await session.list_tools()).tools]
    return {"tools": canonical_tools(tools), "digest": tools_digest(tools)}


async def _serve_stdio(server: Server) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    sys.exit(main())
