"""The grammar of data sources and of grants' resource patterns, checked before any glob
matches.

A grant of `account/*` is a promise about what lies under `account/`; a path such as
`account/../opportunity/5100` would match the glob and climb out of it. So an agent's data
source is accepted only in its one normal form, and everything else is refused before the
engine sees it:

    data_source   = connector ":" resource
    connector     = 1*100 ( ALPHA / DIGIT / "-" / "_" )       ; a catalog slug
    resource      = segment *( "/" segment )                  ; at most 500 characters
    segment       = 1*pchar, but not "." nor ".."             ; no empty segments
    pchar         = ALPHA / DIGIT / "-" / "." / "_" / "~"     ; RFC 3986, minus "*"
                  / "!" / "$" / "&" / "'" / "(" / ")" / "+" / "," / ";" / "=" / ":" / "@"
                  / pct-encoded
    pct-encoded   = "%" HEXDIG HEXDIG, upper case, of a byte that needs it: never a letter,
                    digit, "-", ".", "_", "~" (those are written as themselves), "/", "\\",
                    "%" or a control character

So: no backslashes, NUL or other control characters, spaces (write %20), glob characters
("*", "?", "[", "]"), dot segments, empty segments (a leading, trailing or double "/"), and
no percent-encoded form of any of those. A path that passes is already normal, so matching
it is matching its normal form.

Grant patterns (`ProfileGrant.resources`) follow the same grammar, plus the glob
characters "*", "?" and "[...]" of fnmatch (where "*" also matches "/").

Pure functions: no Django, no database."""

from __future__ import annotations

import re
import string

MAX_RESOURCE_CHARS = 500
_CONNECTOR = re.compile(r"[A-Za-z0-9_-]{1,100}")
_UNRESERVED = set(string.ascii_letters + string.digits + "-._~")
_PCHAR = _UNRESERVED | set("!$&'()+,;=:@")
_GLOB = set("*?[]")
_HEX = set("0123456789ABCDEF")
# Bytes that must never be percent-encoded: they have a form of their own, or they are
# exactly what the grammar keeps out (separators, escapes, control characters).
_NEVER_ENCODED = (
    {ord(c) for c in _UNRESERVED} | {ord("/"), ord("\\"), ord("%"), 0x7F} | set(range(0x20))
)


# A segment read left to right: an escape ("%" and the up to two characters after it, checked
# by _check_escape) or a single character.
_TOKENS = re.compile(r"%(?P<escaped>.{0,2})|.", re.DOTALL)


class PathError(ValueError):
    """A data source or resource pattern outside the grammar; the message says where."""


def data_source_split(raw: str) -> tuple[str, str]:
    """Split and check "connector:resource/path"; PathError if it is not in normal form."""
    connector, sep, resource = raw.partition(":")
    if not sep:
        raise PathError(f"{_show(raw)} is not of the form connector:resource/path.")
    if not _CONNECTOR.fullmatch(connector):
        raise PathError(
            f"{_show(connector)} is not a connector slug (letters, digits, '-' and '_')."
        )
    resource_check(resource)
    return connector, resource


def resource_check(resource: str) -> None:
    """Check a resource path (the part after "connector:")."""
    _check(resource, allowed=_PCHAR, what="resource path")


def resource_pattern_check(pattern: str) -> None:
    """Check a grant's resource pattern: the resource grammar plus fnmatch's * ? [...]
    ("!" for a negated set is already a pchar)."""
    _check(pattern, allowed=_PCHAR | _GLOB, what="resource pattern")


def _check(path: str, *, allowed: set[str], what: str) -> None:
    if not path:
        raise PathError(f"The {what} is empty.")
    if len(path) > MAX_RESOURCE_CHARS:
        raise PathError(f"The {what} is longer than {MAX_RESOURCE_CHARS} characters.")
    for segment in path.split("/"):
        _check_segment(segment, path, allowed=allowed, what=what)


def _check_segment(segment: str, path: str, *, allowed: set[str], what: str) -> None:
    if not segment:
        raise PathError(
            f"The {what} {_show(path)} has an empty segment (a leading, trailing or double '/')."
        )
    if segment in (".", ".."):
        raise PathError(f"The {what} {_show(path)} has a '{segment}' segment.")
    for token in _TOKENS.finditer(segment):
        escaped = token.group("escaped")
        if escaped is not None:
            _check_escape(escaped, path, what=what)
        elif token.group() not in allowed:
            raise PathError(
                f"The {what} {_show(path)} contains {_describe(token.group())}, which is not "
                "allowed."
            )


def _check_escape(hex_digits: str, path: str, *, what: str) -> None:
    if len(hex_digits) != 2 or not set(hex_digits) <= _HEX:
        raise PathError(
            f"The {what} {_show(path)} has a '%' that is not followed by two upper-case hex digits."
        )
    if int(hex_digits, 16) in _NEVER_ENCODED:
        raise PathError(
            f"The {what} {_show(path)} percent-encodes %{hex_digits}, which must be written "
            "as itself or not at all."
        )


def _describe(ch: str) -> str:
    if ch == "\\":
        return "a backslash"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"the control character U+{ord(ch):04X}"
    if ch == " ":
        return "a space (write %20)"
    if not ch.isascii():
        return f"the non-ASCII character U+{ord(ch):04X} (percent-encode its UTF-8 bytes)"
    return f"{ch!r}"


def _show(value: str) -> str:
    """A path quoted for a message: control characters escaped, long ones shortened."""
    shown = value.encode("unicode_escape").decode("ascii")
    return f"'{shown if len(shown) <= 80 else shown[:77] + '...'}'"
