"""API rate limits: per runtime on the decision API, per person on the approvals and
configuration APIs; a 429 with Retry-After past the limit, and a fresh budget in the next
window."""

import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from governance.models import Decision
from governance.ratelimit import rate_limit_hit
from governance.services import user_token_create
from governance.tests.factories import AgentRuntimeFactory

pytestmark = pytest.mark.django_db

# 10:00:30 UTC: half-way through a one-minute window.
MOMENT = datetime(2026, 3, 4, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def limits(settings):
    """Small limits, so that a test reaches them in a few requests."""
    settings.RATE_LIMITS = {"decisions": (3, 60), "approvals": (2, 60), "config": (2, 60)}
    return settings.RATE_LIMITS


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


def as_person(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_limiter_counts_within_a_window_and_says_how_long_to_wait(limits):
    start = 1_000_040.0  # 20 s into a window of 60 s (1,000,020 = 16,667 × 60 starts one)
    assert [rate_limit_hit("decisions", "k", now=start + i) for i in range(3)] == [None] * 3
    assert rate_limit_hit("decisions", "k", now=start + 10) == pytest.approx(30.0)
    assert rate_limit_hit("decisions", "other-key", now=start + 10) is None
    assert rate_limit_hit("decisions", "k", now=start + 40) is None  # the next window


def test_a_scope_set_to_off_is_not_limited(settings):
    settings.RATE_LIMITS = {"decisions": None}
    assert all(rate_limit_hit("decisions", "k", now=5.0) is None for _ in range(50))


def test_the_decision_api_answers_429_as_a_deny_past_the_runtimes_limit(limits, clock, decide):
    assert [decide().status_code for _ in range(3)] == [201, 201, 201]
    refused = decide()
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["outcome"] == "deny"
    assert body["retry_after"] == 30
    assert "30 seconds" in body["detail"]
    assert Decision.objects.count() == 3  # the refused request decided nothing


def test_the_decision_limit_resets_in_the_next_window(limits, clock, decide):
    for _ in range(4):
        decide()
    clock.shift(timedelta(seconds=30))
    assert decide().status_code == 201


def test_polling_and_outcome_reports_count_against_the_same_runtime_budget(
    limits, clock, decide, runtime_client
):
    decision_id = decide().json()["decision_id"]
    runtime_client.get(f"/api/v1/decisions/{decision_id}")
    runtime_client.get(f"/api/v1/decisions/{decision_id}")
    assert runtime_client.get(f"/api/v1/decisions/{decision_id}").status_code == 429


def test_each_runtime_has_its_own_budget(limits, clock, decide, policy, proposal):
    for _ in range(4):
        decide()
    other = AgentRuntimeFactory(name="other-agent", profiles=[policy.profile])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other.token}")
    assert client.post("/api/v1/decisions", proposal(), format="json").status_code == 201


def test_the_approvals_api_answers_429_per_person(limits, clock, approver, second_approver):
    client = as_person(approver)
    assert [client.get("/api/v1/approvals").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/approvals")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert refused.json()["code"] == "rate_limited"
    assert "outcome" not in refused.json()  # a person is not an agent awaiting a decision
    assert as_person(second_approver).get("/api/v1/approvals").status_code == 200
    clock.shift(timedelta(seconds=30))
    assert client.get("/api/v1/approvals").status_code == 200


def test_a_personal_token_counts_against_its_persons_budget(limits, clock, approver):
    _, token = user_token_create(approver, actor=approver, name="bot")
    bot = APIClient()
    bot.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    bot.get("/api/v1/approvals")
    as_person(approver).get("/api/v1/approvals")
    assert bot.get("/api/v1/approvals").status_code == 429


def test_the_configuration_api_answers_429_per_person(limits, clock, governance_admin, policy):
    client = as_person(governance_admin)
    assert client.get("/api/v1/profiles").status_code == 200
    grant = {"profile": "sales", "connector": "crm", "resources": ["contact/*"], "access": "read"}
    assert client.post("/api/v1/grants", grant, format="json").status_code == 201
    refused = client.get("/api/v1/policy")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert refused.json()["code"] == "rate_limited"
    clock.shift(timedelta(seconds=30))
    assert client.get("/api/v1/policy").status_code == 200


def test_the_catalog_and_audit_apis_share_the_configuration_budget(
    limits, clock, governance_admin, policy
):
    client = as_person(governance_admin)
    client.get("/api/v1/catalog/items")
    client.get("/api/v1/audit/events")
    assert client.get("/api/v1/catalog/items").status_code == 429


def test_requests_without_credentials_are_refused_before_being_counted(limits, clock, proposal):
    anonymous = APIClient()
    statuses = {
        anonymous.post("/api/v1/decisions", proposal(), format="json").status_code for _ in range(5)
    }
    assert statuses == {401}


def test_a_cache_that_does_not_answer_lets_requests_through(limits, clock, decide, settings):
    """Rate limits protect the service; a cache outage must not become an outage."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    assert [decide().status_code for _ in range(5)] == [201] * 5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_the_limiter_counts_in_the_shared_redis_cache(limits, settings):
    """Production's configuration: every process counts against the same Redis counter."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"agc-test-{uuid.uuid4().hex}",
        }
    }
    start = 2_000_040.0  # 0 s into a window of 60 s
    assert [rate_limit_hit("decisions", "k", now=start) for _ in range(3)] == [None] * 3
    assert rate_limit_hit("decisions", "k", now=start + 15) == pytest.approx(45.0)
    assert rate_limit_hit("decisions", "k", now=start + 60) is None
