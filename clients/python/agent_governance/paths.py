"""Data sources in the console's grammar (see governance/paths.py on the console side).

The console accepts a data source only in its one normal form: `connector:seg/seg/...`
with no empty, "." or ".." segments, no backslashes, control characters or glob
characters, and percent-encoding only where a character needs it. Agents name files and
repositories by operating-system paths, so this turns a path into that form; anything
that would climb (a ".." that remains after normalising) is kept as it is, so that the
console refuses it and the client denies: never guess a path into an allowed one."""

from __future__ import annotations

import posixpath
from urllib.parse import quote

# RFC 3986 pchar minus "*" (a glob character in grants): everything else is encoded.
_SAFE = "!$&'()+,;=:@-._~"


def resource_of(path: str) -> str | None:
    """The resource path for an OS path or name ("/tmp/x y" -> "tmp/x%20y"), or None
    when nothing is left to name (the root)."""
    normal = posixpath.normpath(path.replace("\\", "/")) if path else ""
    segments = [segment for segment in normal.split("/") if segment not in ("", ".")]
    if not segments:
        return None
    return "/".join(
        segment if segment == ".." else quote(segment, safe=_SAFE) for segment in segments
    )


def data_source(connector: str, path: str) -> list[str]:
    """`[connector:resource]` for a path, or no data source at all when it names nothing."""
    resource = resource_of(path)
    return [f"{connector}:{resource}"] if resource else []
