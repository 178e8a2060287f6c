"""Verification of the audit log: name the first thing that fails, by id.

In order: the retention purge records (signed, since the events of purged seals are not
checked); the database's seals against the witness written outside it (a deleted or
replaced seal); the chain from the first seal, with every sealed event's keyed hash, ids,
count and order; then every event after the last seal (its keyed hash, and whether sealing
has stopped).

Reads only; used by `manage.py verify_audit`, the integrity page and the event page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from audit.models import AuditEvent, AuditPurge, AuditSeal
from audit.sealing import (
    PurgeBody,
    SealBody,
    event_content_hash,
    events_hash,
    ids_of,
    signature_valid,
)
from audit.witness import WitnessEntry, WitnessError, witness_entries, witness_head, witness_path

CHUNK = 2000
# Below every id the database can assign: the first seal's range starts after it, so an
# event inserted with a zero or negative id is caught as well.
MIN_ID = -(2**63)


@dataclass(frozen=True)
class Problem:
    # event_changed | event_removed | event_inserted | events_reordered | event_forged |
    # seal_altered | seal_missing | chain_broken | purge_forged | witness_missing |
    # witness_unreadable | sealing_stopped
    kind: str
    message: str
    seal_id: int | None = None
    event_id: int | None = None


@dataclass
class Report:
    limit: int = 1
    seals: int = 0
    purged_seals: int = 0
    events: int = 0
    unsealed: int = 0
    witnessed: int = 0
    witness: str = ""
    oldest_unsealed: datetime | None = None
    problems: list[Problem] = field(default_factory=list)
    # Weaknesses that are not tampering (no witness configured, seals not witnessed yet).
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def full(self) -> bool:
        return len(self.problems) >= self.limit

    def add(self, problem: Problem) -> bool:
        """Record a problem; True when the limit is reached and verification stops."""
        self.problems.append(problem)
        return self.full


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


def seal_signed(seal: AuditSeal) -> bool:
    """The seal's hash covers its body and is signed by one of our keys."""
    return _body(seal).hash() == seal.seal_hash and signature_valid(
        seal.seal_hash, seal.signature, signing_keys()
    )


def _seal_itself(seal: AuditSeal, previous_hash: str | None) -> Problem | None:
    """The seal's hash, signature and link to the previous seal."""
    if not seal_signed(seal):
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


def event_rows(
    after_id: int, last_id: int | None = None, *, limit: int | None = None
) -> Iterator[dict]:
    """Events after `after_id` (up to `last_id`, at most `limit`) in id order, with every
    hashed value."""
    fields = ("id", "content_hash", *AuditEvent.HASHED_FIELDS)
    queryset = AuditEvent.objects.filter(id__gt=after_id)
    if last_id is not None:
        queryset = queryset.filter(id__lte=last_id)
    queryset = queryset.order_by("id").values(*fields)
    if limit is not None:
        queryset = queryset[:limit]
    return queryset.iterator(chunk_size=CHUNK)


def content_valid(row: dict, keys: list[str]) -> bool:
    """The row's content hash is the keyed hash (any of `keys`) of its hashed values."""
    content = AuditEvent.hashed_content(row)
    if content is None:  # an unknown hash version
        return False
    return any(event_content_hash(content, key) == row["content_hash"] for key in keys)


def seal_problems(seal: AuditSeal, *, after_id: int | None = None, limit: int = 1) -> list[Problem]:
    """Everything wrong with the events of one seal (at most `limit` problems).

    `after_id` is the previous seal's last event: an event between two seals was inserted."""
    keys = signing_keys()
    expected = set(ids_of(seal.id_ranges))
    start = seal.first_event_id - 1 if after_id is None else after_id
    problems, pairs = [], []
    for row in event_rows(start, seal.last_event_id):
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
        elif not content_valid(row, keys):
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
        # Every event matches its own keyed hash and every sealed id is there, yet the
        # (id, hash) pairs differ from the sealed ones: contents moved between ids.
        problems.append(
            Problem(
                "events_reordered",
                f"The events of seal #{seal.pk} (#{seal.first_event_id} to "
                f"#{seal.last_event_id}) each match their own hash but are not the events "
                "sealed under those ids: events were swapped, reordered or replaced by copies.",
                seal.pk,
            )
        )
    return problems[:limit]


def audit_verify(*, limit: int = 1, now: datetime | None = None) -> Report:
    """Verify the whole log (see the module docstring); stop after `limit` problems."""
    report = Report(limit=limit)
    last_seal = AuditSeal.objects.order_by("-id").first()
    last_sealed_id = last_seal.last_event_id if last_seal else MIN_ID
    report.unsealed = AuditEvent.objects.filter(id__gt=last_sealed_id).count()
    purged_through = _verify_purges(report)
    if not report.full:
        _verify_witness(report)
    if not report.full:
        _verify_chain(report, purged_through)
    if not report.full:
        _verify_unsealed(report, last_sealed_id, now or timezone.now())
    return report


def _verify_purges(report: Report) -> int:
    """Check each purge record's signature; the last seal purged by a genuine one."""
    keys, purged_through = signing_keys(), 0
    seal_hashes = dict(
        AuditSeal.objects.filter(pk__in=AuditPurge.objects.values("through_seal_id")).values_list(
            "id", "seal_hash"
        )
    )
    for purge in AuditPurge.objects.order_by("id"):
        body = PurgeBody(
            through_seal_id=purge.through_seal_id,
            through_seal_hash=seal_hashes.get(purge.through_seal_id, ""),
            before=purge.before,
            deleted=purge.deleted,
            actor=purge.actor,
            created_at=purge.created_at,
        )
        if signature_valid(body.hash(), purge.signature, keys):
            purged_through = max(purged_through, purge.through_seal_id)
            continue
        message = (
            f"Purge record #{purge.pk} (through seal #{purge.through_seal_id}) is not signed "
            "with the audit key: it was forged or altered, perhaps to hide deleted events."
        )
        if report.add(Problem("purge_forged", message, purge.through_seal_id)):
            break
    return purged_through


def _verify_witness(report: Report) -> None:
    """Every seal written to the witness must be in the database, unchanged."""
    path = witness_path()
    if path is None:
        report.warnings.append(
            "No witness is configured (AUDIT_WITNESS_PATH): if the newest seals and the "
            "events they cover were deleted, nothing would show it."
        )
        return
    report.witness = str(path)
    try:
        entries = witness_entries(path)
    except (WitnessError, OSError) as error:
        report.add(Problem("witness_unreadable", f"The witness {path} cannot be read: {error}"))
        return
    seals = {
        seal_id: (seal_hash, last_event_id)
        for seal_id, seal_hash, last_event_id in AuditSeal.objects.values_list(
            "id", "seal_hash", "last_event_id"
        )
    }
    if not entries:
        if seals:
            report.add(_witness_missing(path, len(seals)))
        return
    for entry in entries:
        problem = _witness_entry_problem(entry, seals.get(entry.seal_id))
        if problem and report.add(problem):
            return
    witnessed = {entry.seal_id for entry in entries}
    report.witnessed = len(witnessed & seals.keys())
    head = max(witnessed)
    newer = sum(1 for seal_id in seals if seal_id > head)
    if newer:
        report.warnings.append(
            f"{newer} seal(s) after seal #{head} are not in the witness yet; the next sealing "
            "run writes them."
        )


def _witness_missing(path, count: int) -> Problem:
    return Problem(
        "witness_missing",
        f"The witness {path} holds no seal but the database has {count}: the witness was "
        "lost or emptied (if it was only just configured, `manage.py seal_audit` writes it).",
    )


def _witness_entry_problem(entry, found: tuple[str, int] | None) -> Problem | None:
    when = entry.created_at[:19].replace("T", " ")
    if found is None:
        return Problem(
            "seal_missing",
            f"Seal #{entry.seal_id} (events up to #{entry.last_event_id}, sealed {when} UTC) "
            "is in the witness but missing from the database: it was deleted, with or "
            "without the events it covered.",
            entry.seal_id,
        )
    if found != (entry.seal_hash, entry.last_event_id):
        return Problem(
            "seal_altered",
            f"Seal #{entry.seal_id} in the database differs from the one written to the "
            f"witness ({when} UTC): it was replaced.",
            entry.seal_id,
        )
    return None


def _verify_chain(report: Report, purged_through: int) -> None:
    """Walk the seals in order: each signed and chained, each one's events intact."""
    previous_hash, previous_last = "", MIN_ID
    for seal in AuditSeal.objects.order_by("id").iterator():
        report.seals += 1
        problem = _seal_itself(seal, previous_hash)
        if problem:
            report.problems.append(problem)
        elif seal.pk <= purged_through:
            report.purged_seals += 1  # its events were removed on purpose
            report.problems += _purged_range_problems(seal, previous_last)
        else:
            report.problems += seal_problems(
                seal, after_id=previous_last, limit=report.limit - len(report.problems)
            )
            report.events += seal.event_count
        if report.full:
            return
        previous_hash, previous_last = seal.seal_hash, seal.last_event_id


def _purged_range_problems(seal: AuditSeal, after_id: int) -> list[Problem]:
    """A purged seal's range must stay empty: an event there was inserted afterwards."""
    event_id = (
        AuditEvent.objects.filter(id__gt=after_id, id__lte=seal.last_event_id)
        .values_list("id", flat=True)
        .first()
    )
    if event_id is None:
        return []
    message = f"Event #{event_id} is in a range purged by retention: it was inserted afterwards."
    return [Problem("event_inserted", message, seal.pk, event_id)]


def _verify_unsealed(report: Report, after_id: int, now: datetime) -> None:
    """Events after the last seal: each matches its keyed hash, and none is older than
    AUDIT_MAX_UNSEALED_MINUTES (else sealing has stopped)."""
    keys, oldest = signing_keys(), None
    for row in event_rows(after_id):
        if not content_valid(row, keys):
            message = (
                f"Event #{row['id']} (not sealed yet) does not match its keyed hash: it was "
                "forged or changed."
            )
            if report.add(Problem("event_forged", message, event_id=row["id"])):
                return
        elif oldest is None or row["recorded_at"] < oldest[1]:
            oldest = (row["id"], row["recorded_at"])
    if oldest is None:
        return
    report.oldest_unsealed = oldest[1]
    minutes = settings.AUDIT_MAX_UNSEALED_MINUTES
    if oldest[1] < now - timedelta(minutes=minutes):
        report.add(_sealing_stopped(*oldest, minutes))


def _sealing_stopped(event_id: int, recorded_at: datetime, minutes: int) -> Problem:
    written = recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return Problem(
        "sealing_stopped",
        f"Event #{event_id}, written {written} UTC, is still not sealed more than {minutes} "
        "minutes later: sealing has stopped (is Celery beat running? `manage.py seal_audit` "
        "seals by hand).",
        event_id=event_id,
    )


@dataclass(frozen=True)
class EventSealStatus:
    seal: AuditSeal | None
    problem: Problem | None

    @property
    def verified(self) -> bool:
        return self.seal is not None and self.problem is None


def event_seal_status(event: AuditEvent) -> EventSealStatus:
    """Is this event inside a seal, and does that seal (and the event) verify? An event
    not sealed yet is checked against its own keyed hash."""
    seal = AuditSeal.objects.filter(
        first_event_id__lte=event.pk, last_event_id__gte=event.pk
    ).first()
    if seal is None:
        row = next(event_rows(event.pk - 1, event.pk), None)
        if row is not None and not content_valid(row, signing_keys()):
            message = f"Event #{event.pk} does not match its keyed hash: it was forged or changed."
            return EventSealStatus(None, Problem("event_forged", message, event_id=event.pk))
        return EventSealStatus(None, None)
    previous = AuditSeal.objects.filter(pk__lt=seal.pk).order_by("-pk").first()
    problem = _seal_itself(seal, previous.seal_hash if previous else "")
    if problem is None:
        problems = seal_problems(seal, after_id=previous.last_event_id if previous else None)
        problem = problems[0] if problems else None
    return EventSealStatus(seal, problem)


@dataclass(frozen=True)
class IntegrityOverview:
    """What the integrity page shows before anyone runs a verification (cheap reads)."""

    seal_count: int
    last_seal: AuditSeal | None
    unsealed: int
    oldest_unsealed: datetime | None
    max_unsealed_minutes: int
    witness: str
    witness_head: WitnessEntry | None
    witness_error: str

    @property
    def sealing_late(self) -> bool:
        limit = timedelta(minutes=self.max_unsealed_minutes)
        return self.oldest_unsealed is not None and self.oldest_unsealed < timezone.now() - limit


def integrity_overview() -> IntegrityOverview:
    last_seal = AuditSeal.objects.order_by("-id").first()
    unsealed = AuditEvent.objects.filter(id__gt=last_seal.last_event_id if last_seal else MIN_ID)
    path, head, error = witness_path(), None, ""
    if path:
        try:
            head = witness_head(path)
        except (WitnessError, OSError) as problem:
            error = str(problem)
    return IntegrityOverview(
        seal_count=AuditSeal.objects.count(),
        last_seal=last_seal,
        unsealed=unsealed.count(),
        oldest_unsealed=unsealed.aggregate(oldest=Min("recorded_at"))["oldest"],
        max_unsealed_minutes=settings.AUDIT_MAX_UNSEALED_MINUTES,
        witness=str(path or ""),
        witness_head=head,
        witness_error=error,
    )
