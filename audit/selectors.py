"""Reads of the audit log: who may read it, keyset pages, a count that stays fast, and the
rows of an export (streamed)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent, AuditSeal, AuditSinkCursor
from governance.permissions import is_auditor, is_governance_admin, is_leadership

PAGE_SIZE = 50
COUNT_CAP = 10_000
EXPORT_CHUNK = 2_000
EXPORT_FIELDS = AuditEvent.RECORD_FIELDS + (
    "id",
    "event_type",
    "outcome",
    "reason",
    "profile",
    "profile_revision",
    "policy_revision",
    "request_id",
    "params_digest",
    "approved_params_digest",
    "decision_id",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "detail",
    "correlation_id",
    "content_hash",
)


# Sealing runs every minute on events older than the margin: an event still unsealed this
# long after the margin means the periodic work is not running.
SEALING_STALLED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class SealingState:
    """What is sealed, and since when something is waiting to be: what the pages say
    about sealing instead of promising it happens every minute."""

    last_seal: AuditSeal | None
    oldest_unsealed_at: datetime | None
    stalled: bool


def sealing_state(*, now: datetime | None = None) -> SealingState:
    """The last seal, and the oldest event written since (two indexed reads)."""
    now = now or timezone.now()
    last_seal = AuditSeal.objects.order_by("-id").first()
    first_unsealed = (
        AuditEvent.objects.filter(id__gt=last_seal.last_event_id if last_seal else 0)
        .order_by("id")
        .values_list("recorded_at", flat=True)
        .first()
    )
    margin = timedelta(seconds=settings.AUDIT_SEALING["MARGIN_SECONDS"])
    stalled = first_unsealed is not None and (now - first_unsealed > margin + SEALING_STALLED_AFTER)
    return SealingState(last_seal, first_unsealed, stalled)


def can_read_audit(user) -> bool:
    """Auditors, governance admins and leadership read the log."""
    return is_auditor(user) or is_governance_admin(user) or is_leadership(user)


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    older_than: int | None  # cursor of the next (older) page
    newer_than: int | None  # cursor of the previous (newer) page


def audit_event_page(
    queryset: QuerySet[AuditEvent],
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """A keyset page, newest first: `id < older_than` or `id > newer_than`, never OFFSET,
    so page 1000 costs what page 1 costs."""
    if newer_than is not None:
        rows = list(queryset.filter(id__gt=newer_than).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        events = rows[:size][::-1]
        return EventPage(
            events,
            older_than=events[-1].pk if events else newer_than + 1,
            newer_than=events[0].pk if events and more_newer else None,
        )
    if older_than is not None:
        queryset = queryset.filter(id__lt=older_than)
    rows = list(queryset.order_by("-id")[: size + 1])
    events = rows[:size]
    return EventPage(
        events,
        older_than=events[-1].pk if len(rows) > size else None,
        newer_than=events[0].pk if events and older_than is not None else None,
    )


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool
    estimated: bool = False

    def __str__(self) -> str:
        if self.estimated:
            return f"about {self.value:,}"
        return f"{self.value:,}" if self.exact else f"more than {self.value:,}"


def audit_event_count(queryset: QuerySet[AuditEvent], *, filtered: bool) -> Count:
    """Exact up to 10,000; beyond, "more than 10,000" (a capped count reads at most that
    many index entries). The whole log on PostgreSQL: the planner's estimate."""
    if not filtered and connection.vendor == "postgresql":
        estimate = _postgres_estimate()
        if estimate > COUNT_CAP:
            return Count(estimate, exact=False, estimated=True)
    value = queryset[: COUNT_CAP + 1].count()
    return Count(min(value, COUNT_CAP), exact=value <= COUNT_CAP)


def _postgres_estimate() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'audit_auditevent'::regclass"
        )
        return max(int(cursor.fetchone()[0]), 0)


def _as_json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _as_iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _as_is(value):
    return value


# One converter per exported column, chosen once (not per cell).
_JSON_COLUMNS = {"data_sources", "changes", "detail"}
_CONVERTERS = [
    _as_json if name in _JSON_COLUMNS else _as_iso if name == "timestamp" else _as_is
    for name in EXPORT_FIELDS
]


def export_rows(queryset: QuerySet[AuditEvent]) -> Iterator[dict]:
    """The filtered events, newest first, as dicts in the export's field order. A
    server-side cursor (on PostgreSQL) keeps memory flat however many rows."""
    return queryset.order_by("-id").values(*EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK)


# A cell a spreadsheet would run as a formula (an agent chooses its request id, a person
# the name of a profile): prefixed with ' so it shows as text (OWASP's CSV injection advice).
# JSON Lines carries every value unchanged.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(
            [
                spreadsheet_safe(convert(row[name]))
                for convert, name in zip(_CONVERTERS, EXPORT_FIELDS, strict=True)
            ]
        )
        yield buffer.getvalue()


def export_jsonl(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        record = {name: row[name] for name in EXPORT_FIELDS}
        record["timestamp"] = record["timestamp"].isoformat()
        if record["decision_id"] is not None:
            record["decision_id"] = str(record["decision_id"])
        yield json.dumps(record, ensure_ascii=False) + "\n"


EXPORTERS = {
    "csv": (export_csv, "text/csv; charset=utf-8"),
    "jsonl": (export_jsonl, "application/x-ndjson; charset=utf-8"),
}


def object_history(object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    """The changes of one configured object, newest first."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("-id")


@dataclass(frozen=True)
class SinkStatus:
    """One SIEM sink as the integrity page shows it: where its cursor is, how far behind
    the log it is, and how its last attempts went."""

    cursor: AuditSinkCursor
    configured: bool
    waiting: int  # events after the cursor (capped at COUNT_CAP)
    waiting_capped: bool
    oldest_waiting_at: datetime | None  # when the oldest event it has not received was written
    lag_seconds: float | None


def sink_status_list(*, now: datetime | None = None) -> list[SinkStatus]:
    """Every sink that is configured or has a cursor (one that left AUDIT_SINKS keeps its
    place), with its lag: a few indexed reads per sink, no scan of the log."""
    from audit.sinks import SinkConfigError, sinks_parse

    now = now or timezone.now()
    try:
        sinks = sinks_parse(settings.AUDIT_SINKS)
    except SinkConfigError:
        sinks = []
    cursors = {cursor.name: cursor for cursor in AuditSinkCursor.objects.all()}
    for sink in sinks:  # configured, but the stream has not run for it yet
        cursors.setdefault(
            sink.name, AuditSinkCursor(name=sink.name, kind=sink.kind, target=sink.target)
        )
    names = {sink.name for sink in sinks}
    return [_sink_status(cursors[name], name in names, now) for name in sorted(cursors)]


def _sink_status(cursor: AuditSinkCursor, configured: bool, now: datetime) -> SinkStatus:
    after = AuditEvent.objects.filter(id__gt=cursor.last_event_id)
    waiting = after.order_by("id")[: COUNT_CAP + 1].count()
    oldest = after.order_by("id").values_list("recorded_at", flat=True).first()
    return SinkStatus(
        cursor=cursor,
        configured=configured,
        waiting=min(waiting, COUNT_CAP),
        waiting_capped=waiting > COUNT_CAP,
        oldest_waiting_at=oldest,
        lag_seconds=(now - oldest).total_seconds() if oldest else None,
    )
