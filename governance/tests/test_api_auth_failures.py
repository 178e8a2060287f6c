"""Requests with a missing or wrong token are counted in the audit log, one event per
source (address and reason) per minute with a count, so that a flood of them cannot
flood the append-only log, and no refusal goes uncounted."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.choices import EventType
from audit.models import AuditEvent, RefusalTally
from audit.tasks import flush_refusal_counts

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


_clients: dict[str, APIClient] = {}


def knock(address: str = "203.0.113.9", token: str | None = None):
    # One client per address: a new test client loads the middleware again (slow).
    if address not in _clients:
        _clients[address] = APIClient(REMOTE_ADDR=address)
    client = _clients[address]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.post("/api/v1/decisions", {}, format="json", **headers)
    assert response.status_code == 401
    return response


def refusal_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=EventType.API_AUTH_FAILED).order_by("id"))


def test_a_thousand_anonymous_requests_write_a_handful_of_rows_counting_all_of_them(clock):
    for _ in range(1000):  # three minutes of knocking
        knock()
        clock.shift(timedelta(seconds=0.18))
    clock.shift(timedelta(minutes=1))
    flush_refusal_counts()
    rows = refusal_events()
    assert len(rows) <= 5
    assert sum(e.detail["count"] for e in rows) == 1000
    assert {e.detail["remote_addr"] for e in rows} == {"203.0.113.9"}
    assert not RefusalTally.objects.exists()


def test_the_first_refusal_of_a_minute_is_recorded_at_once(clock):
    knock()
    (event,) = refusal_events()
    assert event.reason == "missing_token"
    assert event.outcome == "deny"
    assert event.actor == "system"
    assert event.detail["count"] == 1
    assert event.detail["path"] == "/api/v1/decisions"
    assert event.detail["remote_addr"] == "203.0.113.9"


def test_the_rest_of_the_minute_is_carried_into_the_sources_next_event(clock):
    for _ in range(10):
        knock()
    assert len(refusal_events()) == 1
    clock.shift(timedelta(minutes=1))
    knock()
    first, second = refusal_events()
    assert second.detail["count"] == 10  # nine carried over, and itself
    assert second.detail["since"] == MOMENT.isoformat()


def test_a_source_that_stops_gets_its_last_count_from_the_periodic_flush(clock):
    for _ in range(10):
        knock()
    assert flush_refusal_counts() == 0  # the minute is not over
    clock.shift(timedelta(minutes=1))
    assert flush_refusal_counts() == 1
    assert flush_refusal_counts() == 0  # idempotent
    assert [e.detail["count"] for e in refusal_events()] == [1, 9]


def test_addresses_and_reasons_are_counted_apart(clock):
    knock("198.51.100.1")
    knock("198.51.100.1", token="agc_rt_guessed")
    knock("198.51.100.2")
    knock("198.51.100.2")
    rows = refusal_events()
    assert [(e.detail["remote_addr"], e.reason) for e in rows] == [
        ("198.51.100.1", "missing_token"),
        ("198.51.100.1", "invalid_token"),
        ("198.51.100.2", "missing_token"),
    ]


def test_opening_a_sources_minute_also_writes_other_sources_finished_counts(clock):
    """Without a beat scheduler (the embedded default), counts are not left behind."""
    for _ in range(4):
        knock("198.51.100.1")
    clock.shift(timedelta(minutes=2))
    knock("198.51.100.2")
    counts = sorted((e.detail["remote_addr"], e.detail["count"]) for e in refusal_events())
    assert counts == [("198.51.100.1", 1), ("198.51.100.1", 3), ("198.51.100.2", 1)]


def test_the_address_is_taken_behind_the_configured_proxies(clock, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.77")
    client.post("/api/v1/decisions", {}, format="json")
    (event,) = refusal_events()
    assert event.detail["remote_addr"] == "192.0.2.77"  # not what the client wrote
