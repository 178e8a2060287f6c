"""Conditions: CEL expressions over what an action would do, compiled once per policy.

A condition belongs to an action type or a profile and reads the request through these
variables:

    params        map     the request's params object (`params.amount > 10000`)
    data_sources  list    strings such as "crm:account/42"
    on_behalf_of  string  the person's canonical e-mail
    profile       string  the profile's slug
    action        string  the action type's key
    connector     string  the connector the action changes ("" for a read)
    plugin        string  "slug@version" or ""
    model         string  the model named by the agent, or ""
    now           timestamp

Expressions are CEL (Common Expression Language), evaluated by Google's own implementation
(cel-cpp, through the `cel-expr-python` package): it type-checks an expression against the
variables above when it is compiled, so a misspelled variable or a comparison of a string
with a number is refused when the condition is saved, with the position of the error; and
an evaluation that fails (a missing field, a wrong type at run time) comes back as an error
value, never an exception that could escape.

Safety limits, checked when a condition is compiled: at most MAX_CHARS characters, and no
comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) inside another, so that an
evaluation is at most linear in the size of the params (themselves at most 64 KiB); RE2
regular expressions run in linear time.

No Django here: the engine calls `CompiledCondition.evaluate` on values it already has."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cel_expr_python import cel

MAX_CHARS = 2000
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
COMPREHENSIONS = re.compile(r"\.\s*(all|exists_one|exists|map|filter)\s*\(")


class Effect(StrEnum):
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"
    AUTO_EXECUTE = "auto_execute"


class Mode(StrEnum):
    ENFORCE = "enforce"
    SHADOW = "shadow"


class ConditionError(ValueError):
    """A condition that cannot be saved; the message names it and, for an expression,
    the position of the error."""


_T = cel.Type
_ENV = cel.NewEnv(
    variables={
        "params": _T.Map(_T.STRING, _T.DYN),
        "data_sources": _T.List(_T.STRING),
        "on_behalf_of": _T.STRING,
        "profile": _T.STRING,
        "action": _T.STRING,
        "connector": _T.STRING,
        "plugin": _T.STRING,
        "model": _T.STRING,
        "now": _T.TIMESTAMP,
    }
)
VARIABLES = ("params", "data_sources", "on_behalf_of", "profile", "action", "connector")
VARIABLES += ("plugin", "model", "now")


@dataclass(frozen=True)
class Condition:
    """A condition as configured (stored as JSON on its action type or profile)."""

    name: str
    when: str
    effect: Effect
    mode: Mode = Mode.ENFORCE
    message: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        return cls(
            name=data["name"],
            when=data["when"],
            effect=Effect(data["effect"]),
            mode=Mode(data.get("mode") or Mode.ENFORCE),
            message=data.get("message") or "",
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "when": self.when,
            "effect": self.effect.value,
            "mode": self.mode.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class CompiledCondition:
    """A condition with its program, ready to evaluate (held in the policy snapshot)."""

    condition: Condition
    program: Any = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.condition.name

    def evaluate(self, variables: Mapping[str, Any]) -> bool:
        """True or False; ConditionEvaluationError when the evaluation fails (a missing
        field, a wrong type at run time) or does not give a boolean."""
        try:
            value = self.program.eval(activation=_activation(variables))
        except Exception as error:  # the binding's own failures (e.g. an unconvertible value)
            raise ConditionEvaluationError(str(error)) from error
        if value.type() == _T.ERROR:
            raise ConditionEvaluationError(str(value.plain_value()))
        result = value.plain_value()
        if not isinstance(result, bool):
            raise ConditionEvaluationError(f"gave {type(result).__name__}, not true or false")
        return result


# One activation (the variables converted for cel-cpp) per decision, shared by all of its
# conditions: building it costs more than evaluating a condition with it (bench/
# conditions_bench.py). Only an immutable mapping (the engine passes a MappingProxyType over
# a dict of its own) is reused by identity, so a caller that changes a dict between two
# evaluations never sees stale values; one slot per thread, so threads never share one.
_last = threading.local()


def _activation(variables: Mapping[str, Any]) -> Any:
    if not isinstance(variables, MappingProxyType):
        return _ENV.Activation(data=variables)
    cached = getattr(_last, "pair", None)
    if cached is not None and cached[0] is variables:
        return cached[1]
    activation = _ENV.Activation(data=variables)
    _last.pair = (variables, activation)  # holds `variables`, so its id is never reused
    return activation


class ConditionEvaluationError(Exception):
    """An evaluation that failed: never an allow (see the engine)."""


@dataclass(frozen=True)
class BrokenCondition:
    """A stored condition that no longer compiles: every evaluation fails (never allows)."""

    condition: Condition
    problem: str

    @property
    def name(self) -> str:
        return self.condition.name

    def evaluate(self, variables: Mapping[str, Any]) -> bool:
        raise ConditionEvaluationError(self.problem)


def condition_compile(condition: Condition) -> CompiledCondition:
    """Check and compile one condition; ConditionError names what is wrong and where."""
    where = f"Condition '{condition.name}'"
    if not NAME_RE.match(condition.name):
        raise ConditionError(
            f"{where}: a name is 1-80 lowercase letters, digits, '-' or '_', starting with a "
            "letter or digit."
        )
    text = condition.when
    if not isinstance(text, str) or not text.strip():
        raise ConditionError(f"{where}: give the expression to evaluate (when).")
    if len(text) > MAX_CHARS:
        raise ConditionError(f"{where}: the expression is longer than {MAX_CHARS} characters.")
    _check_no_nested_comprehension(where, text)
    try:
        program = _ENV.compile(text)
    except Exception as error:  # cel-cpp reports "ERROR: <input>:line:col: message"
        raise ConditionError(f"{where}: {_compile_message(str(error))}") from error
    if program.return_type() not in (_T.BOOL, _T.DYN):
        raise ConditionError(
            f"{where}: the expression gives a {program.return_type().name().lower()}, "
            "not true or false."
        )
    return CompiledCondition(condition, program)


def _compile_message(raw: str) -> str:
    """cel-cpp's error, shortened to its position and message ("line 1, column 16: ...")."""
    found = re.search(r"<input>:(\d+):(\d+): ([^\n|]+)", raw)
    if not found:
        return raw.removeprefix("INVALID_ARGUMENT: ").strip()
    line, column, message = found.groups()
    return f"line {line}, column {column}: {message.strip()}"


STRING_LITERAL = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")


def _check_no_nested_comprehension(where: str, text: str) -> None:
    """Refuse `all`/`exists`/`map`/`filter` inside the argument of another one (string
    literals are blanked first, so a ")" inside one cannot hide a nesting)."""
    text = STRING_LITERAL.sub("''", text)
    for match in COMPREHENSIONS.finditer(text):
        depth, start = 0, match.end()
        for index in range(start, len(text)):
            char = text[index]
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    inner = text[start:index]
                    if COMPREHENSIONS.search(inner):
                        raise ConditionError(
                            f"{where}: a comprehension ({match.group(1)}) may not contain "
                            "another one; split the condition in two."
                        )
                    break
                depth -= 1


def conditions_parse(value: object, *, owner: str) -> list[Condition]:
    """A stored list of conditions (JSON), checked: a list of mappings with exactly the keys
    name, when, effect, mode, message; names unique within their owner; every one compiles.
    ConditionError otherwise, naming the condition (or its position in the list)."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ConditionError(f"The conditions of {owner} must be a list.")
    conditions, names = [], set()
    for index, item in enumerate(value):
        condition = _condition_from(item, f"{owner}, condition {index + 1}")
        if condition.name in names:
            raise ConditionError(f"Condition '{condition.name}': the name is used twice.")
        names.add(condition.name)
        condition_compile(condition)
        conditions.append(condition)
    return conditions


KEYS = {"name", "when", "effect", "mode", "message"}


def _condition_from(item: object, where: str) -> Condition:
    if not isinstance(item, Mapping):
        raise ConditionError(f"{where}: give a mapping with name, when, effect, mode, message.")
    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise ConditionError(f"{where}: unknown key(s) {', '.join(unknown)}.")
    missing = sorted({"name", "when", "effect"} - set(item))
    if missing:
        raise ConditionError(f"{where}: missing {', '.join(missing)}.")
    for key in KEYS & set(item):
        if item[key] is not None and not isinstance(item[key], str):
            raise ConditionError(f"{where}: {key} must be text.")
    try:
        return Condition.from_dict(item)
    except ValueError as error:
        effects = ", ".join(e.value for e in Effect)
        modes = ", ".join(m.value for m in Mode)
        raise ConditionError(
            f"{where}: the effect is one of {effects} and the mode one of {modes}."
        ) from error


def condition_variables(
    *,
    params: Mapping[str, Any],
    data_sources: tuple[str, ...],
    on_behalf_of: str,
    profile: str,
    action: str,
    connector: str | None,
    plugin: str | None,
    model: str,
    now: datetime,
) -> dict[str, Any]:
    """The variables of an evaluation, from one request."""
    return {
        "params": dict(params),
        "data_sources": list(data_sources),
        "on_behalf_of": on_behalf_of,
        "profile": profile,
        "action": action,
        "connector": connector or "",
        "plugin": plugin or "",
        "model": model or "",
        "now": now,
    }
