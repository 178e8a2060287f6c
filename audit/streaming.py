"""Streaming the audit log to the SIEM sinks (AUDIT_SINKS), in commit order, at least once.

The decision path writes nothing for this: each sink has a cursor (`AuditSinkCursor`, the
last event id it acknowledged) and the stream reads the events after it in id order,
sends them as OCSF events (audit/ocsf.py) in batches, and moves the cursor once the sink
acknowledged a batch. A sink that is down keeps its cursor and catches up, in order,
when it is back. A worker that dies between the acknowledgement and the cursor's move
sends that batch again: a repeat carries the same event id (`metadata.uid`).

Commit order. On PostgreSQL ids come from a sequence at insert time, and transactions
commit in any order: id 11 can be visible while id 10 is still to commit. The stream
therefore sends ids in an unbroken run from the cursor and stops at a gap, except a gap
that is settled by sealing's rule (audit_seal_new_events): once the event after the gap
was recorded longer ago than the sealing margin (AUDIT_SEAL_MARGIN_SECONDS), no
transaction that could still fill it is open, so the gap is an id that was rolled back
(or purged) and is passed over. Gaps normally last a few milliseconds, so the stream
is seconds behind; a rolled-back id holds the events after it back for the margin.

Several workers may run the stream at once: each sink is claimed with a lease (claim by
conditional update), so one worker streams to it at a time, and no transaction is held
open while a sink answers (on SQLite that would hold the write lock decisions need)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent, AuditSeal, AuditSinkCursor
from audit.ocsf import ocsf_api_activity
from audit.sinks import Sink, SinkError, sinks_parse

logger = logging.getLogger(__name__)

LEASE_SECONDS = 120
MAX_BATCHES_PER_RUN = 50


@dataclass
class StreamResult:
    """What one run did for one sink."""

    sink: str
    delivered: int = 0
    last_event_id: int = 0
    error: str = ""
    skipped: bool = False  # another worker holds the sink


def configured_sinks() -> list[Sink]:
    """The sinks of AUDIT_SINKS (validated at start-up by the system check audit.E001)."""
    return sinks_parse(settings.AUDIT_SINKS, timeout=settings.AUDIT_SINK_TIMEOUT_SECONDS)


def audit_stream_deliver(
    *, sinks: list[Sink] | None = None, now: datetime | None = None
) -> list[StreamResult]:
    """Deliver to every configured sink what it has not acknowledged yet, one sink after
    the other; a sink that fails does not hold the others back."""
    return [
        audit_sink_deliver(sink, now=now)
        for sink in (configured_sinks() if sinks is None else sinks)
    ]


def audit_sink_deliver(sink: Sink, *, now: datetime | None = None) -> StreamResult:
    """Send one sink the settled events after its cursor, batch after batch, until it has
    them all, it fails, or the run's share of batches is used."""
    result = StreamResult(sink=sink.name)
    cursor = _sink_cursor(sink)
    token = _claim(cursor, now or timezone.now())
    if token is None:
        result.skipped = True
        return result
    try:
        for _ in range(MAX_BATCHES_PER_RUN):
            rows = deliverable_rows(cursor.last_event_id, now=now or timezone.now())
            if not rows:
                break
            try:
                sink.send(_records(rows))
            except SinkError as error:
                result.error = str(error)
                _failed(cursor, token, result.error, now or timezone.now())
                break
            if not _advance(cursor, token, rows, now or timezone.now()):
                result.error = "lost the sink's lease to another worker"
                break
            result.delivered += len(rows)
    finally:
        _release(cursor, token)
    result.last_event_id = cursor.last_event_id
    return result


def deliverable_rows(after_id: int, *, now: datetime, limit: int | None = None) -> list[dict]:
    """The events after `after_id` that may be sent now, in id order: an unbroken run of
    ids, continued past a gap only once the gap is settled (see the module's doc)."""
    from audit.verification import event_rows

    settled_before = now - timedelta(seconds=settings.AUDIT_SEALING["MARGIN_SECONDS"])
    rows, expected = [], after_id + 1
    for row in event_rows(after_id, limit=limit or settings.AUDIT_SINK_BATCH_SIZE):
        if row["id"] != expected and row["recorded_at"] >= settled_before:
            break  # ids expected..row.id-1 may still commit
        rows.append(row)
        expected = row["id"] + 1
    return rows


def _records(rows: list[dict]) -> list[dict[str, Any]]:
    seals = _seals_covering(rows[0]["id"], rows[-1]["id"])
    return [ocsf_api_activity(row, seal_id=_seal_of(row["id"], seals)) for row in rows]


def _seals_covering(first_id: int, last_id: int) -> list[tuple[int, int, int]]:
    return list(
        AuditSeal.objects.filter(last_event_id__gte=first_id, first_event_id__lte=last_id)
        .order_by("first_event_id")
        .values_list("first_event_id", "last_event_id", "id")
    )


def _seal_of(event_id: int, seals: list[tuple[int, int, int]]) -> int | None:
    for first, last, seal_id in seals:
        if first <= event_id <= last:
            return seal_id
    return None


def _sink_cursor(sink: Sink) -> AuditSinkCursor:
    """The sink's cursor; a new sink starts before the oldest event the log still holds
    (the ids below it were purged or never used, so there is no gap to wait for)."""
    cursor = AuditSinkCursor.objects.filter(name=sink.name).first()
    if cursor is None:
        oldest = AuditEvent.objects.order_by("id").values_list("id", flat=True).first()
        cursor, _ = AuditSinkCursor.objects.get_or_create(
            name=sink.name,
            defaults={
                "kind": sink.kind,
                "target": sink.target,
                "last_event_id": oldest - 1 if oldest else 0,
            },
        )
    if (cursor.kind, cursor.target) != (sink.kind, sink.target):
        # The sink moved (a new address, same name): it keeps its place in the log.
        AuditSinkCursor.objects.filter(pk=cursor.pk).update(kind=sink.kind, target=sink.target)
    return cursor


def _claim(cursor: AuditSinkCursor, now: datetime) -> str | None:
    """Take the sink's lease unless another worker holds a live one; returns its token.
    Re-reads the cursor, which the previous holder may have moved."""
    token = str(uuid.uuid4())
    claimed = (
        AuditSinkCursor.objects.filter(pk=cursor.pk)
        .exclude(lease_until__gt=now)
        .update(lease_token=token, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    if not claimed:
        return None
    cursor.refresh_from_db()
    return token


def _advance(cursor: AuditSinkCursor, token: str, rows: list[dict], now: datetime) -> bool:
    """Move the cursor past an acknowledged batch, if the lease is still ours."""
    last_id = rows[-1]["id"]
    moved = AuditSinkCursor.objects.filter(
        pk=cursor.pk, lease_token=token, last_event_id=cursor.last_event_id
    ).update(
        last_event_id=last_id,
        last_delivered_at=now,
        delivered=F("delivered") + len(rows),
        failures=0,
        lease_until=now + timedelta(seconds=LEASE_SECONDS),
    )
    if moved:
        cursor.last_event_id = last_id
    return bool(moved)


def _failed(cursor: AuditSinkCursor, token: str, error: str, now: datetime) -> None:
    logger.warning(
        "Audit sink %s failed at event #%s: %s", cursor.name, cursor.last_event_id, error
    )
    AuditSinkCursor.objects.filter(pk=cursor.pk, lease_token=token).update(
        failures=F("failures") + 1, last_error=error[:2000], last_failure_at=now
    )


def _release(cursor: AuditSinkCursor, token: str) -> None:
    AuditSinkCursor.objects.filter(pk=cursor.pk, lease_token=token).update(
        lease_token="", lease_until=None
    )
