"""Writes of the audit log's tamper evidence: sealing new events in blocks and appending
the new seals to the witness file. The hashes themselves are pure functions in
`audit/sealing.py`; reading the evidence back is `audit/verification.py`; the retention
purge is in `audit/services.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditSeal
from audit.sealing import SealBody, events_hash, id_ranges, seal_signature
from audit.witness import WitnessEntry, WitnessError, witness_appender, witness_head, witness_path

MAX_SEALS_PER_RUN = 200


class AuditIntegrityError(Exception):
    """The log does not verify; the requested operation was refused."""


class AuditForgedEventError(AuditIntegrityError):
    """An event about to be sealed does not match its keyed hash. The events before it
    were sealed (`seals`); nothing past it is sealed until someone looks."""

    def __init__(self, event_id: int, seals: list[AuditSeal]):
        self.event_id = event_id
        self.seals = seals
        sealed = f"sealed up to event #{seals[-1].last_event_id}" if seals else "sealed nothing"
        super().__init__(
            f"Event #{event_id} does not match its keyed hash: it was forged or changed. "
            f"Sealing {sealed} and stopped before it; run `manage.py verify_audit`."
        )


def lock_sealing() -> None:
    """One sealer (or purger) at a time. PostgreSQL: a transaction-scoped advisory lock;
    SQLite: the write transaction (BEGIN IMMEDIATE) already serialises writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('agc.audit_sealing'))")


def audit_seal_new_events(
    *,
    now: datetime | None = None,
    margin_seconds: int | None = None,
    max_events: int | None = None,
) -> list[AuditSeal]:
    """Seal the events written since the last seal, in id order, in blocks, then (after
    commit) append the new seals to the witness.

    Only events recorded longer ago than the margin are sealed: an id is taken when a row
    is inserted but becomes visible at commit, so a young id may still be followed by an
    older, not yet committed one. Each event's keyed hash is checked first: a forged event
    is never sealed (AuditForgedEventError names it). Refuses to seal at all when a seal
    written to the witness is gone from the database. Idempotent."""
    config = settings.AUDIT_SEALING
    now = now or timezone.now()
    margin = config["MARGIN_SECONDS"] if margin_seconds is None else margin_seconds
    size = max_events or config["MAX_EVENTS_PER_SEAL"]
    cutoff = now - timedelta(seconds=margin)
    seals: list[AuditSeal] = []
    forged_id = None
    with transaction.atomic():
        lock_sealing()
        last = AuditSeal.objects.order_by("-id").first()
        _check_witness_head()
        for _ in range(MAX_SEALS_PER_RUN):
            pairs, forged_id = _sealable(last.last_event_id if last else 0, cutoff, size)
            if pairs:
                last = _seal_create(pairs, previous=last, now=now)
                seals.append(last)
            if forged_id or not pairs:
                break
        transaction.on_commit(audit_witness_sync)
    if forged_id:
        raise AuditForgedEventError(forged_id, seals)
    return seals


def _sealable(
    after_id: int, cutoff: datetime, size: int
) -> tuple[list[tuple[int, str]], int | None]:
    """The next up to `size` events after `after_id`, stopping at the first too young,
    and the id of the first event whose keyed hash is wrong (sealing stops before it)."""
    from audit.verification import content_valid, event_rows, signing_keys

    keys, pairs = signing_keys(), []
    for row in event_rows(after_id, limit=size):
        if row["recorded_at"] >= cutoff:
            break
        if not content_valid(row, keys):
            return pairs, row["id"]
        pairs.append((row["id"], row["content_hash"]))
    return pairs, None


def _seal_create(pairs: list[tuple[int, str]], *, previous: AuditSeal | None, now) -> AuditSeal:
    ids = [event_id for event_id, _ in pairs]
    body = SealBody(
        first_event_id=ids[0],
        last_event_id=ids[-1],
        event_count=len(ids),
        id_ranges=id_ranges(ids),
        events_hash=events_hash(pairs),
        previous_hash=previous.seal_hash if previous else "",
        created_at=now,
    )
    seal_hash = body.hash()
    return AuditSeal.objects.create(
        first_event_id=body.first_event_id,
        last_event_id=body.last_event_id,
        event_count=body.event_count,
        id_ranges=body.id_ranges,
        events_hash=body.events_hash,
        previous_hash=body.previous_hash,
        seal_hash=seal_hash,
        signature=seal_signature(seal_hash, settings.AUDIT_SIGNING_KEY),
        created_at=now,
    )


def _check_witness_head() -> None:
    """The last seal written to the witness must still be in the database, unchanged;
    otherwise a new chain would be sealed over deleted history, so refuse."""
    path = witness_path()
    try:
        head = witness_head(path) if path else None
    except (WitnessError, OSError) as error:
        raise AuditIntegrityError(
            f"The witness {path} cannot be read ({error}): sealing refused."
        ) from error
    if head is None:
        return
    found = AuditSeal.objects.filter(pk=head.seal_id).values_list("seal_hash", flat=True).first()
    if found != head.seal_hash:
        state = "is missing from the database" if found is None else "differs in the database"
        raise AuditIntegrityError(
            f"Seal #{head.seal_id}, the last one written to the witness, {state}: sealing "
            "refused until the log is investigated (`manage.py verify_audit`)."
        )


def audit_witness_sync() -> int:
    """Append to the witness every seal that the database has and the witness has not
    (normally the ones just sealed; after a crash between commit and write, the ones
    missed too). Each must be signed and follow the witness's last seal: a seal that does
    not is never witnessed. Returns how many were written; 0 without a witness."""
    path = witness_path()
    if path is None:
        return 0
    try:
        return _witness_write(path)
    except (WitnessError, OSError) as error:
        raise AuditIntegrityError(f"Cannot write the witness {path}: {error}") from error


def _witness_write(path) -> int:
    from audit.verification import seal_signed

    with witness_appender(path) as (head, append):
        previous = head.seal_hash if head else None
        entries, refused = [], None
        for seal in AuditSeal.objects.filter(id__gt=head.seal_id if head else 0).order_by("id"):
            if not seal_signed(seal) or previous not in (None, seal.previous_hash):
                refused = seal
                break
            entries.append(_witness_entry(seal))
            previous = seal.seal_hash
        append(entries)
    if refused is not None:
        raise AuditIntegrityError(
            f"Seal #{refused.pk} is not signed or does not follow the last witnessed seal; "
            "it was not written to the witness (`manage.py verify_audit`)."
        )
    return len(entries)


def _witness_entry(seal: AuditSeal) -> WitnessEntry:
    return WitnessEntry(
        seal_id=seal.pk,
        last_event_id=seal.last_event_id,
        seal_hash=seal.seal_hash,
        created_at=seal.created_at.astimezone(UTC).isoformat(),
    )
