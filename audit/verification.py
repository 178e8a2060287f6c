"""Verification of the audit log: recompute every sealed event's keyed hash, check each
seal's ids, count, events hash, signature and chain, and name the first thing that fails.

Reads only; used by `manage.py verify_audit`, the integrity page and the event page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max

from audit.models import AuditEvent, AuditPurge, AuditSeal
from audit.sealing import SealBody, event_content_hash, events_hash, ids_of, signature_valid

CHUNK = 2000


@dataclass(frozen=True)
class Problem:
    kind: str  # event_changed | event_removed | event_inserted | seal_altered | chain_broken
    message: str
    seal_id: int | None = None
    event_id: int | None = None


@dataclass
class Report:
    seals: int = 0
    purged_seals: int = 0
    events: int = 0
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def signing_keys() -> list[str]:
    return [settings.AUDIT_SIGNING_KEY, *settings.AUDIT_PREVIOUS_SIGNING_KEYS]


def _body(seal: AuditSeal) -> SealBody:
    return SealBody(
        first_event_id=seal.first_event_id,
        last_event_id=seal.last_event_id,
        event_count=seal.event_count,
        id_ranges=seal.id_ranges,
        events_hash=seal.events_hash,
        previous_hash=seal.previous_hash,
        created_at=seal.created_at,
    )


def _seal_itself(seal: AuditSeal, previous_hash: str | None) -> Problem | None:
    """The seal's hash, signature and link to the previous seal."""
    if _body(seal).hash() != seal.seal_hash or not signature_valid(
        seal.seal_hash, seal.signature, signing_keys()
    ):
        return Problem(
            "seal_altered", f"Seal #{seal.pk} was altered: its signature does not match.", seal.pk
        )
    if previous_hash is not None and seal.previous_hash != previous_hash:
        return Problem(
            "chain_broken",
            f"Seal #{seal.pk} does not follow the seal before it: a seal was removed or inserted.",
            seal.pk,
        )
    return None


def _event_rows(after_id: int, last_id: int) -> Iterator[dict]:
    fields = ("id", "content_hash", *AuditEvent.HASHED_FIELDS)
    queryset = AuditEvent.objects.filter(id__gt=after_id, id__lte=last_id).order_by("id")
    return queryset.values(*fields).iterator(chunk_size=CHUNK)


def _content_valid(row: dict, keys: list[str]) -> bool:
    content = {name: row[name] for name in AuditEvent.HASHED_FIELDS}
    return any(event_content_hash(content, key) == row["content_hash"] for key in keys)


def seal_problems(seal: AuditSeal, *, after_id: int | None = None, limit: int = 1) -> list[Problem]:
    """Everything wrong with the events of one seal (at most `limit` problems).

    `after_id` is the previous seal's last event: an event between two seals was inserted."""
    keys = signing_keys()
    expected = set(ids_of(seal.id_ranges))
    start = seal.first_event_id - 1 if after_id is None else after_id
    problems, pairs = [], []
    for row in _event_rows(start, seal.last_event_id):
        event_id = row["id"]
        if event_id not in expected:
            problems.append(
                Problem(
                    "event_inserted",
                    f"Event #{event_id} was inserted into sealed history.",
                    seal.pk,
                    event_id,
                )
            )
        elif not _content_valid(row, keys):
            problems.append(
                Problem(
                    "event_changed",
                    f"Event #{event_id} was changed after it was written.",
                    seal.pk,
                    event_id,
                )
            )
        else:
            expected.discard(event_id)
            pairs.append((event_id, row["content_hash"]))
            continue
        expected.discard(event_id)
        if len(problems) >= limit:
            return problems
    for event_id in sorted(expected):
        problems.append(
            Problem("event_removed", f"Event #{event_id} was removed.", seal.pk, event_id)
        )
        if len(problems) >= limit:
            return problems
    if not problems and events_hash(pairs) != seal.events_hash:
        problems.append(
            Problem("seal_altered", f"Seal #{seal.pk}'s events hash does not match.", seal.pk)
        )
    return problems[:limit]


def audit_verify(*, limit: int = 1) -> Report:
    """Verify the whole chain from the first seal; stop after `limit` problems."""
    report = Report()
    purged_through = AuditPurge.objects.aggregate(last=Max("through_seal_id"))["last"] or 0
    previous_hash, previous_last = "", 0
    for seal in AuditSeal.objects.order_by("id").iterator():
        report.seals += 1
        problem = _seal_itself(seal, previous_hash)
        if problem:
            report.problems.append(problem)
        elif seal.pk <= purged_through:
            report.purged_seals += 1  # its events were removed on purpose
        else:
            report.problems += seal_problems(
                seal, after_id=previous_last, limit=limit - len(report.problems)
            )
            report.events += seal.event_count
        if len(report.problems) >= limit:
            return report
        previous_hash, previous_last = seal.seal_hash, seal.last_event_id
    report.unsealed = AuditEvent.objects.filter(id__gt=previous_last).count()
    return report


@dataclass(frozen=True)
class EventSealStatus:
    seal: AuditSeal | None
    problem: Problem | None

    @property
    def verified(self) -> bool:
        return self.seal is not None and self.problem is None


def event_seal_status(event: AuditEvent) -> EventSealStatus:
    """Is this event inside a seal, and does that seal (and the event) verify?"""
    seal = AuditSeal.objects.filter(
        first_event_id__lte=event.pk, last_event_id__gte=event.pk
    ).first()
    if seal is None:
        return EventSealStatus(None, None)
    previous = AuditSeal.objects.filter(pk__lt=seal.pk).order_by("-pk").first()
    problem = _seal_itself(seal, previous.seal_hash if previous else "")
    if problem is None:
        problems = seal_problems(seal, after_id=previous.last_event_id if previous else None)
        problem = problems[0] if problems else None
    return EventSealStatus(seal, problem)
