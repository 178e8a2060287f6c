"""The lean validation of POST /api/v1/decisions answers exactly as the documented
serializer does: the same validated request, or the same field errors."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.api.decision_input import decision_request_parse
from governance.api.serializers import DecisionRequestSerializer
from governance.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db

# Values that exercise every rule: good ones, wrong types, blanks, NUL, too long, bad
# patterns, look-alike addresses, climbing paths.
TEXTS = st.sampled_from(
    [
        "",
        " ",
        "ok",
        "crm.read_record",
        "Crm.Read",
        "sales",
        "sam@corp.example",
        " Sam@Corp.Example ",
        "g\u0131na@corp.example",
        "not-an-email",
        "outreach@2.1.0",
        "outreach",
        "a\x00b",
        "x" * 201,
        "y" * 255,
        "req-1",
        "crm:account/42",
        "crm:account/../x",
        "crm:",
        "  crm:account/1  ",
    ]
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(0, 2), TEXTS)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.one_of(TEXTS, st.none(), st.integers(0, 3)), max_size=3),
    st.dictionaries(st.sampled_from(["a", "to"]), SCALARS, max_size=2),
)
FIELDS = [
    "request_id",
    "on_behalf_of",
    "profile",
    "action",
    "connector",
    "data_sources",
    "plugin",
    "model",
    "params",
    "rationale",
]
BODIES = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS + ["unknown"]), VALUES, max_size=10),
    st.fixed_dictionaries(
        {"request_id": st.just("r-1"), "on_behalf_of": st.just("sam@corp.example")},
        optional={name: VALUES for name in FIELDS[2:]},
    ),
    VALUES,
)


def through_the_serializer(body):
    serializer = DecisionRequestSerializer(data=body)
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "invalid", json.loads(json.dumps(serializer.errors))


def through_the_lean_parser(body):
    try:
        return "valid", decision_request_parse(body)
    except ValidationFailed as error:
        return "invalid", json.loads(json.dumps(error.extra["fields"]))


@settings(
    max_examples=int(os.environ.get("DIFFERENTIAL_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(BODIES)
def test_the_lean_parser_and_the_serializer_agree(body):
    assert through_the_lean_parser(body) == through_the_serializer(body)


def test_a_complete_request_is_validated_to_the_services_arguments():
    body = {
        "request_id": "r-1",
        "on_behalf_of": " Sam@Corp.Example ",
        "profile": "sales",
        "action": "crm.read_record",
        "data_sources": ["crm:account/42"],
        "plugin": "outreach@2.1.0",
        "params": {"account_id": 42},
    }
    assert decision_request_parse(body) == {
        **body,
        "on_behalf_of": "sam@corp.example",
        "model": "",
        "rationale": "",
    }
    assert through_the_serializer(body)[1] == decision_request_parse(body)
