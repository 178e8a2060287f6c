"""JSON request bodies, parsed strictly: what the database could not store, or what only
exists to exhaust the server, is a 400 that says where it is, before any field is read.

- nesting deeper than MAX_JSON_DEPTH (Python's parser would hit its recursion limit and
  the request would become a 5xx);
- NUL characters and lone surrogates in any string or key (PostgreSQL refuses the first in
  text and JSON, and nothing can encode the second as UTF-8);
- NaN and Infinity (not JSON; PostgreSQL's jsonb refuses them).

Everything an agent sends is hostile input: these checks run on every JSON body of the
API, the decision path included."""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONRejected(ValueError):
    """A body that is not acceptable JSON; the message names the place."""


def _refuse_constant(name: str) -> Any:
    raise JSONRejected(f"{name} is not a JSON number.")


def json_loads_strict(raw: bytes | str, *, max_depth: int | None = None) -> Any:
    """Parse a JSON document and check every value in it (see the module docstring)."""
    depth_limit = max_depth or settings.GOVERNANCE["MAX_JSON_DEPTH"]
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise JSONRejected("The request body is not UTF-8.") from error
    _check_depth_before_parsing(text, depth_limit)
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise JSONRejected(f"JSON nested deeper than {depth_limit} levels.") from error
    except json.JSONDecodeError as error:
        raise JSONRejected(f"Malformed JSON: {error.msg} (line {error.lineno}).") from error
    json_value_check(value)
    return value


def _check_depth_before_parsing(text: str, limit: int) -> None:
    """Refuse deep nesting without recursing: count open brackets outside strings."""
    if text.count("[") + text.count("{") <= limit:
        return
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                raise JSONRejected(f"JSON nested deeper than {limit} levels.")
        elif ch in "]}":
            depth -= 1


def json_value_check(value: Any, *, where: str = "") -> None:
    """Refuse NUL, lone surrogates and non-finite numbers anywhere in a parsed value,
    naming the first place (`params.to[2]`). Iterative: depth was bounded before."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            _check_string(item, path or "the body")
        elif isinstance(item, float) and not math.isfinite(item):
            raise JSONRejected(f"{path or 'The body'} is not a finite number.")
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key, f"a key of {path or 'the body'}")
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))


def _check_string(text: str, where: str) -> None:
    if "\x00" in text:
        raise JSONRejected(f"{where} contains a NUL character (\\u0000), which is not allowed.")
    try:
        text.encode("utf-8")  # in C: fails exactly on lone surrogates
    except UnicodeEncodeError as error:
        raise JSONRejected(
            f"{where} contains a lone surrogate (\\ud800-\\udfff), which is not text."
        ) from error


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with the checks above; any refusal is a 400 (ParseError)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return json_loads_strict(raw)
        except JSONRejected as error:
            raise ParseError(str(error)) from error
