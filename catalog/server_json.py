"""Intake from the MCP Registry format: read a `server.json` into intake request fields.

The format (modelcontextprotocol.io, "server.json Format Specification" and "Versioning
Published MCP Servers"; schema 2025-12-11): `name` (reverse-DNS namespace/name), `title`,
`description`, `version` (an exact version: the registry refuses ranges such as ^1.2.3,
~1.2.3, >=1.2.3, 1.x, 1.2.*, "1 - 2", "1.2 || 1.3"), `repository` {url, source},
`packages` [{registryType (npm, pypi, oci, nuget, mcpb), identifier, version, transport
{type: stdio | streamable-http | sse}, environmentVariables [{name, description,
isRequired, isSecret, default}]}] and `remotes` [{type, url, headers}]. Package versions
are held to the same rule, and `latest` is refused as well: a catalog pins what was
reviewed, never whatever is newest."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.text import slugify

from governance.exceptions import ValidationFailed

RANGE = re.compile(r"(^[\^~<>=])|(\s-\s)|(\|\|)|((^|\.)[xX*](\.|$))")
COMMANDS = {
    "pypi": lambda p: ["uvx", f"{p['identifier']}=={p['version']}"],
    "npm": lambda p: ["npx", "-y", f"{p['identifier']}@{p['version']}"],
    "oci": lambda p: ["docker", "run", "-i", "--rm", f"{p['identifier']}:{p['version']}"],
    "nuget": lambda p: ["dnx", f"{p['identifier']}@{p['version']}", "--yes"],
}


def _refuse(message: str, field: str = "server_json") -> ValidationFailed:
    return ValidationFailed(message, extra={"fields": {field: [message]}})


def exact_version(value: Any, where: str) -> str:
    """`value` if it names one version; refused (as the registry refuses it) otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"{where} must be a version string.")
    version = value.strip()
    if version.lower() == "latest":
        raise _refuse(f"{where} is 'latest': give the exact version that was reviewed.")
    if RANGE.search(version):
        raise _refuse(f"{where} {version!r} is a version range; give one exact version.")
    return version


def server_json_load(text: str) -> dict[str, Any]:
    """The document, or a clear refusal."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _refuse(f"The server.json is not valid JSON: {error}.") from error
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise _refuse("The server.json has no name (e.g. io.github.owner/server).")
    return document


def _env(variables: Any) -> tuple[dict[str, str], list[str]]:
    """Environment for the gateway: secrets (and values nobody gave) as ${NAME}
    references, never as values; plus the names flagged secret."""
    env, secrets = {}, []
    for variable in variables if isinstance(variables, list) else []:
        name = variable.get("name") if isinstance(variable, dict) else None
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            continue
        if variable.get("isSecret"):
            secrets.append(name)
            env[name] = f"${{{name}}}"
        elif isinstance(variable.get("default"), str):
            env[name] = variable["default"]
        else:
            env[name] = f"${{{name}}}"
    return env, secrets


def _mcp_server(document: dict[str, Any]) -> tuple[dict[str, Any], list[str], str]:
    """How the gateway will reach it, the secret names, and what was used."""
    for index, package in enumerate(document.get("packages") or []):
        if not isinstance(package, dict):
            continue
        where = f"packages[{index}].version"
        package = {**package, "version": exact_version(package.get("version"), where)}
        build = COMMANDS.get(package.get("registryType", ""))
        transport = (package.get("transport") or {}).get("type", "stdio")
        if build and transport == "stdio" and isinstance(package.get("identifier"), str):
            env, secrets = _env(package.get("environmentVariables"))
            server = {"command": build(package), **({"env": env} if env else {})}
            return server, secrets, f"{package['registryType']} package {package['identifier']}"
    for remote in document.get("remotes") or []:
        if isinstance(remote, dict) and remote.get("type") == "streamable-http":
            url = remote.get("url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                secrets = [
                    h["name"]
                    for h in remote.get("headers") or []
                    if isinstance(h, dict) and h.get("isSecret") and isinstance(h.get("name"), str)
                ]
                return {"url": url}, secrets, "its streamable HTTP remote"
    return {}, [], ""


def server_json_intake_fields(text: str) -> dict[str, Any]:
    """Intake form fields prefilled from a server.json (the requester completes the rest:
    data exposure, digest, justification)."""
    document = server_json_load(text)
    version = exact_version(document.get("version"), "version")
    namespace, _, short = document["name"].rpartition("/")
    server, secrets, source = _mcp_server(document)
    repository = document.get("repository") if isinstance(document.get("repository"), dict) else {}
    notes = [f"From the MCP Registry server.json of {document['name']} {version}."]
    if source:
        notes.append(f"The gateway reaches it through {source}.")
    if secrets:
        notes.append(
            "Secrets (referenced as environment variables, never stored): " + ", ".join(secrets)
        )
    return {
        "slug": slugify(short or document["name"])[:100],
        "name": str(document.get("title") or short or document["name"])[:200],
        "item_kind": "connector",
        "description": "\n\n".join([str(document.get("description") or ""), *notes]).strip(),
        "version": version,
        "vendor": str(repository.get("url") or namespace or document["name"])[:200],
        "mcp_server": server,
        "server_json": document,
        "secrets": secrets,
    }
