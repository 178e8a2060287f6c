"""The WSGI entry point: agent API requests take the slim middleware stack."""

import io
import json

import pytest

from governance.wsgi import AGENT_API_MIDDLEWARE, agent_api, application, pages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("keep_test_connection")]


def call(path: str, *, method="GET", body: dict | None = None, headers=None):
    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "CONTENT_LENGTH": str(len(raw)),
        "CONTENT_TYPE": "application/json",
        **(headers or {}),
    }
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(response_headers)

    content = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], content


def test_the_decision_api_runs_on_the_slim_stack(policy, proposal):
    # No CSRF view hook (nor any other page middleware's) on the agent API's chain.
    assert agent_api._view_middleware == [] and pages._view_middleware
    status, headers, content = call(
        "/api/v1/decisions",
        method="POST",
        body=proposal(),
        headers={"HTTP_AUTHORIZATION": f"Bearer {policy.runtime.token}"},
    )
    assert status == 201, content
    assert json.loads(content)["outcome"] == "allow"
    assert "X-Request-ID" in headers  # the correlation id middleware is there
    assert "Cookie" not in headers.get("Vary", "")  # sessions and CSRF are not


def test_pages_keep_the_full_stack(policy):
    status, headers, _ = call("/accounts/login/")
    assert status == 200
    assert "csrftoken" in headers.get("Set-Cookie", "")
    assert pages is not agent_api
    assert len(AGENT_API_MIDDLEWARE) < 5
