"""Refusals counted from several processes at once lose nothing: every refusal is in exactly
one event's count, however the requests interleave. Real threads, real PostgreSQL locks."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from audit.choices import EventType
from audit.models import AuditEvent
from audit.services import audit_refusal_record, audit_refusals_flush

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
THREADS, EACH = 4, 60


def knock_concurrently(sources: list[str]) -> list[str]:
    """THREADS threads, released together, each recording EACH refusals spread over three
    minutes, alternating between the sources (so windows open and roll over under load)."""
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []

    def knock(worker: int):
        try:
            barrier.wait(timeout=10)
            for i in range(EACH):
                audit_refusal_record(
                    event_type=EventType.API_AUTH_FAILED,
                    source=sources[(worker + i) % len(sources)],
                    reason="missing_token",
                    detail={"path": "/api/v1/decisions"},
                    now=START + timedelta(seconds=3 * i),
                )
        except Exception as error:  # reported below: the test fails with it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=knock, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_refusals_are_each_counted_once():
    assert knock_concurrently(["198.51.100.1", "198.51.100.2"]) == []
    audit_refusals_flush(now=START + timedelta(minutes=10))
    events = AuditEvent.objects.filter(event_type=EventType.API_AUTH_FAILED)
    assert sum(e.detail["count"] for e in events) == THREADS * EACH
    assert events.count() <= 2 * 5  # per source: a few minutes, a few rows
