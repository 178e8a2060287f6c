"""A readable diff of the params an agent proposed and the params a person approved.

Pure functions over JSON values: nested objects and lists are compared leaf by leaf and
named by their path (`items[0].price`), long texts by word, so that an approver (and an
auditor, later) reads what changed instead of comparing two digests."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# Texts longer than this are compared word by word (a changed sentence in an e-mail body).
INLINE_FROM = 40
_MISSING = object()
_WORDS = re.compile(r"(\s+)")


@dataclass(frozen=True)
class ParamChange:
    """One leaf that differs: its path, what kind of change, and both values as text.
    `segments` spell a long text's change as ("equal" | "delete" | "insert", text)."""

    path: str
    kind: str
    before: str | None
    after: str | None
    segments: list[tuple[str, str]] = field(default_factory=list)


def params_diff(before: Any, after: Any) -> list[ParamChange]:
    """The leaves that differ between `before` and `after`, in path order."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for path in sorted(set(old) | set(new), key=_path_key):
        a, b = old.get(path, _MISSING), new.get(path, _MISSING)
        if a == b and type(a) is type(b):
            continue
        if a is _MISSING:
            changes.append(ParamChange(path, ADDED, None, _text(b)))
        elif b is _MISSING:
            changes.append(ParamChange(path, REMOVED, _text(a), None))
        else:
            changes.append(ParamChange(path, CHANGED, _text(a), _text(b), _segments(a, b)))
    return changes


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        leaves: dict[str, Any] = {}
        for key, item in value.items():
            leaves.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return leaves
    if isinstance(value, list) and value:
        leaves = {}
        for index, item in enumerate(value):
            leaves.update(_flatten(item, f"{path}[{index}]"))
        return leaves
    return {path or "(params)": value}


def _path_key(path: str) -> list:
    # items[10] after items[9]: numbers compare as numbers.
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


def _text(value: Any) -> str:
    """Strings as written; everything else as JSON (true, null, 12.5, [])."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _segments(before: Any, after: Any) -> list[tuple[str, str]]:
    if not (isinstance(before, str) and isinstance(after, str)):
        return []
    if max(len(before), len(after)) < INLINE_FROM:
        return []
    old, new = _WORDS.split(before), _WORDS.split(after)
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(("delete", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(("insert", "".join(new[j1:j2])))
    return segments
