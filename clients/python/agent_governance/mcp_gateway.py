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
otherwise. The action is "<connector>.<tool without a leading '<connector>_'>" unless the
mapping file (TOML, as for the Claude Code hook: [mcp.<connector>.tools], and
[mcp.<connector>] writes = [...]) says otherwise. Needs the `mcp` extra."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import os
import shutil
import sys
import tomllib
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

from agent_governance.client import GovernanceClient
from agent_governance.errors import GovernanceDenied
from agent_governance.models import Decision

DEFAULT_MAPPING = Path(__file__).with_name("mcp_gateway_mapping.toml")


class GatewayError(Exception):
    """The gateway cannot start as configured (said plainly, then exit 2)."""


@dataclass
class Route:
    connector: str
    tool: types.Tool
    session: ClientSession


@dataclass
class Gateway:
    client: GovernanceClient
    profile: str
    on_behalf_of: str
    mapping: dict[str, Any]
    wait_timeout: float = 300.0
    poll_interval: float = 1.0
    model: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()

    # -- Mapping --------------------------------------------------------------

    def action_of(self, connector: str, tool: str) -> str:
        explicit = self.mapping.get("mcp", {}).get(connector, {}).get("tools", {}).get(tool)
        if explicit:
            return explicit
        prefix = f"{connector}_"
        return f"{connector}.{tool[len(prefix) :] if tool.startswith(prefix) else tool}"

    def writes(self, connector: str, tool: str) -> bool:
        return tool in self.mapping.get("mcp", {}).get(connector, {}).get("writes", [])

    def usable(self, connector: str, tool: str) -> bool:
        action = self.action_of(connector, tool)
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.allowed)

    # -- Start ----------------------------------------------------------------

    async def connect(self, stack: contextlib.AsyncExitStack, connectors: list[str]) -> None:
        """Start each connector's MCP server and index the tools the profile can use."""
        profile = await anyio.to_thread.run_sync(self.client.runtime_profile, self.profile)
        self.allowed = tuple(profile.get("action_types", []))
        found: dict[str, list[Route]] = {}
        for slug in connectors:
            session = await self._open(stack, slug)
            listed = await session.list_tools()
            for tool in listed.tools:
                if self.usable(slug, tool.name):
                    found.setdefault(tool.name, []).append(Route(slug, tool, session))
        for name, routes in found.items():
            for route in routes:
                exposed = name if len(routes) == 1 else f"{route.connector}__{name}"
                self.routes[exposed] = route

    async def _open(self, stack: contextlib.AsyncExitStack, slug: str) -> ClientSession:
        item = await anyio.to_thread.run_sync(self.client.catalog_item, slug)
        if item.get("kind") != "connector" or item.get("status") != "approved":
            raise GatewayError(f"{slug} is not an approved connector in the catalog.")
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
                env=server.get("env"),
            )
            read, write = await stack.enter_async_context(
                stdio_client(parameters, errlog=sys.stderr)
            )
        else:
            raise GatewayError(
                f"The catalog does not say how to reach {slug} (mcp_server is empty)."
            )
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        return session

    # -- MCP handlers -----------------------------------------------------------

    async def list_tools(self, ctx, params) -> types.ListToolsResult:
        tools = [
            route.tool.model_copy(update={"name": name}) for name, route in self.routes.items()
        ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        route = self.routes.get(params.name)
        if route is None:
            return refusal(f"tool_not_available: {params.name} is not a tool this profile may use.")
        arguments = dict(params.arguments or {})
        try:
            decision = await self._decide(route, arguments)
            if decision.pending:
                decision = await self._wait(ctx, decision)
        except GovernanceDenied as error:
            return refusal(
                f"{error.code}: {error} Denied because the console gave no usable answer."
            )
        if not decision.allowed:
            state = "approval_pending" if decision.pending else decision.status
            return refusal(f"{state}: {decision.reason}: {decision.message}")
        return await self._forward(route, decision)

    async def _decide(self, route: Route, arguments: dict[str, Any]) -> Decision:
        action = self.action_of(route.connector, route.tool.name)
        resource = arguments.get("repo_path") or arguments.get("path") or "*"
        proposal = dict(
            request_id=f"mcp-{uuid.uuid4().hex}",
            on_behalf_of=self.on_behalf_of,
            profile=self.profile,
            action=action,
            connector=route.connector if self.writes(route.connector, route.tool.name) else None,
            data_sources=[f"{route.connector}:{resource}"],
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
        "--mapping", default=os.environ.get("AGC_MAPPING"), help="A TOML mapping file."
    )
    parser.add_argument(
        "--wait-seconds", type=float, default=float(os.environ.get("AGC_WAIT_SECONDS", "300"))
    )
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8017)
    parser.add_argument("--model", default=os.environ.get("AGC_MODEL", ""))
    args = parser.parse_args(argv)
    missing = [name for name in ("url", "profile", "on_behalf_of") if not getattr(args, name)]
    if missing or not args.connector or not os.environ.get("AGC_TOKEN"):
        parser.error(
            "give --url, --profile, --on-behalf-of and at least one --connector, "
            "and the runtime token in AGC_TOKEN"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with open(args.mapping or DEFAULT_MAPPING, "rb") as handle:
        mapping = tomllib.load(handle)
    gateway = Gateway(
        client=GovernanceClient(args.url, os.environ["AGC_TOKEN"]),
        profile=args.profile,
        on_behalf_of=args.on_behalf_of,
        mapping=mapping,
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


async def _serve_stdio(server: Server) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    sys.exit(main())
