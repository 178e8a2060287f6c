"""Every operation of the OpenAPI schema, fuzzed by schemathesis through the WSGI app:
with a runtime token, with a personal token and with a session, no answer is a server
error, and every answer conforms to the schema (status, content type, body).

The examples per operation are few (the suite must stay quick); `SCHEMA_FUZZ_EXAMPLES=200`
runs a deeper pass by hand."""

import os
import secrets

import pytest
import schemathesis
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from governance.services import user_token_create
from governance.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_test_connection")]
EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Hundreds of calls a minute per caller: the limits would answer 429 to most."""
    settings.RATE_LIMITS = {}


def api_schema():
    """The schema as /api/schema/ serves it, called through the WSGI app in process."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    return loaded


@pytest.fixture
def runtime_headers(runtime_client, pending):
    """The agent runtime's bearer token (with a pending decision of its own)."""
    return {"Authorization": f"Bearer {runtime_client.runtime.token}"}


@pytest.fixture
def personal_headers(governance_admin, approver, pending):
    """A governance admin's personal token: may change the whole configuration."""
    _, token = user_token_create(governance_admin, actor=governance_admin, name="fuzz")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def session_headers(approver, auditor, pending):
    """An approver's signed-in session, with a CSRF token as the browser sends it."""
    client = Client()
    client.force_login(approver)
    csrf = secrets.token_hex(16)  # an unmasked secret of the right length: cookie = header
    cookies = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    return {"Cookie": cookies, "X-CSRFToken": csrf}


schema = api_schema()
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def check(case, headers):
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_fuzzed_as_the_runtime_no_answer_is_a_server_error_or_off_schema(case, runtime_headers):
    check(case, runtime_headers)


@schema.parametrize()
@FUZZ
def test_fuzzed_with_a_personal_token_no_answer_is_a_server_error_or_off_schema(
    case, personal_headers
):
    check(case, personal_headers)


@schema.parametrize()
@FUZZ
def test_fuzzed_in_a_session_no_answer_is_a_server_error_or_off_schema(case, session_headers):
    check(case, session_headers)
