"""The decision request, validated without DRF's serializer machinery (it costs more than
the engine): the same rules, the same field messages and the same error body as
`serializers.DecisionRequestSerializer`, which stays the documented schema. A property test
(governance/tests/test_decision_input.py) holds the two to the same answers."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings

from governance.exceptions import ValidationFailed
from governance.paths import PathError, data_source_split
from governance.services import person_key_from_address

REQUIRED = "This field is required."
NOT_STRING = "Not a valid string."
BLANK = "This field may not be blank."
NULL = "This field may not be null."
NUL_CHARACTER = "Null characters are not allowed."
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
PLUGIN_RE = re.compile(r"^[-a-zA-Z0-9_]+@[0-9A-Za-z][0-9A-Za-z.+_-]*$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:/+-]{1,200}$")
ACTION_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
SLUG_INVALID = "This value does not match the required pattern."


class _Invalid(Exception):
    """A field's errors: a list of messages, or a dict of them by list index."""

    def __init__(self, messages: str | list[str] | dict):
        self.messages = [messages] if isinstance(messages, str) else messages


def _text(value: Any, *, allow_blank: bool = False, invalid: str = NOT_STRING) -> str:
    """DRF's CharField before its validators: str (or a number, as text), trimmed. (A
    RegexField's "invalid" message replaces "Not a valid string." for wrong types too.)"""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(invalid)
    text = str(value).strip()
    if text == "" and not allow_blank:
        raise _Invalid(BLANK)
    return text


def _string(
    value: Any,
    *,
    max_length: int | None,
    allow_blank: bool = False,
    pattern: re.Pattern | None = None,
    message: str = "",
) -> str:
    """DRF's CharField (RegexField with a pattern): every validator's message, in DRF's
    order (length, NUL, surrogates, pattern); a blank value skips them."""
    text = _text(value, allow_blank=allow_blank, invalid=message if pattern else NOT_STRING)
    if text == "":
        return text
    errors = []
    if max_length is not None and len(text) > max_length:
        errors.append(f"Ensure this field has no more than {max_length} characters.")
    if "\x00" in text:
        errors.append(NUL_CHARACTER)
    if pattern is not None and not pattern.search(text):
        errors.append(message)
    if errors:
        raise _Invalid(errors)
    return text


def _regex(value: Any, pattern: re.Pattern, message: str, *, max_length: int, **kw) -> str:
    return _string(value, max_length=max_length, pattern=pattern, message=message, **kw)


def _request_id(value: Any) -> str:
    return _regex(
        value,
        REQUEST_ID_RE,
        "Use 1-200 characters among letters, digits and . _ : / + -",
        max_length=200,
    )


def _on_behalf_of(value: Any) -> str:
    text = _string(value, max_length=254)
    try:
        return person_key_from_address(text)
    except ValidationFailed as error:
        raise _Invalid(error.message) from error


def _profile(value: Any) -> str:
    return _regex(value, SLUG_RE, SLUG_INVALID, max_length=100)


def _action(value: Any) -> str:
    message = "Use lowercase words separated by dots, e.g. crm.read_record."
    return _regex(value, ACTION_RE, message, max_length=100)


def _connector(value: Any) -> str | None:
    if value is None:
        return None
    return _regex(value, SLUG_RE, SLUG_INVALID, max_length=100, allow_blank=True)


def _plugin(value: Any) -> str | None:
    if value is None:
        return None
    message = "Name the plugin with its version, as slug@version."
    return _regex(value, PLUGIN_RE, message, max_length=200, allow_blank=True)


def _model(value: Any) -> str:
    return _string(value, max_length=200, allow_blank=True)


def _data_sources(value: Any) -> list[str]:
    if isinstance(value, str | dict) or not hasattr(value, "__iter__"):
        raise _Invalid(f'Expected a list of items but got type "{type(value).__name__}".')
    errors: dict[str, list[str]] = {}
    sources = []
    for index, item in enumerate(value):
        try:
            sources.append(_data_source(item))
        except _Invalid as error:
            errors[str(index)] = error.messages
    if errors:
        raise _Invalid(errors)
    limit = settings.GOVERNANCE["MAX_DATA_SOURCES"]
    if len(sources) > limit:
        raise _Invalid(f"At most {limit} data sources per decision.")
    return sources


def _data_source(item: Any) -> str:
    if item is None:
        raise _Invalid(NULL)
    text = _text(item)  # the path check comes before the length and NUL validators
    try:
        data_source_split(text)
    except PathError as error:
        raise _Invalid(f"{error} Use connector:resource/path, e.g. crm:account/42.") from error
    return text


def _params(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _Invalid("Must be a JSON object.")
    limit = settings.GOVERNANCE["MAX_PARAMS_BYTES"]
    if len(json.dumps(value)) > limit:
        raise _Invalid(f"Must be at most {limit} bytes of JSON.")
    return value


def _rationale(value: Any) -> str:
    text = _string(value, max_length=None, allow_blank=True)
    limit = settings.GOVERNANCE["MAX_RATIONALE_CHARS"]
    if len(text) > limit:
        raise _Invalid(f"At most {limit} characters.")
    return text


# name -> (parse, required, default when absent, null allowed)
FIELDS = {
    "request_id": (_request_id, True, None, False),
    "on_behalf_of": (_on_behalf_of, True, None, False),
    "profile": (_profile, True, None, False),
    "action": (_action, True, None, False),
    "connector": (_connector, False, None, True),
    "data_sources": (_data_sources, False, list, False),
    "plugin": (_plugin, False, None, True),
    "model": (_model, False, "", False),
    "params": (_params, False, dict, False),
    "rationale": (_rationale, False, "", False),
}


def decision_request_parse(data: Any) -> dict[str, Any]:
    """The validated request (keyword arguments of `decision_create`), or ValidationFailed
    with the serializer's field errors."""
    if data is None:
        _refuse({"non_field_errors": ["No data provided"]})
    if not isinstance(data, dict):
        _refuse({"non_field_errors": ["Send a JSON object."]})
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        _refuse({name: ["Unknown field."] for name in unknown})
    validated: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, (parse, required, default, nullable) in FIELDS.items():
        if name not in data:
            if required:
                errors[name] = [REQUIRED]
            elif default is not None:
                validated[name] = default() if callable(default) else default
            continue
        value = data[name]
        if value is None and not nullable:
            errors[name] = [NULL]
            continue
        try:
            validated[name] = parse(value)
        except _Invalid as error:
            errors[name] = error.messages
    if errors:
        _refuse(errors)
    return validated


def _refuse(fields: dict) -> None:
    raise ValidationFailed("Invalid request.", extra={"fields": fields})
